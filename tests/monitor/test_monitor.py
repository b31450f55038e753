"""FairnessMonitor: windows, late labels, metrics, retention, store checks and bad input."""

from __future__ import annotations

import json
import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fairaudit as fa
from fairaudit.exceptions import DataError, MissingValueError, StoreError, StoreLockedError
from fairaudit.monitor import FairnessMonitor

T0 = pd.Timestamp("2026-01-05T00:00:00Z")


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store.db"


def _batch(rng, n, p_a=0.4, p_b=0.6):
    g = rng.choice(["a", "b"], size=n)
    pred = (rng.random(n) < np.where(g == "a", p_a, p_b)).astype(int)
    y = rng.integers(0, 2, size=n)
    return g, pred, y


def test_window_metrics_equal_group_metrics_on_the_same_rows(store, rng):
    g, pred, y = _batch(rng, 3000)
    ts = T0 + pd.to_timedelta(rng.integers(0, 3 * 3600, size=3000), unit="s")
    with FairnessMonitor(
        store,
        sensitive_features=["sex"],
        window="1h",
        metrics=["selection_rate", "true_positive_rate"],
    ) as mon:
        mon.update(pred, {"sex": g}, y_true=y, timestamps=ts)
        assert len(mon.windows()) == 3
        for hour in range(3):
            start = T0 + pd.Timedelta(hours=hour)
            rows = (ts >= start) & (ts < start + pd.Timedelta(hours=1))
            expected = fa.group_metrics(
                y[rows],
                pred[rows],
                sensitive_features=pd.Series(g[rows], name="sex"),
                metrics=["selection_rate", "true_positive_rate"],
                ci_method="wilson",
            )
            got = mon.window(start + pd.Timedelta(minutes=30))
            pd.testing.assert_frame_equal(got.by_group, expected.by_group)
            pd.testing.assert_frame_equal(got.ci, expected.ci)
        hist = mon.history()
        assert list(hist) == [T0 + pd.Timedelta(hours=h) for h in range(3)]
        pd.testing.assert_frame_equal(mon.current().by_group, hist[list(hist)[-1]].by_group)


def test_bootstrap_intervals_on_request(store, rng):
    g, pred, _ = _batch(rng, 2000)
    with FairnessMonitor(store, sensitive_features=["sex"]) as mon:
        mon.update(pred, {"sex": g}, timestamps=T0)
        gm = mon.current(n_boot=200, random_state=0)
        assert gm.ci_method == "bootstrap"
        again = mon.current(n_boot=200, random_state=0)
        pd.testing.assert_frame_equal(gm.ci, again.ci)


@pytest.mark.filterwarnings("ignore:there is a single group")
def test_row_count_windows_and_out_of_order_timestamps(store, rng):
    with FairnessMonitor(store, sensitive_features=["g"], window=100, min_group_size=1) as mon:
        for _ in range(3):
            mon.update(np.ones(70, int), {"g": ["x"] * 70})
        assert mon.windows() == [0, 1, 2]
        assert mon.window(0).by_group["count"].tolist() == [100]
        assert mon.window(2).by_group["count"].tolist() == [10]
    other = store.with_name("t.db")
    with FairnessMonitor(other, sensitive_features=["g"], window="1d", min_group_size=1) as mon:
        mon.update(
            [1, 0, 1],
            {"g": ["x", "x", "x"]},
            timestamps=["2026-01-03T05:00", "2026-01-01T23:59", "2026-01-03T00:00"],
        )
        mon.update([0], {"g": ["x"]}, timestamps="2026-01-01T00:00")  # late arrival
        keys = mon.windows()
        assert [k.strftime("%Y-%m-%d") for k in keys] == ["2026-01-01", "2026-01-03"]
        assert mon.window("2026-01-01T12:00").by_group["count"].tolist() == [2]
        # epoch seconds (a scalar for the batch, or one per row) and datetimes work too
        day = pd.Timestamp("2026-01-05", tz="UTC")
        mon.update([1], {"g": ["x"]}, timestamps=day.timestamp())
        mon.update([1, 1], {"g": ["x", "x"]}, timestamps=[day.timestamp(), day.timestamp() + 1])
        mon.update([1], {"g": ["x"]}, timestamps=[day.to_pydatetime()])
        assert mon.window(day).by_group["count"].tolist() == [4]


