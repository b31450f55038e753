"""conditional_acceptance, conditional_rejection, treatment_equality: per-group metrics whose
differences are SageMaker Clarify's DCA, DCR and TE."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa

post = pytest.importorskip("smclarify.bias.metrics.posttraining")

METRICS = ["conditional_acceptance", "conditional_rejection", "treatment_equality"]


@pytest.mark.parametrize("name", ["adult", "compas", "german"])
def test_differences_are_clarify_dca_dcr_te(name):
    ds = getattr(fa.datasets, f"load_{name}")()
    rule = {
        "adult": lambda f: f["education_num"] >= 13,
        "compas": lambda f: f["decile_score"] >= 5,
        "german": lambda f: f["duration"] <= 24,
    }[name]
    pred = np.asarray(rule(ds.frame), dtype=int)
    sex = pd.Series(np.asarray(ds.frame["sex"], dtype=object))
    gm = fa.group_metrics(ds.y, pred, sensitive_features=sex.rename("sex"), metrics=METRICS)
    v = gm.by_group
    d, a = sorted(sex.unique())  # female/Female is the facet d, the other sex the rest a
    facet = sex == d
    y, p = pd.Series(np.asarray(ds.y) == 1), pd.Series(pred == 1)
    feature = pd.Series(pred)
    # Clarify: DCA = c_a - c_d, DCR = r_d - r_a, TE = tau_d - tau_a
    assert post.DCA(feature, facet, y, p) == pytest.approx(
        v.loc[a, "conditional_acceptance"] - v.loc[d, "conditional_acceptance"], rel=1e-12
    )
    assert post.DCR(feature, facet, y, p) == pytest.approx(
        v.loc[d, "conditional_rejection"] - v.loc[a, "conditional_rejection"], rel=1e-12
    )
    assert post.TE(feature, facet, y, p) == pytest.approx(
        v.loc[d, "treatment_equality"] - v.loc[a, "treatment_equality"], rel=1e-12
    )


def test_count_ratios_get_bootstrap_intervals_in_range():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    pred = np.where(rng.random(3000) < 0.8, y, 1 - y)
    g = rng.choice(["a", "b", "c"], 3000)
    gm = fa.group_metrics(
        y, pred, sensitive_features=g, metrics=METRICS, n_boot=300, random_state=1
    )
    assert gm.interval_methods["treatment_equality"] == "bootstrap-percentile"
    for m in METRICS:
        lo, hi = gm.ci[(m, "lower")], gm.ci[(m, "upper")]
        assert (lo >= 0).all()
        assert (lo <= gm.by_group[m]).all()
        assert (gm.by_group[m] <= hi).all()
        assert (hi > lo).all()
    assert not fa.metrics.METRIC_REGISTRY["treatment_equality"].is_rate
    assert fa.metrics.METRIC_REGISTRY["selection_rate"].is_rate


def test_undefined_without_false_positives():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = fa.group_metrics(
            [1, 1, 0, 0], [0, 1, 0, 0], sensitive_features=["a"] * 4, metrics=["treatment_equality"]
        )
    assert np.isnan(gm.by_group.loc["a", "treatment_equality"])  # FN = 1, FP = 0: NaN, not inf
