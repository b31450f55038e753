"""fa.compare / fa.compare_predictions: research vs production through real HTTP, TOST, coverage."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

import fairaudit as fa
from fairaudit.models import Endpoint


def exact_mcnemar_by_hand(b: int, c: int) -> float:
    n = b + c
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n)


def test_research_and_production_are_equivalent(adult_server, adult_model, adult_test):
    X, y = adult_test
    production = Endpoint(adult_server + "/predict", label="label", score="score")
    cmp = fa.compare(
        adult_model,
        production,
        X,
        y,
        sensitive_features="sex",
        tolerance=0.01,
        n_boot=300,
        random_state=0,
    )
    assert cmp.agreement == 1.0
    assert cmp.score_max_abs_diff == 0.0
    assert cmp.passed is True
    assert (cmp.differences["difference"] == 0).all()
    assert (cmp.differences["p_value"] == 1.0).all()
    assert cmp.models["b"]["endpoint"]["url"] == adult_server + "/predict"


def test_a_threshold_moved_by_005_is_not_equivalent(adult_model, adult_test):
    X, y = adult_test

    def moved(X):
        return (adult_model.predict_proba(X)[:, 1] > 0.55).astype(int)

    same = fa.compare(
        adult_model,
        adult_model,
        X,
        y,
        sensitive_features="sex",
        tolerance=0.01,
        n_boot=300,
        random_state=0,
    )
    assert same.passed is True
    assert same.agreement == 1.0
    cmp = fa.compare(
        adult_model,
        fa.wrap(moved),
        X,
        y,
        sensitive_features="sex",
        tolerance=0.01,
        n_boot=300,
        random_state=0,
    )
    assert cmp.passed is False
    assert cmp.agreement < 1.0
    sel = cmp.differences.set_index(["metric", "group"]).loc[("selection_rate", "(all rows)")]
    assert sel["difference"] < 0  # a higher threshold selects fewer
    assert sel["upper"] < 0
    assert sel["p_value"] < 0.05
    assert not sel["equivalent"]


def test_differences_and_tests_against_hand_computations(rng):
    n = 600
    s = rng.choice(["f", "m", "x"], n, p=[0.4, 0.5, 0.1])
    y = rng.integers(0, 2, n)
    a = rng.integers(0, 2, n)
    b = np.where(rng.random(n) < 0.2, 1 - a, a)
    cmp = fa.compare_predictions(
        y,
        a,
        b,
        sensitive_features=s,
        n_boot=200,
        random_state=0,
        metrics=["selection_rate", "true_positive_rate", "precision"],
    )
    frame = pd.DataFrame({"s": s, "y": y, "a": a, "b": b})
    diffs = cmp.differences.set_index(["metric", "group"])
    for g, part in frame.groupby("s"):
        sel = diffs.loc[("selection_rate", g)]
        assert sel["difference"] == pytest.approx(part["b"].mean() - part["a"].mean(), abs=1e-15)
        up = int(((part["a"] == 0) & (part["b"] == 1)).sum())
        down = int(((part["a"] == 1) & (part["b"] == 0)).sum())
        assert sel["p_value"] == pytest.approx(exact_mcnemar_by_hand(up, down), rel=1e-12)
        pos = part[part["y"] == 1]
        tpr = diffs.loc[("true_positive_rate", g)]
        assert tpr["difference"] == pytest.approx(pos["b"].mean() - pos["a"].mean(), abs=1e-15)
        up = int(((pos["a"] == 0) & (pos["b"] == 1)).sum())
        down = int(((pos["a"] == 1) & (pos["b"] == 0)).sum())
        assert tpr["p_value"] == pytest.approx(exact_mcnemar_by_hand(up, down), rel=1e-12)
        prec = diffs.loc[("precision", g)]
        expected = part.loc[part["b"] == 1, "y"].mean() - part.loc[part["a"] == 1, "y"].mean()
        assert prec["difference"] == pytest.approx(expected, abs=1e-15)
        assert prec["test"] == "bootstrap"
        assert cmp.by_group.loc[g, "agreement"] == (part["a"] == part["b"]).mean()
    np.testing.assert_allclose(
        cmp.differences["p_value_adjusted"],
        false_discovery_control(cmp.differences["p_value"]),
        rtol=1e-12,
    )


@pytest.mark.slow
def test_paired_bootstrap_intervals_cover_the_truth_at_the_nominal_rate():
    # two groups with known (y, a, b) cell probabilities; draw tables, compare, count coverage
    rng = np.random.default_rng(12345)
    probs = {
        "g1": np.array([0.30, 0.04, 0.02, 0.04, 0.06, 0.04, 0.05, 0.45]),
        "g2": np.array([0.40, 0.06, 0.03, 0.11, 0.05, 0.05, 0.10, 0.20]),
    }
    sizes = {"g1": 300, "g2": 200}

    def truth(p, metric):
        c = p.reshape(2, 2, 2)  # y, a, b
        if metric == "selection_rate":
            return c[:, :, 1].sum() - c[:, 1, :].sum()
        return (c[1, :, 1].sum() - c[1, 1, :].sum()) / c[1].sum()

    n_sims, hits = 200, {"selection_rate": 0, "true_positive_rate": 0}
    for _ in range(n_sims):
        parts = []
        for g, p in probs.items():
            cells = rng.multinomial(sizes[g], p)
            k = np.repeat(np.arange(8), cells)
            parts.append(pd.DataFrame({"s": g, "y": k // 4, "a": (k // 2) % 2, "b": k % 2}))
        rows = pd.concat(parts, ignore_index=True)
        cmp = fa.compare_predictions(
            rows["y"],
            rows["a"],
            rows["b"],
            sensitive_features=rows["s"],
            metrics=list(hits),
            n_boot=400,
            random_state=rng,
        )
        d = cmp.differences.set_index(["metric", "group"])
        for metric in hits:
            for g, p in probs.items():
                lo, hi = d.loc[(metric, g), ["lower", "upper"]]
                hits[metric] += lo <= truth(p, metric) <= hi
    for metric, count in hits.items():
        coverage = count / (n_sims * len(probs))
        print(f"coverage of {metric}: {coverage:.3f}")
        # nominal 0.95; 400 intervals per metric: a binomial SE of 0.011
        assert 0.92 <= coverage <= 0.98, (metric, coverage)


def test_result_contract(adult_model, adult_test, pyplot):
    X, y = adult_test
    cmp = fa.compare(
        adult_model,
        adult_model,
        X.iloc[:300],
        y.iloc[:300],
        sensitive_features="sex",
        n_boot=100,
        tolerance=0.02,
        random_state=0,
    )
    assert repr(cmp).startswith("ComparisonResult(agreement=1.0000, n_samples=300")
    frame = cmp.to_frame()
    assert list(frame.columns) == [
        "metric",
        "group",
        "count",
        "value_a",
        "value_b",
        "difference",
        "lower",
        "upper",
        "p_value",
        "p_value_adjusted",
        "test",
        "equivalent",
    ]
    assert len(frame) == 4 * 3  # four metrics x (Female, Male, all rows)
    data = json.loads(json.dumps(cmp.to_dict()))
    assert data["kind"] == "comparison"
    assert data["passed"] is True
    assert "<table" in cmp._repr_html_()
    assert cmp.plot() is not None
    html = fa.Report(title="cmp").add(cmp).to_html()
    assert "Comparison of two models" in html


def test_compare_bad_input():
    y, a, b, s = [0, 1, 1], [0, 1, 1], [0, 1, 0], ["f", "m", "m"]
    with pytest.raises(
        fa.exceptions.DataError,
        match="inputs of different lengths: y_true has 3, pred_a has 3, pred_b has 2",
    ):
        fa.compare_predictions(y, a, b[:2], sensitive_features=s)
    with pytest.raises(ValueError, match=r"tolerance needs intervals: pass n_boot > 0"):
        fa.compare_predictions(y, a, b, sensitive_features=s, n_boot=0, tolerance=0.01)
    with pytest.raises(
        ValueError, match=r"'selection_rat' is not a count metric .*Did you mean 'selection_rate'"
    ):
        fa.compare_predictions(y, a, b, sensitive_features=s, metrics=["selection_rat"])
    with pytest.raises(ValueError, match="tolerance must be a number > 0"):
        fa.compare_predictions(y, a, b, sensitive_features=s, tolerance=-1)
    with pytest.raises(ValueError, match="pass both score_a and score_b"):
        fa.compare_predictions(y, a, b, sensitive_features=s, score_a=[0.1, 0.2, 0.3])
    with pytest.raises(fa.exceptions.DataError, match="pred_b has missing values at rows"):
        fa.compare_predictions(y, a, [0, None, 1], sensitive_features=s)


def test_summary_names_each_difference_its_interval_test_and_largest_group():
    y = [1, 0, 1, 0, 1, 0, 1, 0]
    a = [1, 0, 1, 0, 1, 0, 0, 1]
    b = [1, 0, 1, 1, 1, 0, 0, 1]
    s = ["f", "f", "f", "f", "m", "m", "m", "m"]
    cmp = fa.compare_predictions(y, a, b, sensitive_features=s, n_boot=0)
    lines = cmp.to_dict()["summary"]
    assert lines[0] == "The two models agree on 87.50% of 8 rows."
    # one row of f moves from 0 to 1: +1/8 over all rows, +1/4 in f; McNemar on 1 discordant row
    assert lines[1] == (
        "selection_rate: b - a = +0.125 over all rows (p = 1, mcnemar exact); "
        "largest in a group: +0.25 for f (4 rows)."
    )
    same = fa.compare_predictions(y, a, a, sensitive_features=s, n_boot=50, random_state=0)
    assert "accuracy: b - a = 0 over all rows (95% CI 0 to 0; p = 1, mcnemar exact); " in (
        "\n".join(same.to_dict()["summary"])
    )
    assert all(line.endswith("0 in every group.") for line in same.to_dict()["summary"][1:])