@pytest.mark.filterwarnings("ignore::fairaudit.exceptions.UndefinedMetricWarning")
def test_late_labels_join_by_id_and_orphans_are_kept(store):
    with FairnessMonitor(
        store,
        sensitive_features=["g"],
        min_group_size=1,
        metrics=["selection_rate", "true_positive_rate"],
    ) as mon:
        mon.update(
            [1, 0, 1, 1], {"g": ["a", "a", "b", "b"]}, ids=["1", "2", "3", "4"], timestamps=T0
        )
        with pytest.raises(DataError, match="no labelled predictions"):
            mon.current()
        assert mon.current(rows="all", metrics=["selection_rate"]).by_group[
            "selection_rate"
        ].tolist() == [0.5, 1.0]
        assert mon.update_labels(["1", "3", "x9"], [1, 0, 1]) == 2
        c = mon.counters
        assert (c["orphan_labels"], c["pending_labels"], c["labels_matched"]) == (1, 2, 2)
        frame = mon.counts().set_index("g")
        assert frame.loc["a"].tolist() == [0, 0, 0, 1, 1, 0]
        assert frame.loc["b"].tolist() == [0, 1, 0, 0, 0, 1]
        gm = mon.current()  # labelled rows only: 1 (a, TP) and 3 (b, FP)
        assert gm.by_group["count"].tolist() == [1, 1]
        # the orphan's prediction arrives later: joined then
        mon.update([1], {"g": ["a"]}, ids=["x9"], timestamps=T0)
        assert mon.orphan_labels == 0
        assert mon.counts().set_index("g").loc["a", "TP"] == 2


def test_duplicated_ids_are_refused_and_nothing_is_stored(store):
    with FairnessMonitor(store, sensitive_features=["g"]) as mon:
        with pytest.raises(DataError, match="duplicated ids"):
            mon.update([1, 0], {"g": ["a", "b"]}, ids=["1", "1"])
        mon.update([1, 0], {"g": ["a", "b"]}, ids=["1", "2"], timestamps=T0)
        with pytest.raises(DataError, match="already recorded"):
            mon.update([1, 0], {"g": ["a", "b"]}, ids=["3", "2"], timestamps=T0)
        assert mon.counters["rows_received"] == 2
        mon.update_labels(["1"], [1])
        with pytest.raises(DataError, match="already have a label"):
            mon.update_labels(["2", "1"], [1, 1])
        with pytest.raises(DataError, match="duplicated ids"):
            mon.update_labels(["2", "2"], [1, 1])
        assert mon.counters["labels_received"] == 1


def test_batch_id_makes_a_resend_a_no_op(store):
    with FairnessMonitor(store, sensitive_features=["g"]) as mon:
        assert mon.update([1, 0], {"g": ["a", "b"]}, batch_id="b-1") == 2
        assert mon.update([1, 0], {"g": ["a", "b"]}, batch_id="b-1") == 0
        assert mon.counters["rows_received"] == 2


@pytest.mark.filterwarnings("ignore:there is a single group")
def test_retention_drops_old_windows(store):
    with FairnessMonitor(
        store, sensitive_features=["g"], window="1d", keep="3d", min_group_size=1
    ) as mon:
        for day in range(6):
            mon.update([1], {"g": ["a"]}, ids=[str(day)], timestamps=T0 + pd.Timedelta(days=day))
        assert len(mon.windows()) == 3
        assert mon.windows()[0] == T0 + pd.Timedelta(days=3)
        # a label for a prediction dropped by retention is kept as an orphan
        assert mon.update_labels(["0", "5"], [1, 1]) == 1
        assert mon.orphan_labels == 1


def test_sensitive_values_are_text_and_several_features_intersect(store):
    with FairnessMonitor(store, sensitive_features=["sex", "age"], min_group_size=1) as mon:
        mon.update([1, 0, 1], pd.DataFrame({"sex": ["F", "M", "F"], "age": [30, 30, 40]}))
        mon.update([1], {"sex": ["F"], "age": ["30"]})  # "30" and 30 are one group
        gm = mon.current()
        assert gm.by_group.index.names == ["sex", "age"]
        assert gm.by_group.loc[("F", "30"), "count"] == 2


def test_reopening_uses_the_stored_settings(store):
    with FairnessMonitor(store, sensitive_features=["g"], window="15min") as mon:
        mon.update([1], {"g": ["a"]})
    with FairnessMonitor(store) as mon:
        assert mon.sensitive_features == ("g",)
        assert (mon.window_kind, mon.window_size) == ("time", 900)
        assert mon.counters["rows_received"] == 1
    with pytest.raises(StoreError, match="created with sensitive_features"):
        FairnessMonitor(store, sensitive_features=["h"])
    with pytest.raises(StoreError, match="created with window"):
        FairnessMonitor(store, window="1h")


