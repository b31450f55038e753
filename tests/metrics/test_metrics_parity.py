"""Parity with fairlearn's MetricFrame and aif360.sklearn.metrics on Adult and COMPAS to 1e-12.

A logistic-regression pipeline (tests/metrics/conftest.py) makes real predictions; the same
inputs go through fairaudit and the peers in one process.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.metrics import disparate_impact

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
skm = pytest.importorskip("sklearn.metrics")

ATOL = 1e-12

LABEL_METRICS = [
    "selection_rate",
    "base_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "negative_predictive_value",
    "accuracy",
    "balanced_accuracy",
]


def _base_rate(y_true, y_pred, sample_weight=None):
    return np.average(np.asarray(y_true) == 1, weights=sample_weight)


def _peer_functions():
    return {
        "selection_rate": fairlearn_metrics.selection_rate,
        "base_rate": _base_rate,
        "true_positive_rate": fairlearn_metrics.true_positive_rate,
        "false_positive_rate": fairlearn_metrics.false_positive_rate,
        "false_negative_rate": fairlearn_metrics.false_negative_rate,
        "true_negative_rate": fairlearn_metrics.true_negative_rate,
        "precision": lambda t, p, sample_weight=None: skm.precision_score(
            t, p, sample_weight=sample_weight, zero_division=np.nan
        ),
        "negative_predictive_value": lambda t, p, sample_weight=None: skm.precision_score(
            t, p, pos_label=0, sample_weight=sample_weight, zero_division=np.nan
        ),
        "accuracy": skm.accuracy_score,
        "balanced_accuracy": skm.balanced_accuracy_score,
    }


def _metric_frame(funcs, y_true, y_pred, sensitive, weight):
    sample_params = None
    if weight is not None:
        sample_params = {name: {"sample_weight": weight} for name in funcs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peers' own warnings about empty groups
        return fairlearn_metrics.MetricFrame(
            metrics=funcs,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=sensitive,
            sample_params=sample_params,
        )


def _ours(data, sensitive, weight, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small groups and undefined values are tested elsewhere
        return fa.group_metrics(
            data.y_true,
            data.y_pred,
            sensitive_features=sensitive,
            sample_weight=weight,
            **kwargs,
        )


CASES = [
    pytest.param("adult", ["sex", "race"], True, id="adult-sex-race-weighted"),
    pytest.param("compas", ["race"], False, id="compas-race"),
    pytest.param("compas", ["sex", "race"], True, id="compas-sex-race-weighted"),
]


@pytest.mark.parametrize(("dataset", "columns", "weighted"), CASES)
def test_by_group_overall_difference_ratio_match_metricframe(request, dataset, columns, weighted):
    data = request.getfixturevalue(dataset)
    sensitive = data.sensitive[columns]
    weight = data.weight if weighted else None
    gm = _ours(data, sensitive, weight, metrics=LABEL_METRICS)
    mf = _metric_frame(_peer_functions(), data.y_true, data.y_pred, sensitive, weight)

    peer = mf.by_group
    if len(columns) == 1:
        peer.index = peer.index.astype(object)
    peer = peer.reindex(gm.by_group.index)
    assert not peer.isna().all(axis=1).any(), "group labels differ from the peer's"
    ours = gm.by_group[LABEL_METRICS].to_numpy(float)
    theirs = peer[LABEL_METRICS].to_numpy(float)
    defined = np.isfinite(ours)
    # fairlearn reports a rate with a zero denominator as 0 or 1; fairaudit as NaN (with a
    # warning). Check that NaN appears exactly where a denominator is zero.
    counts = gm.counts()
    positives = (counts["tp"] + counts["fn"]).to_numpy()
    negatives = (counts["tn"] + counts["fp"]).to_numpy()
    tpr = LABEL_METRICS.index("true_positive_rate")
    fpr = LABEL_METRICS.index("false_positive_rate")
    np.testing.assert_array_equal(~defined[:, tpr], positives == 0)
    np.testing.assert_array_equal(~defined[:, fpr], negatives == 0)
    np.testing.assert_allclose(ours[defined], theirs[defined], rtol=0, atol=ATOL)
    # aggregates: compare the metrics that every group defines
    full = [m for j, m in enumerate(LABEL_METRICS) if defined[:, j].all()]
    assert len(full) >= 3
    np.testing.assert_allclose(
        gm.overall[LABEL_METRICS].to_numpy(float),
        mf.overall[LABEL_METRICS].to_numpy(float),
        rtol=0,
        atol=ATOL,
    )
    for method in ("between_groups", "to_overall"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer_diff = mf.difference(method=method)[full]
            peer_ratio = mf.ratio(method=method)[full]
        # fairlearn compares every group: include those below min_group_size
        np.testing.assert_allclose(
            gm.difference(method=method, include_small=True)[full].to_numpy(float),
            peer_diff.to_numpy(float),
            rtol=0,
            atol=ATOL,
        )
        np.testing.assert_allclose(
            gm.ratio(method=method, include_small=True)[full].to_numpy(float),
            peer_ratio.to_numpy(float),
            rtol=0,
            atol=ATOL,
        )
    # the group counts are the peer's count metric
    counts = _metric_frame(
        {"count": fairlearn_metrics.count}, data.y_true, data.y_pred, sensitive, None
    ).by_group
    if len(columns) == 1:
        counts.index = counts.index.astype(object)
    np.testing.assert_array_equal(
        gm.by_group["count"].to_numpy(), counts.reindex(gm.by_group.index)["count"].to_numpy()
    )


@pytest.mark.parametrize(("dataset", "columns", "weighted"), CASES)
def test_score_metrics_match_sklearn_via_metricframe(request, dataset, columns, weighted):
    data = request.getfixturevalue(dataset)
    sensitive = data.sensitive[columns]
    weight = data.weight if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = fa.group_metrics(
            data.y_true,
            data.y_pred,
            y_score=data.y_score,
            sensitive_features=sensitive,
            sample_weight=weight,
            metrics=["roc_auc", "brier_score"],
        )

    def auc(t, s, sample_weight=None):
        if len(np.unique(t)) < 2:
            return np.nan
        return skm.roc_auc_score(t, s, sample_weight=sample_weight)

    mf = _metric_frame(
        {"roc_auc": auc, "brier_score": skm.brier_score_loss},
        data.y_true,
        data.y_score,
        sensitive,
        weight,
    )
    peer = mf.by_group
    if len(columns) == 1:
        peer.index = peer.index.astype(object)
    peer = peer.reindex(gm.by_group.index)
    for metric in ("roc_auc", "brier_score"):
        np.testing.assert_allclose(
            gm.by_group[metric].to_numpy(float),
            peer[metric].to_numpy(float),
            rtol=0,
            atol=ATOL,
        )
        np.testing.assert_allclose(gm.overall[metric], float(mf.overall[metric]), rtol=0, atol=ATOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_fairlearn_functions_match(compas, weighted):
    weight = compas.weight if weighted else None
    sensitive = compas.sensitive[["sex"]]
    pairs = [
        (fa.metrics.demographic_parity_difference, fairlearn_metrics.demographic_parity_difference),
        (fa.metrics.demographic_parity_ratio, fairlearn_metrics.demographic_parity_ratio),
        (fa.metrics.equalized_odds_difference, fairlearn_metrics.equalized_odds_difference),
        (fa.metrics.equalized_odds_ratio, fairlearn_metrics.equalized_odds_ratio),
        (fa.metrics.equal_opportunity_difference, fairlearn_metrics.equal_opportunity_difference),
        (fa.metrics.equal_opportunity_ratio, fairlearn_metrics.equal_opportunity_ratio),
    ]
    for ours, theirs in pairs:
        for method in ("between_groups", "to_overall"):
            kwargs = {"sensitive_features": sensitive, "method": method, "sample_weight": weight}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = theirs(compas.y_true, compas.y_pred, **kwargs)
            got = ours(compas.y_true, compas.y_pred, **kwargs)
            assert got == pytest.approx(expected, abs=ATOL), (ours.__name__, method)


# --- aif360 ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aif_metrics():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("aif360.sklearn.metrics")


def _indexed(y, sensitive):
    return pd.Series(np.asarray(y), index=pd.MultiIndex.from_frame(sensitive.astype(object)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dataset", ["adult", "compas"])
def test_binary_sex_matches_aif360(request, aif_metrics, dataset, weighted):
    data = request.getfixturevalue(dataset)
    sensitive = data.sensitive[["sex"]]
    weight = data.weight if weighted else None
    gm = _ours(data, sensitive, weight, metrics=LABEL_METRICS)
    y = _indexed(data.y_true, sensitive)
    kw = {"prot_attr": "sex", "priv_group": "Male", "pos_label": 1, "sample_weight": weight}
    bg = gm.by_group
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spd = aif_metrics.statistical_parity_difference(y, data.y_pred, **kw)
        dir_ = aif_metrics.disparate_impact_ratio(y, data.y_pred, **kw)
        eod = aif_metrics.equal_opportunity_difference(y, data.y_pred, **kw)
        aod = aif_metrics.average_odds_difference(y, data.y_pred, **kw)
    sr = bg["selection_rate"]
    tpr = bg["true_positive_rate"]
    fpr = bg["false_positive_rate"]
    assert sr["Female"] - sr["Male"] == pytest.approx(spd, abs=ATOL)
    di = disparate_impact(
        data.y_true,
        data.y_pred,
        sensitive_features=sensitive,
        reference_group="Male",
        sample_weight=weight,
    )
    assert di == pytest.approx(dir_, abs=ATOL)
    assert gm.ratio(reference_group="Male")["selection_rate"] == pytest.approx(dir_, abs=ATOL)
    assert tpr["Female"] - tpr["Male"] == pytest.approx(eod, abs=ATOL)
    expected_aod = ((fpr["Female"] - fpr["Male"]) + (tpr["Female"] - tpr["Male"])) / 2
    assert expected_aod == pytest.approx(aod, abs=ATOL)


@pytest.mark.parametrize("dataset", ["adult", "compas"])
def test_intersectional_counts_match_aif360(request, aif_metrics, dataset):
    """aif360 pools every non-reference group; the same pooling of our count table agrees."""
    data = request.getfixturevalue(dataset)
    sensitive = data.sensitive[["sex", "race"]]
    gm = _ours(data, sensitive, data.weight, metrics=["selection_rate", "true_positive_rate"])
    counts = gm.counts()
    y = _indexed(data.y_true, sensitive)
    checked = 0
    for group in gm.by_group.index:
        if gm.by_group.loc[group, "count"] < 30:
            continue
        kw = {
            "prot_attr": ["sex", "race"],
            "priv_group": group,
            "pos_label": 1,
            "sample_weight": data.weight,
        }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spd = aif_metrics.statistical_parity_difference(y, data.y_pred, **kw)
            eod = aif_metrics.equal_opportunity_difference(y, data.y_pred, **kw)
        others = counts.drop(index=[group]).sum()
        sr_others = (others["tp"] + others["fp"]) / others[["tn", "fp", "fn", "tp"]].sum()
        tpr_others = others["tp"] / (others["tp"] + others["fn"])
        assert sr_others - gm.by_group.loc[group, "selection_rate"] == pytest.approx(spd, abs=ATOL)
        assert tpr_others - gm.by_group.loc[group, "true_positive_rate"] == pytest.approx(
            eod, abs=ATOL
        )
        checked += 1
    assert checked >= 4
