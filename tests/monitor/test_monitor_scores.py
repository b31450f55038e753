"""Scores in the monitor: atoms per window, late labels, drift tests, migration, bad input."""

from __future__ import annotations

import json
import shutil
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import fairaudit as fa
from fairaudit.exceptions import DataError, FairauditWarning, StoreError
from fairaudit.metrics._counts import ScoreAtoms
from fairaudit.metrics._score_drift import auc_delong, score_test
from fairaudit.monitor import FairnessMonitor

T0 = pd.Timestamp("2026-01-05T00:00:00Z")
SCORES = ["selection_rate", "roc_auc", "brier_score", "calibration_error"]
V1_STORE = Path(__file__).with_name("data") / "store_v1.db"


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store.db"


def _rows(rng, n, decimals=2, shift=0.2):
    g = rng.choice(["a", "b"], size=n)
    y = rng.integers(0, 2, size=n)
    s = np.clip(rng.normal(0.4 + shift * y, 0.2), 0, 1).round(decimals)
    pred = (s > 0.5).astype(int)
    return g, y, s, pred


def _expected(y, pred, s, g, rows, metrics=SCORES):
    return fa.group_metrics(
        y[rows],
        pred[rows],
        y_score=s[rows],
        sensitive_features=pd.Series(g[rows], name="sex"),
        metrics=metrics,
        ci_method="wilson",
    )


def _atoms_frame(table):
    return (
        table.to_frame("scores")
        .sort_values(["sex", "score"], ignore_index=True)
        .astype({"sex": object})
    )


def test_time_windows_equal_group_metrics_with_y_score(store, rng):
    g, y, s, pred = _rows(rng, 3000)
    ts = T0 + pd.to_timedelta(rng.integers(0, 3 * 3600, size=3000), unit="s")
    with FairnessMonitor(store, sensitive_features=["sex"], window="1h") as mon:
        mon.update(pred, {"sex": g}, y_true=y, y_score=s, timestamps=ts)
        for hour in range(3):
            start = T0 + pd.Timedelta(hours=hour)
            rows = np.asarray((ts >= start) & (ts < start + pd.Timedelta(hours=1)))
            expected = _expected(y, pred, s, g, rows)
            got = mon.window(start)
            assert list(got.by_group.columns) == [*SCORES, "count"]  # the default adds scores
            pd.testing.assert_frame_equal(got.by_group, expected.by_group)
            pd.testing.assert_frame_equal(got.ci, expected.ci)
            # the exported table holds the atoms that count_table computes from the rows
            table = mon.count_table(start)
            direct = fa.metrics.count_table(
                y[rows],
                pred[rows],
                y_score=s[rows],
                sensitive_features=pd.Series(g[rows], name="sex"),
            )
            pd.testing.assert_frame_equal(_atoms_frame(table), _atoms_frame(direct))
        hist = mon.history()
        pd.testing.assert_frame_equal(hist[T0].by_group, mon.window(T0).by_group)
        # tables of windows add up to the pooled table, atoms included
        summed = sum(mon.count_table(w) for w in mon.windows())
        pd.testing.assert_frame_equal(_atoms_frame(summed), _atoms_frame(mon.count_table()))
        # bootstrap intervals of the score metrics, as group_metrics gives them on the rows
        rows = np.asarray(ts < T0 + pd.Timedelta(hours=1))
        boot = mon.window(T0, n_boot=200, random_state=5)
        direct = fa.group_metrics(
            y[rows],
            pred[rows],
            y_score=s[rows],
            sensitive_features=pd.Series(g[rows], name="sex"),
            metrics=SCORES,
            n_boot=200,
            random_state=5,
        )
        pd.testing.assert_frame_equal(boot.ci, direct.ci)


