"""Input helpers of fairaudit._validation across input types and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fairaudit._validation import (
    as_1d,
    as_frame,
    as_generator,
    check_consistent_length,
    check_no_missing,
    check_sample_weight,
    find_missing,
    format_values,
)
from fairaudit.exceptions import DataError, MissingValueError

VALUES = [1, 0, 1, 1]


def _polars_series(values):
    pl = pytest.importorskip("polars")
    return pl.Series("v", values)


def _arrow_array(values):
    pa = pytest.importorskip("pyarrow")
    return pa.array(values)


def _arrow_chunked(values):
    pa = pytest.importorskip("pyarrow")
    return pa.chunked_array([values[:2], values[2:]])


# the fairlearn-style input matrix: every 1-D container gives the same Series values
CONTAINERS_1D = {
    "list": list,
    "tuple": tuple,
    "ndarray": np.asarray,
    "column_vector": lambda v: np.asarray(v).reshape(-1, 1),
    "series": pd.Series,
    "series_with_index": lambda v: pd.Series(v, index=[10, 3, 7, 1]),
    "one_column_frame": lambda v: pd.DataFrame({"col": v}),
    "polars": _polars_series,
    "pyarrow_array": _arrow_array,
    "pyarrow_chunked": _arrow_chunked,
}


@pytest.mark.parametrize("container", CONTAINERS_1D.values(), ids=CONTAINERS_1D.keys())
def test_as_1d_accepts_every_container(container):
    out = as_1d(container(VALUES), name="y_true")
    assert isinstance(out, pd.Series)
    assert out.tolist() == VALUES
    assert out.index.equals(pd.RangeIndex(4))


def test_as_1d_names():
    assert as_1d([1, 2], name="y_pred").name == "y_pred"
    assert as_1d(pd.Series([1, 2], name="income"), name="y_true").name == "income"
    assert as_1d(pd.DataFrame({"sex": ["a", "b"]}), name="s").name == "sex"


@pytest.mark.parametrize(
    "dtype",
    ["category", "Int64", "boolean", "string", "Float64", "int8", "float32", "object"],
)
def test_as_1d_keeps_pandas_dtypes(dtype):
    values = {"boolean": [True, False, None], "Int64": [1, None, 3], "Float64": [1.5, None, 3.0]}
    data = values.get(
        dtype, ["a", "b", None] if dtype in ("category", "string", "object") else [1, 2, 3]
    )
    series = pd.Series(data, dtype=dtype)
    out = as_1d(series, name="s")
    assert out.dtype == series.dtype


def test_as_1d_keeps_categories_and_order():
    cat = pd.Categorical(["lo", "hi", "lo"], categories=["lo", "mid", "hi"], ordered=True)
    out = as_1d(pd.Series(cat), name="s")
    assert out.cat.categories.tolist() == ["lo", "mid", "hi"]
    assert out.cat.ordered


def test_as_1d_polars_categorical_and_nulls():
    pl = pytest.importorskip("polars")
    out = as_1d(pl.Series("g", ["a", None, "b"], dtype=pl.Categorical), name="g")
    assert out.isna().tolist() == [False, True, False]
    assert out.dropna().astype(str).tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (None, TypeError, "y_true must be array-like, got None"),
        ("abc", TypeError, r"y_true must be array-like of shape \(n_samples,\), got str"),
        ({"a": 1}, TypeError, "got dict"),
        (np.zeros((2, 2)), DataError, r"must be 1-dimensional, got an array of shape \(2, 2\)"),
        (pd.DataFrame({"a": [1], "b": [2]}), DataError, "got a DataFrame with 2 columns"),
        ([[1, 2], [3]], TypeError, "got list"),
    ],
)
def test_as_1d_errors(bad, error, message):
    with pytest.raises(error, match=message):
        as_1d(bad, name="y_true")


CONTAINERS_2D = {
    "ndarray": lambda: np.arange(6).reshape(3, 2),
    "list_of_rows": lambda: [[0, 1], [2, 3], [4, 5]],
    "frame": lambda: pd.DataFrame({"a": [0, 2, 4], "b": [1, 3, 5]}),
    "polars": lambda: pytest.importorskip("polars").DataFrame({"a": [0, 2, 4], "b": [1, 3, 5]}),
    "pyarrow": lambda: pytest.importorskip("pyarrow").table({"a": [0, 2, 4], "b": [1, 3, 5]}),
}


@pytest.mark.parametrize("make", CONTAINERS_2D.values(), ids=CONTAINERS_2D.keys())
def test_as_frame_accepts_every_container(make):
    out = as_frame(make())
    assert isinstance(out, pd.DataFrame)
    assert out.to_numpy().tolist() == [[0, 1], [2, 3], [4, 5]]


def test_as_frame_names_and_shapes():
    assert as_frame(np.eye(3)).columns.tolist() == ["x0", "x1", "x2"]
    assert as_frame(np.arange(3)).shape == (3, 1)
    assert as_frame(pd.Series([1, 2], name="s")).columns.tolist() == ["s"]
    frame = pd.DataFrame({"g": pd.Categorical(["a", "b"])})
    assert as_frame(frame) is frame  # no copy, dtypes kept
    with pytest.raises(
        DataError, match=r"X must be 2-dimensional, got an array of shape \(2, 2, 2\)"
    ):
        as_frame(np.zeros((2, 2, 2)))
    with pytest.raises(TypeError, match="sensitive_features must be a 2-D array-like, got None"):
        as_frame(None, name="sensitive_features")


def test_check_consistent_length():
    assert check_consistent_length(y_true=[1, 2, 3], y_pred=np.zeros(3), sample_weight=None) == 3
    assert check_consistent_length(a=None, b=[1, 2]) == 2
    with pytest.raises(
        DataError, match="y_pred has 2 rows but y_true has 3; pass one row per sample"
    ):
        check_consistent_length(y_true=[1, 2, 3], y_pred=[1, 2])


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pd.Series([1.0, np.nan, np.inf, -np.inf, 0.0]), [1, 2, 3]),
        (pd.Series([1, None, 3], dtype="Int64"), [1]),
        (pd.Series([1.0, None, np.inf], dtype="Float64"), [1, 2]),
        (pd.Series([True, None, False], dtype="boolean"), [1]),
        (pd.Series(["a", None, "b"], dtype="string"), [1]),
        (pd.Series(["a", None, np.nan], dtype=object), [1, 2]),
        (pd.Series(pd.Categorical(["a", None, "a"])), [1]),
        (pd.Series([1, 2, 3]), []),
        (np.array([0.5, np.nan]), [1]),
    ],
)
def test_find_missing(series, expected):
    assert find_missing(series).tolist() == expected


def test_check_no_missing_message():
    check_no_missing(pd.Series([1, 2]), name="y_true")
    with pytest.raises(
        MissingValueError,
        match=r"sensitive_features has 7 missing or infinite value\(s\) at rows \[0, 1, 2, 3, 4, \.\.\. and 2 more\]; drop them",
    ):
        check_no_missing(
            pd.Series([None] * 7, dtype=object), name="sensitive_features", hint="drop them"
        )


def test_check_sample_weight():
    assert check_sample_weight(None, 3) is None
    np.testing.assert_array_equal(check_sample_weight(pd.Series([1, 2, 0]), 3), [1.0, 2.0, 0.0])
    assert check_sample_weight(np.array([1, 2], dtype="int8"), 2).dtype == np.float64
    with pytest.raises(DataError, match=r"sample_weight has 1 negative value\(s\) at rows \[1\]"):
        check_sample_weight([1, -1, 2], 3)
    with pytest.raises(MissingValueError, match="sample_weight has 1 missing"):
        check_sample_weight([1.0, np.nan], 2)
    with pytest.raises(DataError, match="sample_weight is zero everywhere"):
        check_sample_weight([0, 0], 2)
    with pytest.raises(DataError, match="sample_weight has 2 rows but samples has 3"):
        check_sample_weight([1, 1], 3)
    with pytest.raises(TypeError, match="sample_weight must be numeric, got dtype bool"):
        check_sample_weight([True, False], 2)
    with pytest.raises(TypeError, match="sample_weight must be numeric"):
        check_sample_weight(["a", "b"], 2)


def test_as_generator():
    gen = np.random.default_rng(1)
    assert as_generator(gen) is gen
    assert as_generator(3).integers(1000) == np.random.default_rng(3).integers(1000)
    assert as_generator(np.int64(3)).integers(1000) == np.random.default_rng(3).integers(1000)
    assert isinstance(as_generator(None), np.random.Generator)
    state = np.random.RandomState(0)
    assert isinstance(as_generator(state), np.random.Generator)
    for bad in [True, 1.5, "0"]:
        with pytest.raises(TypeError, match="random_state must be None, an int or a numpy"):
            as_generator(bad)


def test_format_values():
    assert format_values([]) == "[]"
    assert format_values(np.array([1, 2])) == "[1, 2]"
    assert format_values(["a", "b"]) == "['a', 'b']"
    assert format_values(range(8), limit=3) == "[0, 1, 2, ... and 5 more]"


def test_check_scalar_says_what_scikit_learn_says():
    """fairaudit's check_scalar (no sklearn import) raises sklearn's errors, word for word."""
    import numbers

    from sklearn.utils import check_scalar as sklearn_check_scalar

    from fairaudit._validation import check_scalar

    values = [0, 1, 5, -3, 2.5, 0.0, 1.0, float("inf"), "3", None, np.int64(4), np.float32(0.5)]
    types = [numbers.Integral, numbers.Real, int, float, (int, float), (numbers.Integral, str)]
    bounds = [(None, None), (0, None), (1, 10), (None, 1), (0.0, 1.0)]
    checked = 0
    for value in values:
        for target_type in types:
            for low, high in bounds:
                for include in ("both", "left", "right", "neither"):
                    if (include == "left" and low is None) or (include == "right" and high is None):
                        continue  # sklearn refuses these argument combinations themselves
                    kw = {"min_val": low, "max_val": high, "include_boundaries": include}
                    try:
                        expected = sklearn_check_scalar(value, "n", target_type, **kw)
                    except (TypeError, ValueError) as exc:
                        expected = exc
                    if isinstance(expected, Exception):
                        with pytest.raises(type(expected)) as info:
                            check_scalar(value, "n", target_type, **kw)
                        assert str(info.value) == str(expected)
                    else:
                        assert check_scalar(value, "n", target_type, **kw) is expected
                    checked += 1
    assert checked > 1000


def test_import_fairaudit_loads_neither_sklearn_nor_scipy_stats():
    """The command line's start: debias (scikit-learn estimators) loads on first access."""
    import subprocess
    import sys

    code = (
        "import sys, fairaudit as fa; "
        "print(sorted(m for m in ('sklearn', 'scipy.stats', 'torch', 'duckdb') if m in sys.modules)); "
        "fa.debias.AdversarialDebiasingClassifier; print('sklearn' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"
