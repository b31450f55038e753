"""fa.metrics.drift: tests against scipy, BH by hand, type I error by simulation, power."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, fisher_exact

import fairaudit as fa
from fairaudit.exceptions import DataError


def _gm(pred, groups, y_true=None, **kw):
    pred = np.asarray(pred)
    y = np.zeros(len(pred), int) if y_true is None else y_true
    kw.setdefault("metrics", ["selection_rate"])
    kw.setdefault("min_group_size", 1)
    return fa.group_metrics(y, pred, sensitive_features=groups, **kw)


def _drift(a, b, **kw):
    kw.setdefault("metrics", ["selection_rate"])
    return fa.metrics.drift(a, b, **kw)


def _draw(rng, sizes, rates):
    groups = np.repeat([f"g{i:03d}" for i in range(len(sizes))], sizes)
    pred = (rng.random(len(groups)) < np.repeat(rates, sizes)).astype(int)
    return pred, pd.Series(groups, name="group")


def test_p_values_match_scipy_chi_square_and_fisher(rng):
    sizes = [400, 300, 12, 9]
    pa, ga = _draw(rng, sizes, [0.3, 0.5, 0.1, 0.05])
    pb, gb = _draw(rng, sizes, [0.35, 0.5, 0.1, 0.1])
    d = _drift(_gm(pa, ga), _gm(pb, gb), n_boot=0)
    frame = d.to_frame()
    assert frame["test"].tolist() == ["z", "z", "fisher_exact", "fisher_exact"]
    for row in frame.itertuples():
        xa = int(pa[ga == row.group].sum())
        xb = int(pb[gb == row.group].sum())
        na, nb = int((ga == row.group).sum()), int((gb == row.group).sum())
        table = [[xa, na - xa], [xb, nb - xb]]
        if row.test == "z":
            expected = chi2_contingency(table, correction=False).pvalue
        else:
            expected = fisher_exact(table).pvalue
        assert row.p_value == pytest.approx(expected, rel=1e-9)
        assert row.value_b - row.value_a == pytest.approx(row.change)
        assert (row.n_a, row.n_b) == (na, nb)
    # Benjamini-Hochberg by hand: p_(i) * m / i, then the running minimum from the top
    p = frame["p_value"].to_numpy()
    order = np.argsort(p)
    m = len(p)
    adjusted = np.empty(m)
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        adjusted[i] = running
    np.testing.assert_allclose(frame["p_value_adjusted"], adjusted)


@pytest.mark.slow
def test_type_one_error_holds_at_the_nominal_level():
    # 40 pairs of tables drawn from the same rates: 2,000 z-tests (groups of 2,000 rows) and
    # 1,000 Fisher tests (groups of 15 rows), all under no change.
    rng = np.random.default_rng(12345)
    z_rejections = fisher_rejections = families_flagged = 0
    reps, n_groups = 40, 50
    for _ in range(reps):
        sizes = [2000] * n_groups + [15] * (n_groups // 2)
        rates = rng.uniform(0.1, 0.6, size=len(sizes))
        pa, ga = _draw(rng, sizes, rates)
        pb, gb = _draw(rng, sizes, rates)
        frame = _drift(_gm(pa, ga), _gm(pb, gb), n_boot=0).to_frame()
        z = frame["test"] == "z"
        z_rejections += int((frame.loc[z, "p_value"] < 0.05).sum())
        fisher_rejections += int((frame.loc[~z & frame["p_value"].notna(), "p_value"] < 0.05).sum())
        families_flagged += int(frame["flagged"].any())
    n_tests = reps * n_groups
    # binomial standard error at 5% over 2,000 tests: 0.0049; allow three of them
    assert abs(z_rejections / n_tests - 0.05) < 3 * 0.0049, z_rejections
    assert fisher_rejections / (n_tests / 2) < 0.05 + 3 * 0.0069  # Fisher is conservative
    # BH under the global null flags any group in at most alpha of the families (+ noise)
    assert families_flagged / reps <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / reps)


@pytest.mark.slow
def test_a_planted_change_of_005_at_20k_rows_per_window_is_detected(tmp_path):
    # 10 seeded runs: window 0 has selection rates a 0.40, b 0.30; in window 1 b moves to 0.35
    b_flagged = a_flagged = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        path = tmp_path / f"s{seed}.db"
        with fa.monitor.FairnessMonitor(path, sensitive_features=["sex"], window=20_000) as mon:
            for rate_b in (0.30, 0.35):
                g = rng.choice(["a", "b"], size=20_000)
                pred = (rng.random(20_000) < np.where(g == "a", 0.40, rate_b)).astype(int)
                mon.update(pred, {"sex": g})
            moved = mon.drift(1, against="previous", n_boot=200 if seed == 0 else 0, random_state=0)
        flagged = set(moved.flagged["group"])
        b_flagged += "b" in flagged
        a_flagged += "a" in flagged
        if seed == 0:
            row = moved.groups.set_index("group").loc["b"]
            assert row["change"] == pytest.approx(0.05, abs=0.02)
            diff = moved.disparities.set_index("kind").loc["difference"]
            assert diff["change_lower"] < diff["change"] < diff["change_upper"]
            assert diff["change_upper"] < 0  # the gap between a (0.40) and b narrowed
    assert b_flagged == 10  # z is about 7.5: detected every time
    assert a_flagged <= 2  # a did not change: flagged about 2.5% of the time


def test_bootstrap_interval_of_a_disparity_change_is_seeded_and_covers_the_change(rng):
    pa, ga = _draw(rng, [500, 500], [0.3, 0.5])
    pb, gb = _draw(rng, [500, 500], [0.3, 0.4])
    a, b = _gm(pa, ga), _gm(pb, gb)
    d1 = _drift(a, b, n_boot=500, random_state=1)
    d2 = _drift(a, b, n_boot=500, random_state=1)
    pd.testing.assert_frame_equal(d1.disparities, d2.disparities)
    for row in d1.disparities.itertuples():
        assert row.change_lower <= row.change <= row.change_upper
    none = _drift(a, b, n_boot=0).disparities
    assert none["change_lower"].isna().all()


def test_label_metrics_and_several_features(rng):
    n = 4000
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "race": rng.choice(["x", "y"], n)})
    y = rng.integers(0, 2, n)
    p1 = rng.integers(0, 2, n)
    p2 = rng.integers(0, 2, n)
    a = fa.group_metrics(y, p1, sensitive_features=frame, metrics=["true_positive_rate"])
    b = fa.group_metrics(y, p2, sensitive_features=frame, metrics=["true_positive_rate"])
    d = fa.metrics.drift(a, b, n_boot=0)
    assert d.groups["metric"].unique().tolist() == [
        "selection_rate",
        "true_positive_rate",
        "false_positive_rate",
    ]
    assert d.groups["sensitive_feature"].unique().tolist() == ["sex", "race"]
    tpr = d.groups[(d.groups["metric"] == "true_positive_rate") & (d.groups["group"] == "F")]
    rows = frame["sex"].to_numpy() == "F"
    expected = p1[rows & (y == 1)].mean()
    assert tpr["value_a"].iloc[0] == pytest.approx(expected)


def test_a_group_missing_from_one_table_gets_no_test(rng):
    a = _gm([1, 0, 1, 0], ["a", "a", "b", "b"])
    b = _gm([1, 0, 1, 1], ["a", "a", "c", "c"])
    frame = _drift(a, b, n_boot=0).to_frame().set_index("group")
    assert frame.loc["b", "test"] == "none"
    assert np.isnan(frame.loc["c", "value_a"])
    assert np.isnan(frame.loc["c", "p_value"])


def test_result_contract(rng, pyplot):
    pa, ga = _draw(rng, [300, 300], [0.3, 0.5])
    pb, gb = _draw(rng, [300, 300], [0.3, 0.3])
    d = _drift(_gm(pa, ga), _gm(pb, gb), n_boot=100, random_state=0)
    assert repr(d) == "DriftResult(2 rows, 1 flagged at alpha=0.05)"
    payload = d.to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["kind"] == "drift"
    assert len(payload["groups"]) == 2
    assert "<table" in d._repr_html_()
    ax = d.plot()
    assert len(ax.patches) == 2
    with pytest.raises(AttributeError):
        d.alpha = 0.1  # type: ignore[misc]


def test_bad_input():
    a = _gm([1, 0], ["a", "b"])
    other = fa.group_metrics(
        [0, 1],
        [1, 0],
        sensitive_features={"h": ["a", "b"]},
        metrics=["selection_rate"],
        min_group_size=1,
    )
    with pytest.raises(DataError, match="same sensitive features"):
        fa.metrics.drift(a, other)
    with pytest.raises(TypeError, match="count table or a GroupMetrics"):
        fa.metrics.drift(a, [1, 2])
    with pytest.raises(DataError, match="needs score atoms, but table_a was counted without"):
        fa.metrics.drift(a, a, metrics=["roc_auc"])
    with pytest.raises(ValueError, match="not a rate or score metric"):
        fa.metrics.drift(a, a, metrics=["mean_error"])
    with pytest.raises(TypeError, match="n_boot"):
        fa.metrics.drift(a, a, n_boot=-1)
    with pytest.raises(ValueError, match="alpha"):
        fa.metrics.drift(a, a, alpha=2)
    reg = fa.group_metrics([0.5, 1.5], [0.7, 1.2], sensitive_features=["a", "b"], min_group_size=1)
    with pytest.raises(DataError, match="regression table"):
        fa.metrics.drift(reg, reg)