def test_late_labels_move_scores_into_their_window_by_row_count(store, rng):
    g, y, s, pred = _rows(rng, 2500)
    ids = np.array([f"id{i}" for i in range(2500)], dtype=object)
    with FairnessMonitor(store, sensitive_features=["sex"], window=1000) as mon:
        # 1,000 labelled now, 1,500 later; of those, 700 get a label now (one batch ahead of
        # their prediction for 100 of them: orphans joined when the prediction arrives)
        mon.update(pred[:1000], {"sex": g[:1000]}, y_true=y[:1000], y_score=s[:1000])
        mon.update_labels(ids[2400:], y[2400:])
        assert mon.orphan_labels == 100
        mon.update(pred[1000:], {"sex": g[1000:]}, y_score=s[1000:], ids=ids[1000:])
        assert mon.orphan_labels == 0
        late = rng.permutation(np.arange(1000, 2400))[:600]
        mon.update_labels(ids[late], y[late])
        labelled = np.zeros(2500, dtype=bool)
        labelled[:1000] = True
        labelled[2400:] = True
        labelled[late] = True
        for w in (0, 1, 2):
            rows = labelled & (np.arange(2500) // 1000 == w)
            got = mon.window(w, metrics=SCORES[1:])  # score metrics alone: labelled rows
            expected = _expected(y, pred, s, g, rows, SCORES[1:])
            pd.testing.assert_frame_equal(got.by_group, expected.by_group)
            # the default: selection rate of every prediction, scores of the labelled ones
            default = mon.window(w)
            in_window = np.arange(2500) // 1000 == w
            rates = _expected(y, pred, s, g, in_window, ["selection_rate"])
            pd.testing.assert_series_equal(
                default.by_group["selection_rate"], rates.by_group["selection_rate"]
            )
            pd.testing.assert_series_equal(default.by_group["roc_auc"], got.by_group["roc_auc"])
        # label-free: every scored prediction counts in scored / mean_score
        frame = mon.counts()
        for grp in ("a", "b"):
            row = frame[frame["sex"] == grp].iloc[0]
            assert row["scored"] == int((g == grp).sum())
            assert row["mean_score"] == pytest.approx(s[g == grp].mean(), abs=1e-12)
        assert mon.counters["pending_labels"] == 1500 - 100 - 600


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.integers(0, 1),
            st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),
            st.booleans(),
        ),
        min_size=4,
        max_size=50,
    ),
    cut=st.integers(1, 49),
)
def test_any_batching_and_label_timing_gives_the_atoms_of_one_pass(tmp_path_factory, rows, cut):
    path = tmp_path_factory.mktemp("h") / "s.db"
    ids = [f"r{i}" for i in range(len(rows))]
    cut = min(cut, len(rows))
    with FairnessMonitor(path, sensitive_features=["sex"], window=10_000) as mon:
        for lo, hi in ((0, cut), (cut, len(rows))):
            if lo == hi:
                continue
            part = rows[lo:hi]
            mon.update(
                [r[1] for r in part],
                {"sex": [r[0] for r in part]},
                y_score=[r[2] for r in part],
                ids=ids[lo:hi],
            )
        late = [i for i, r in enumerate(rows) if r[3]]
        if late:
            mon.update_labels([ids[i] for i in late], [rows[i][1] for i in late])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = mon.count_table(0) if late else None
    if table is None:
        return
    # labelled rows: y_true is the prediction itself (the atoms do not depend on y_pred)
    lab = [rows[i] for i in late]
    expected = fa.metrics.count_table(
        [r[1] for r in lab],
        [1] * len(lab),
        y_score=[r[2] for r in lab],
        sensitive_features=pd.Series([r[0] for r in lab], name="sex"),
    )
    pd.testing.assert_frame_equal(_atoms_frame(table), _atoms_frame(expected))


def test_score_decimals_round_and_a_store_keeps_its_setting(store):
    with FairnessMonitor(store, sensitive_features=["sex"], score_decimals=1) as mon:
        mon.update(
            [1, 0, 1], {"sex": ["a", "a", "a"]}, y_true=[1, 0, 0], y_score=[0.66, 0.24, 0.71]
        )
        atoms = mon.count_table().to_frame("scores")
        assert atoms["score"].tolist() == [0.2, 0.7]
        assert atoms["negative_count"].tolist() == [1, 1]
    with pytest.raises(StoreError, match="score_decimals=1, not 3"):
        FairnessMonitor(store, sensitive_features=["sex"], score_decimals=3)
    with FairnessMonitor(store) as mon:  # the stored setting
        assert mon.score_decimals == 1
    other = store.with_name("exact.db")
    with FairnessMonitor(other, sensitive_features=["sex"]) as mon:
        assert mon.score_decimals is None
    with pytest.raises(StoreError, match="score_decimals=None, not 2"):
        FairnessMonitor(other, sensitive_features=["sex"], score_decimals=2)


