"""The public count table: build, add, store, and group metrics from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError
from fairaudit.metrics import CountTable, count_table


def _frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "p": rng.integers(0, 2, n),
            "k": rng.choice(["u", "v", "w"], n),
            "kp": rng.choice(["u", "v", "w"], n),
            "s": rng.choice(["a", "b", "c"], n),
            "r": rng.choice([1, 2], n),
            "sc": rng.random(n).round(2),
            "w": rng.random(n),
            "yr": rng.normal(size=n).round(1),
            "pr": rng.normal(size=n).round(1),
        }
    )


CASES = {
    "binary": {"y_true": "y", "y_pred": "p"},
    "scores": {"y_true": "y", "y_pred": "p", "y_score": "sc"},
    "weighted_scores": {"y_true": "y", "y_pred": "p", "y_score": "sc", "sample_weight": "w"},
    "multiclass": {"y_true": "k", "y_pred": "kp", "pos_label": None},
    "regression": {"y_true": "yr", "y_pred": "pr"},
    "weighted_regression": {"y_true": "yr", "y_pred": "pr", "sample_weight": "w"},
}


def _arrays(df: pd.DataFrame, kw: dict) -> dict:
    return {k: (df[v] if isinstance(v, str) else v) for k, v in kw.items()}


def _assert_same(a: fa.GroupMetrics, b: fa.GroupMetrics, rtol: float = 0.0) -> None:
    exact = rtol == 0.0
    pd.testing.assert_frame_equal(a.by_group, b.by_group, check_exact=exact, rtol=rtol or 1e-5)
    pd.testing.assert_series_equal(a.overall, b.overall, check_exact=exact, rtol=rtol or 1e-5)
    if a.ci is not None:
        assert b.ci is not None
        pd.testing.assert_frame_equal(a.ci, b.ci, check_exact=exact, rtol=rtol or 1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_group_metrics_from_table_equals_arrays(case: str) -> None:
    df = _frame()
    kw = CASES[case]
    direct = fa.group_metrics(
        **_arrays(df, kw), sensitive_features=df[["s", "r"]], n_boot=100, random_state=3
    )
    table = count_table(**kw, sensitive_features=["s", "r"], data=df)
    assert isinstance(table, CountTable)
    assert table.n_rows == len(df)
    if "regression" in case:  # atoms sized for 1000 replicates: rebuild them for 100
        via_data = fa.group_metrics(
            **kw, sensitive_features=["s", "r"], data=df, n_boot=100, random_state=3
        )
        _assert_same(direct, via_data)
    else:
        _assert_same(direct, fa.group_metrics(table, n_boot=100, random_state=3))


@pytest.mark.parametrize("case", list(CASES))
def test_tables_of_partitions_add_up(case: str) -> None:
    df = _frame()
    kw = CASES[case]
    whole = count_table(**kw, sensitive_features=["s", "r"], data=df)
    # the third part lacks group ("c", 2): the union of groups is taken
    parts = [df.iloc[:1000], df.iloc[1000:2000], df.iloc[2000:].query("not (s == 'c' and r == 2)")]
    rest = df.iloc[2000:].query("s == 'c' and r == 2")
    tables = [count_table(**kw, sensitive_features=["s", "r"], data=p) for p in [*parts, rest]]
    merged = sum(tables[1:], tables[0])
    assert merged.n_rows == whole.n_rows
    assert list(merged.index) == list(whole.index)
    np.testing.assert_allclose(merged.cells, whole.cells, rtol=1e-12)
    np.testing.assert_array_equal(merged.cell_n, whole.cell_n)
    a = fa.group_metrics(whole)
    b = fa.group_metrics(merged)
    _assert_same(a, b, rtol=1e-12)
    if whole.scores is not None:
        assert merged.scores is not None
        np.testing.assert_array_equal(merged.scores.score, whole.scores.score)
        np.testing.assert_array_equal(merged.scores.pos_n, whole.scores.pos_n)
        # same atoms: the bootstrap is the same too
        _assert_same(
            fa.group_metrics(whole, n_boot=50, random_state=0),
            fa.group_metrics(merged, n_boot=50, random_state=0),
            rtol=1e-10,
        )


def test_add_unions_new_labels_in_sorted_order() -> None:
    a = count_table([1, 0], [1, 1], sensitive_features=["m", "z"])
    b = count_table([1, 0], [0, 0], sensitive_features=["a", "m"])
    both = a + b
    assert list(both.index) == ["a", "m", "z"]
    assert both.group_rows.tolist() == [1, 2, 1]
    assert sum([a, b]).group_rows.tolist() == [1, 2, 1]


@pytest.mark.parametrize(
    ("other", "match"),
    [
        ({"y_true": [0.5, 1.5], "y_pred": [0.1, 1.2]}, "tasks"),
        ({"y_true": [1, 0], "y_pred": [1, 0], "pos_label": 0}, "pos_label"),
        ({"y_true": [1, 0], "y_pred": [1, 0], "sample_weight": [1.0, 2.0]}, "weighting"),
        ({"y_true": [1, 0], "y_pred": [1, 0], "y_score": [0.2, 0.3]}, "score"),
    ],
)
def test_add_refuses_different_tables(other: dict, match: str) -> None:
    a = count_table([1, 0], [1, 1], sensitive_features=["m", "z"])
    b = count_table(**other, sensitive_features=["m", "z"])
    with pytest.raises(DataError, match=match):
        a + b


def test_add_refuses_different_features_and_classes() -> None:
    a = count_table([1, 0], [1, 1], sensitive_features={"sex": ["m", "f"]})
    b = count_table([1, 0], [1, 1], sensitive_features={"race": ["m", "f"]})
    with pytest.raises(DataError, match="sensitive features"):
        a + b
    c = count_table(["x", "y"], ["x", "y"], sensitive_features=["m", "f"], pos_label=None)
    d = count_table(["x", "z"], ["x", "z"], sensitive_features=["m", "f"], pos_label=None)
    with pytest.raises(DataError, match="classes"):
        c + d
    with pytest.raises(TypeError):
        a + 1  # type: ignore[operator]


@pytest.mark.parametrize("case", list(CASES))
def test_parquet_round_trip_is_lossless(case: str, tmp_path) -> None:
    df = _frame(800)
    df["s"] = df["s"].where(df["s"] != "c", None)
    kw = CASES[case]
    table = count_table(**kw, sensitive_features=["s", "r"], data=df, missing_groups="separate")
    path = tmp_path / "t.parquet"
    table.to_parquet(path)
    back = CountTable.from_parquet(path)
    assert back.task == table.task
    assert back.weighted == table.weighted
    assert back.pos_label == table.pos_label
    assert back.classes == table.classes
    assert list(back.index) == list(table.index)
    assert [type(v) for v in back.feature_levels[1]] == [type(v) for v in table.feature_levels[1]]
    np.testing.assert_array_equal(back.cells, table.cells)
    np.testing.assert_array_equal(back.cell_n, table.cell_n)
    assert back.cell_n.dtype == table.cell_n.dtype
    for name in ("scores",):
        if getattr(table, name) is not None:
            for f in ("group", "score", "pos_w", "neg_w", "pos_n", "neg_n"):
                np.testing.assert_array_equal(getattr(back.scores, f), getattr(table.scores, f))
    _assert_same(
        fa.group_metrics(table, n_boot=30, random_state=1),
        fa.group_metrics(back, n_boot=30, random_state=1),
    )


def test_from_parquet_refuses_other_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        CountTable.from_parquet(tmp_path / "none.parquet")
    other = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(other)
    with pytest.raises(DataError, match="not a count table"):
        CountTable.from_parquet(other)


def test_to_frame_long_format() -> None:
    t = count_table([1, 0, 1], [1, 1, 0], sensitive_features={"sex": ["f", "f", "m"]})
    frame = t.to_frame()
    assert list(frame.columns) == ["sex", "y_true", "y_pred", "count", "weight"]
    assert frame["count"].sum() == 3
    assert frame.loc[(frame.sex == "f") & frame.y_true & frame.y_pred, "count"].item() == 1
    with pytest.raises(DataError, match="no scores"):
        t.to_frame("scores")
    with pytest.raises(ValueError, match="part"):
        t.to_frame("other")
    assert "CountTable(task='binary'" in repr(t)


def test_group_metrics_of_a_table_refuses_data_arguments() -> None:
    t = count_table([1, 0], [1, 1], sensitive_features=["m", "z"])
    with pytest.raises(TypeError, match="do not pass y_pred"):
        fa.group_metrics(t, [1, 0])
    with pytest.raises(DataError, match="fingerprint"):
        fa.group_metrics(t, fingerprint=True)


def test_count_table_pairs_pandas_inputs_on_their_index() -> None:
    # y_pred's rows are in another order: paired by label, as group_metrics pairs them
    y = pd.Series([1, 0, 1, 0], index=[10, 11, 12, 13])
    p = pd.Series([0, 1, 0, 1], index=[13, 12, 11, 10])  # = [1, 0, 1, 0] on y's index
    s = pd.Series(list("aabb"), index=[10, 11, 12, 13])
    table = count_table(y, p, sensitive_features=s)
    # group a: rows 10 (1, 1) and 11 (0, 0): one TN and one TP; the same in group b
    assert table.cell_n.tolist() == [[1, 0, 0, 1], [1, 0, 0, 1]]
    gm = fa.group_metrics(y, p, sensitive_features=s, metrics=["accuracy"], min_group_size=1)
    assert gm.by_group["accuracy"].tolist() == [1.0, 1.0]
    with pytest.raises(DataError, match="indexes hold different labels"):
        count_table(y, p.set_axis([0, 1, 2, 3]), sensitive_features=s)
    with pytest.raises(DataError, match="has no index to pair on"):
        count_table(y, p, sensitive_features=s.to_numpy())


def test_pos_label_left_out_is_a_sentinel_not_one() -> None:
    import inspect
    import pickle

    from fairaudit._validation import NOT_GIVEN

    for func in (fa.group_metrics, count_table):
        default = inspect.signature(func).parameters["pos_label"].default
        assert default is NOT_GIVEN
        assert repr(default) == "<not given>"
        assert not isinstance(default, int)
    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN
    y = ["a", "b", "c", "a", "b", "c"]
    p = ["a", "b", "b", "a", "c", "c"]
    s = list("xxxyyy")
    # left out: 1, and more than two labels refused; given (any label): one against the rest
    for func in (fa.group_metrics, count_table):
        with pytest.raises(DataError, match="two labels"):
            func(y, p, sensitive_features=s)
    table = count_table(y, p, sensitive_features=s, pos_label="b")
    assert table.pos_label == "b"
    # x: (a, a) TN, (b, b) TP, (c, b) FP; y: (a, a) TN, (b, c) FN, (c, c) TN
    assert table.cell_n.tolist() == [[1, 1, 0, 1], [2, 0, 1, 0]]
    assert (
        count_table([0, 1, 2], [0, 1, 1], sensitive_features=list("aab"), pos_label=1).n_rows == 3
    )
    one = count_table([0, 1, 1], [0, 1, 0], sensitive_features=list("aab"))
    assert one.pos_label == 1
    gm = fa.group_metrics(
        y, p, sensitive_features=s, pos_label="b", metrics=["selection_rate"], min_group_size=1
    )
    assert gm.provenance["parameters"]["pos_label"] == "b"