def test_a_new_store_needs_sensitive_features(store):
    with pytest.raises(StoreError, match="pass sensitive_features"):
        FairnessMonitor(store)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, not a database\n" * 10)
    with pytest.raises(StoreError, match="not an SQLite database"):
        FairnessMonitor(text, sensitive_features=["g"])
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a fairaudit monitor store"):
        FairnessMonitor(other, sensitive_features=["g"])
    with pytest.raises(StoreError, match="is a directory"):
        FairnessMonitor(tmp_path, sensitive_features=["g"])
    with pytest.raises(StoreError, match="does not exist"):
        FairnessMonitor(tmp_path / "no" / "s.db", sensitive_features=["g"])


def test_a_store_from_a_newer_version_is_refused_with_its_version(store):
    FairnessMonitor(store, sensitive_features=["g"]).close()
    con = sqlite3.connect(store)
    con.execute("UPDATE fairaudit_meta SET value = '7' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="schema version 7; this fairaudit reads up to version 2"):
        FairnessMonitor(store)


def test_a_locked_store_raises_after_the_timeout(store):
    FairnessMonitor(store, sensitive_features=["g"]).close()
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreLockedError, match="locked by another process"):
            FairnessMonitor(store, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with FairnessMonitor(store, timeout=0.2) as mon:
        mon.update([1], {"g": ["a"]})
        assert mon.counters["rows_received"] == 1


def test_batch_columns_must_be_the_monitors_features(store):
    with FairnessMonitor(store, sensitive_features=["sex", "race"]) as mon:
        with pytest.raises(DataError, match=r"missing \['race'\], unexpected \['age'\]"):
            mon.update([1], {"sex": ["F"], "age": [3]})
        with pytest.raises(TypeError, match="DataFrame or a mapping"):
            mon.update([1], ["F"])
        with pytest.raises(DataError, match="has 2 rows but y_pred has 1"):
            mon.update([1], {"sex": ["F", "M"], "race": ["x", "y"]})
        with pytest.raises(MissingValueError, match="missing values"):
            mon.update([1, 0], {"sex": ["F", None], "race": ["x", "y"]})
        assert mon.counters["rows_received"] == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y_pred": [0, 1, 2]}, DataError, "3 distinct values"),
        ({"y_pred": ["yes", "no", "no"]}, DataError, "neither equal to pos_label"),
        ({"y_true": [1, 0]}, DataError, "y_true has 2 rows"),
        ({"timestamps": ["2026-01-01", "2026-01-02"]}, DataError, "timestamps has 2 rows"),
        ({"timestamps": ["2026-01-01", None, "2026-01-02"]}, MissingValueError, "timestamps"),
        ({"timestamps": ["soon", "later", "never"]}, DataError, "could not be read"),
        ({"ids": ["1", None, "3"]}, MissingValueError, "ids has missing"),
        ({"y_score": [0.1, 0.2]}, DataError, "y_score has 2 rows"),
        ({"y_score": [0.1, float("nan"), 0.3]}, MissingValueError, "y_score has 1 missing"),
        ({"y_score": [0.1, 1.5, 0.3]}, DataError, "outside \\[0, 1\\] at rows \\[1\\]"),
        ({"y_score": [0.1, float("inf"), 0.3]}, DataError, "outside \\[0, 1\\]"),
        ({"y_score": ["0.1", "low", "0.3"]}, TypeError, "y_score must be numbers"),
        ({"y_score": [True, False, True]}, TypeError, "y_score must be numbers"),
        ({"batch_id": 3}, TypeError, "batch_id must be a str"),
    ],
)
def test_bad_batches_are_refused(store, kwargs, error, match):
    args = {"y_pred": [1, 0, 1], "sensitive_features": {"g": ["a", "b", "a"]}}
    args.update(kwargs)
    with (
        FairnessMonitor(store, sensitive_features=["g"]) as mon,
        pytest.raises(error, match=match),
    ):
        mon.update(args.pop("y_pred"), args.pop("sensitive_features"), **args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"window": "1 fortnight"}, ValueError, "positive duration"),
        ({"window": 0}, ValueError, "positive number of rows"),
        ({"window": 1.5}, TypeError, "window must be"),
        ({"keep": "soon"}, ValueError, "keep must be a positive duration"),
        ({"metrics": ["mean_prediction"]}, ValueError, "not a rate or score metric"),
        ({"score_decimals": 2.5}, TypeError, "score_decimals must be an int"),
        ({"score_decimals": -1}, ValueError, "score_decimals must be between 0 and 15"),
        ({"sensitive_features": [1]}, TypeError, "list of column names"),
        ({"window": 10, "keep": "1d"}, ValueError, "number of windows"),
    ],
)
def test_bad_settings_are_refused(store, kwargs, error, match):
    kwargs.setdefault("sensitive_features", ["g"])
    with pytest.raises(error, match=match):
        FairnessMonitor(store, **kwargs)