def test_a_version_1_store_is_migrated_and_keeps_its_counts(tmp_path):
    path = tmp_path / "v1.db"
    shutil.copy(V1_STORE, path)
    con = sqlite3.connect(path)
    before = con.execute("SELECT window, group_id, cell, n FROM counts ORDER BY 1, 2, 3").fetchall()
    assert dict(con.execute("SELECT key, value FROM fairaudit_meta"))["schema_version"] == "1"
    con.close()
    with FairnessMonitor(path, score_decimals=2, min_group_size=1) as mon:
        assert mon.counters["rows_received"] == 200
        assert mon.counters["pending_labels"] == 50
        assert mon.orphan_labels == 1
        assert mon.score_decimals == 2
        # no scores yet: the defaults do not add score metrics, asking for them explains
        assert "roc_auc" not in mon.current().by_group
        with pytest.raises(DataError, match="no labelled predictions given with y_score"):
            mon.current(metrics=["roc_auc"])
        # pending predictions of version 1 take their labels as before (they have no score)
        mon.update_labels(["id150", "id151"], [1, 0])
        assert mon.counters["pending_labels"] == 48
        # new predictions carry scores
        mon.update(
            [1, 0, 1, 0],
            {"sex": ["F", "F", "M", "M"]},
            y_true=[1, 0, 1, 0],
            y_score=[0.904, 0.1, 0.7, 0.2],
            timestamps="2026-01-01T05:00",
        )
        assert mon.current().by_group["roc_auc"].tolist() == [1.0, 1.0]
        atoms = mon.count_table("2026-01-01T05:00").to_frame("scores")
        assert atoms["score"].tolist() == [0.1, 0.9, 0.2, 0.7]  # rounded to 2 decimals
    con = sqlite3.connect(path)
    meta = dict(con.execute("SELECT key, value FROM fairaudit_meta"))
    after = con.execute(
        "SELECT window, group_id, cell, n FROM counts WHERE window < 1767240000 ORDER BY 1, 2, 3"
    ).fetchall()
    con.close()
    assert meta["schema_version"] == "2"
    assert json.loads(meta["config"])["score_decimals"] == 2
    # the old windows' counts are unchanged but for the two labels just moved
    moved = {(b[0], b[1], b[2]): b[3] for b in before}
    changed = [a for a in after if moved.get((a[0], a[1], a[2])) != a[3]]
    assert sum(abs(a[3] - moved.get((a[0], a[1], a[2]), 0)) for a in changed) == 4
    with pytest.raises(StoreError, match="score_decimals=2, not 3"):
        FairnessMonitor(path, score_decimals=3)


def test_a_version_1_store_opened_without_settings_has_no_rounding(tmp_path):
    path = tmp_path / "v1.db"
    shutil.copy(V1_STORE, path)
    with FairnessMonitor(path) as mon:
        assert mon.score_decimals is None
        assert mon.windows()[0] == pd.Timestamp("2026-01-01T00:00Z")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y_score": [0.1, 0.2]}, DataError, "y_score has 2 rows"),
        ({"y_score": [0.1, None, 0.3]}, DataError, "missing"),
        ({"y_score": [0.1, -0.2, 0.3]}, DataError, "outside"),
        ({"y_score": np.array(["a", "b", "c"], dtype=object)}, TypeError, "numbers"),
    ],
)
def test_bad_scores_store_nothing(store, kwargs, error, match):
    with FairnessMonitor(store, sensitive_features=["g"]) as mon:
        with pytest.raises(error, match=match):
            mon.update([1, 0, 1], {"g": ["a", "b", "a"]}, ids=["x", "y", "z"], **kwargs)
        assert mon.counters["rows_received"] == 0
        assert mon.counts().empty
    con = sqlite3.connect(store)
    assert con.execute("SELECT COUNT(*) FROM score_atoms").fetchone()[0] == 0
    assert con.execute("SELECT COUNT(*) FROM predictions").fetchone()[0] == 0
    con.close()


@pytest.mark.filterwarnings("ignore:there is a single group")
def test_a_resent_batch_and_duplicated_ids_add_no_scores(store):
    with FairnessMonitor(store, sensitive_features=["g"], min_group_size=1) as mon:
        args = ([1, 0], {"g": ["a", "a"]})
        assert mon.update(*args, y_score=[0.9, 0.2], ids=["1", "2"], batch_id="b") == 2
        assert mon.update(*args, y_score=[0.9, 0.2], ids=["1", "2"], batch_id="b") == 0
        with pytest.raises(DataError, match="already recorded"):
            mon.update(*args, y_score=[0.5, 0.5], ids=["2", "3"])
        assert mon.counts()["scored"].tolist() == [2]
        mon.update_labels(["1", "2"], [1, 0], batch_id="l")
        assert mon.update_labels(["1", "2"], [1, 0], batch_id="l") == 0
        with pytest.raises(DataError, match="already have a label"):
            mon.update_labels(["1"], [0])
        assert mon.current().by_group["roc_auc"].tolist() == [1.0]
    con = sqlite3.connect(store)
    rows = con.execute("SELECT score, label, n FROM score_atoms ORDER BY 1").fetchall()
    con.close()
    assert rows == [(0.2, 0, 1), (0.9, 1, 1)]  # the pending atoms were moved, not copied


@pytest.mark.filterwarnings("ignore:there is a single group")
def test_some_labelled_rows_without_scores_warn_and_missing_scores_explain(store):
    with FairnessMonitor(store, sensitive_features=["g"], window=100, min_group_size=1) as mon:
        mon.update(
            [1, 0, 1, 0], {"g": ["a"] * 4}, y_true=[1, 0, 1, 0], y_score=[0.8, 0.3, 0.6, 0.1]
        )
        mon.update([1, 0], {"g": ["a"] * 2}, y_true=[1, 0])
        with pytest.warns(FairauditWarning, match="use the 4 of its 6 labelled predictions"):
            gm = mon.current()
        assert gm.by_group["roc_auc"].tolist() == [1.0]
        assert gm.by_group["count"].tolist() == [6]
        mon.update([1] * 100, {"g": ["b"] * 100}, y_true=[1] * 100)  # window 1: no scores
        with pytest.raises(DataError, match="no labelled predictions given with y_score"):
            mon.window(1, metrics=["roc_auc"])
        assert "roc_auc" not in mon.window(1).by_group  # the default adds them when present
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FairauditWarning)
            assert list(mon.history(metrics=["roc_auc"])) == [0]


@pytest.mark.filterwarnings("ignore:there is a single group")
def test_retention_drops_score_atoms_with_their_window(store):
    with FairnessMonitor(store, sensitive_features=["g"], window=2, keep=1) as mon:
        mon.update(
            [1, 0, 1, 1], {"g": ["a"] * 4}, y_true=[1, 0, 1, 1], y_score=[0.9, 0.1, 0.8, 0.7]
        )
        assert mon.windows() == [1]
    con = sqlite3.connect(store)
    assert con.execute("SELECT DISTINCT window FROM score_atoms").fetchall() == [(1,)]
    con.close()


def _delong_by_hand(y, s):
    """ROC AUC and DeLong's variance from every (positive, negative) pair."""
    pos, neg = s[y == 1], s[y == 0]
    kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = kernel.mean(axis=1), kernel.mean(axis=0)
    return kernel.mean(), v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)


def test_drift_of_score_metrics_equals_delong_and_welch_by_hand(store, rng):
    g, y, s, pred = _rows(rng, 4000)
    with FairnessMonitor(store, sensitive_features=["sex"], window=2000) as mon:
        mon.update(pred[:2000], {"sex": g[:2000]}, y_true=y[:2000], y_score=s[:2000])
        g2, y2, s2, pred2 = _rows(rng, 2000, shift=0.1)  # window 1: worse discrimination
        g[2000:], y[2000:], s[2000:], pred[2000:] = g2, y2, s2, pred2
        mon.update(pred2, {"sex": g2}, y_true=y2, y_score=s2)
        d = mon.drift(1, against="previous", random_state=0)
    frame = d.to_frame().set_index(["metric", "group"])
    assert set(frame.index.get_level_values(0)) == set(SCORES)
    first, second = np.arange(4000) < 2000, np.arange(4000) >= 2000
    for grp in ("a", "b"):
        in_a, in_b = first & (g == grp), second & (g == grp)
        auc_a, var_a = _delong_by_hand(y[in_a], s[in_a])
        auc_b, var_b = _delong_by_hand(y[in_b], s[in_b])
        z = (auc_b - auc_a) / np.sqrt(var_a + var_b)
        row = frame.loc[("roc_auc", grp)]
        assert row["test"] == "delong"
        assert row["value_a"] == pytest.approx(auc_a, rel=1e-12)
        assert row["statistic"] == pytest.approx(z, rel=1e-9)
        assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
        err_a, err_b = (s[in_a] - y[in_a]) ** 2, (s[in_b] - y[in_b]) ** 2
        welch = stats.ttest_ind(err_b, err_a, equal_var=False)
        row = frame.loc[("brier_score", grp)]
        assert row["test"] == "welch"
        assert row["statistic"] == pytest.approx(welch.statistic, rel=1e-9)
        assert row["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
        assert row["n_a"] == in_a.sum()
        assert np.isnan(frame.loc[("calibration_error", grp)]["p_value"])
    assert frame.loc[("roc_auc", "a")]["flagged"]  # the planted loss of discrimination
    disp = d.disparities.set_index(["metric", "kind"])
    lo, hi = disp.loc[("roc_auc", "difference")][["change_lower", "change_upper"]]
    assert lo <= disp.loc[("roc_auc", "difference")]["change"] <= hi


def test_delong_variance_matches_the_bootstrap_variance(rng):
    # an independent check of the variance formula: the row bootstrap's variance of the AUC
    y = rng.integers(0, 2, size=300)
    s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1).round(2)
    table = fa.metrics.count_table(y, y, y_score=s, sensitive_features=["a"] * 300)
    assert table.scores is not None
    auc, var, _, _ = auc_delong(table.scores, 1)
    boot = []
    for _ in range(2000):
        i = rng.integers(0, 300, size=300)
        if 0 < y[i].sum() < 300:
            boot.append(_delong_by_hand(y[i], s[i])[0])
    assert auc[0] == pytest.approx(_delong_by_hand(y, s)[0], rel=1e-12)
    assert var[0] == pytest.approx(np.var(boot), rel=0.15)