def test_rows_all_refuses_metrics_that_need_labels(store):
    with FairnessMonitor(
        store,
        sensitive_features=["g"],
        min_group_size=1,
        metrics=["selection_rate", "false_positive_rate"],
    ) as mon:
        mon.update([1, 0], {"g": ["a", "b"]}, y_true=[0, 0])
        with pytest.raises(ValueError, match="need labels"):
            mon.current(rows="all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert mon.current().by_group["false_positive_rate"].tolist() == [1.0, 0.0]


def test_store_file_is_plain_sqlite_with_a_schema_version(store):
    FairnessMonitor(store, sensitive_features=["g"]).close()
    con = sqlite3.connect(store)
    meta = dict(con.execute("SELECT key, value FROM fairaudit_meta"))
    con.close()
    assert meta["format"] == "fairaudit-monitor"
    assert meta["schema_version"] == "2"
    assert json.loads(meta["config"])["sensitive_features"] == ["g"]


def test_windows_export_as_count_tables_that_add(store, rng, tmp_path):
    g, pred, y = _batch(rng, 2000)
    ts = T0 + pd.to_timedelta(rng.integers(0, 2 * 3600, size=2000), unit="s")
    with FairnessMonitor(store, sensitive_features=["sex"]) as mon:
        mon.update(pred, {"sex": g}, y_true=y, timestamps=ts)
        first, second = (mon.count_table(w) for w in mon.windows())
        pooled = mon.count_table()
        np.testing.assert_array_equal((first + second).cell_n, pooled.cell_n)
        expected = fa.metrics.count_table(y, pred, sensitive_features=pd.Series(g, name="sex"))
        np.testing.assert_array_equal(pooled.cell_n, expected.cell_n)
        path = tmp_path / "w.parquet"
        first.to_parquet(path)
        again = fa.metrics.CountTable.from_parquet(path)
        np.testing.assert_array_equal(again.cell_n, first.cell_n)
        # drift between two exported windows equals the monitor's own drift
        d1 = fa.metrics.drift(first, second, metrics=["true_positive_rate"], n_boot=0)
        d2 = mon.drift(
            mon.windows()[1], against="previous", metrics=["true_positive_rate"], n_boot=0
        )
        pd.testing.assert_frame_equal(d1.groups, d2.groups)
        with pytest.raises(ValueError, match="rows must be"):
            mon.count_table(rows="some")


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 1),
            st.integers(0, 1),
            st.integers(0, 3 * 3600),
        ),
        min_size=1,
        max_size=60,
    ),
    cuts=st.lists(st.integers(1, 59), max_size=4),
)
def test_any_split_into_batches_gives_the_counts_of_one_pass(tmp_path_factory, rows, cuts):
    # the store's counts per window equal a hand count, however the rows are batched
    path = tmp_path_factory.mktemp("h") / "s.db"
    bounds = sorted({c for c in cuts if c < len(rows)})
    with FairnessMonitor(path, sensitive_features=["g"], window="1h") as mon:
        for lo, hi in zip([0, *bounds], [*bounds, len(rows)], strict=True):
            part = rows[lo:hi]
            mon.update(
                [r[1] for r in part],
                {"g": [r[0] for r in part]},
                y_true=[r[2] for r in part],
                timestamps=[T0.timestamp() + r[3] for r in part],
            )
        got = {}
        for w in mon.windows():
            for rec in mon.counts(w).to_dict("records"):
                got[(w, rec["g"])] = [rec["TN"], rec["FP"], rec["FN"], rec["TP"]]
    expected: dict = {}
    for g, p, t, s in rows:
        key = (T0 + pd.Timedelta(hours=s // 3600), g)
        expected.setdefault(key, [0, 0, 0, 0])[2 * t + p] += 1
    assert got == expected