@pytest.mark.slow
def test_score_tests_hold_their_level_when_nothing_changed():
    # the same score distribution in both windows: p < 0.05 about 5% of the time
    rng = np.random.default_rng(20261128)
    rejections = {"roc_auc": 0, "brier_score": 0}
    n_sim = 1000
    for _ in range(n_sim):
        tables = []
        for _ in range(2):
            y = rng.integers(0, 2, size=400)
            s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1).round(2)
            tables.append(ScoreAtoms.from_rows(np.zeros(400, np.intp), s, y == 1, None, 1))
        for m in rejections:
            p = score_test(m, tables[0], tables[1], 1)[3][0]
            rejections[m] += int(p < 0.05)
    se = np.sqrt(0.05 * 0.95 / n_sim)
    for m, k in rejections.items():
        assert abs(k / n_sim - 0.05) < 3 * se, (m, k)


def test_collector_exports_score_metrics_as_current_gives_them(store, rng):
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    g, y, s, pred = _rows(rng, 2000)
    with FairnessMonitor(store, sensitive_features=["sex"], window=1000) as mon:
        mon.update(pred, {"sex": g}, y_true=y, y_score=s)
        registry = CollectorRegistry()
        collector = mon.collector()
        registry.register(collector)
        text = generate_latest(registry).decode()
        assert collector.exposition().decode() == text  # the exporter's own text, too
        current = mon.current()
        drift = mon.drift(against="previous", n_boot=0).to_frame().set_index(["metric", "group"])
    samples = {
        (sm.name, sm.labels.get("metric"), sm.labels.get("group"), sm.labels.get("kind")): sm.value
        for f in text_string_to_metric_families(text)
        for sm in f.samples
    }
    z = stats.norm.ppf(0.975)
    window = np.arange(2000) >= 1000
    for grp in ("a", "b"):
        for m in SCORES[1:]:
            key = ("fairaudit_group_metric", m, grp, None)
            assert samples[key] == pytest.approx(current.by_group.loc[grp, m], rel=1e-12)
        rows = window & (g == grp)
        auc, var = _delong_by_hand(y[rows], s[rows])
        lower = samples[("fairaudit_group_metric_lower", "roc_auc", grp, None)]
        assert lower == pytest.approx(auc - z * np.sqrt(var), rel=1e-9)
        err = (s[rows] - y[rows]) ** 2
        upper = samples[("fairaudit_group_metric_upper", "brier_score", grp, None)]
        assert upper == pytest.approx(err.mean() + z * err.std(ddof=1) / np.sqrt(rows.sum()))
        assert np.isnan(samples[("fairaudit_group_metric_lower", "calibration_error", grp, None)])
        for m in ("roc_auc", "brier_score"):
            key = ("fairaudit_drift_p_value", m, grp, None)
            assert samples[key] == pytest.approx(drift.loc[(m, grp)]["p_value"], rel=1e-12)
    for m in SCORES[1:]:
        values = current.by_group[m]
        key = ("fairaudit_disparity", m, None, "difference")
        assert samples[key] == pytest.approx(values.max() - values.min(), rel=1e-12)
