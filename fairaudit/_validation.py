"""Input checks at the public boundary.

Every public function validates its inputs once, here, and the internals trust them. Messages
name the argument, say what was expected and what was got, and give the fix when there is one.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairaudit.exceptions import DataError, MissingValueError

__all__ = [
    "MAX_ARRAY_BYTES",
    "MAX_N_BOOT",
    "MAX_N_PERMUTATIONS",
    "MAX_RANDOM_STATE",
    "NOT_GIVEN",
    "align_on_index",
    "as_1d",
    "as_frame",
    "as_generator",
    "check_batch_size",
    "check_confidence",
    "check_consistent_length",
    "check_count",
    "check_memory",
    "check_min_group_size",
    "check_n_boot",
    "check_n_permutations",
    "check_no_missing",
    "check_one_label_type",
    "check_random_state",
    "check_sample_weight",
    "check_scalar",
    "find_missing",
    "format_values",
    "resolve_pos_label",
]


class _NotGiven:
    """The default of an argument that was left out, told apart from every value passed.

    ``group_metrics(..., pos_label=<not given>)`` means 1, with more than two labels refused;
    a ``pos_label`` that is passed (1 included) picks that class against the rest. One
    instance, :data:`NOT_GIVEN`; it survives pickling (Spark ships it to executors).
    """

    _instance: _NotGiven | None = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<not given>"

    def __reduce__(self) -> tuple[Any, tuple[()]]:
        return (_NotGiven, ())


#: The default of ``pos_label`` where leaving it out differs from passing 1 (see
#: :func:`resolve_pos_label`).
NOT_GIVEN: Any = _NotGiven()


def resolve_pos_label(pos_label: Any) -> tuple[Any, bool]:
    """Return ``(pos_label, one_vs_rest)``: 1 and False when not given, else the value and True.

    Examples
    --------
    >>> resolve_pos_label(NOT_GIVEN)
    (1, False)
    >>> resolve_pos_label("yes")
    ('yes', True)
    """
    if pos_label is NOT_GIVEN:
        return 1, False
    return pos_label, True


#: The most bootstrap replicates (or permutations) any function accepts. The Monte Carlo error
#: of a 95% percentile bound is already below 0.1% of the interval's width at 10,000
#: replicates; beyond 100,000 the time and memory only grow.
MAX_N_BOOT = 100_000
#: The most Monte Carlo permutations a test accepts: the p-value's resolution is
#: ``1 / (n_permutations + 1)``; permutations are drawn in chunks, so this bounds time only.
MAX_N_PERMUTATIONS = 10_000_000
#: ``random_state`` ints are seeds in ``[0, 2**32 - 1]``, the range scikit-learn and numpy's
#: legacy ``RandomState`` accept, so one seed means the same thing everywhere it is passed.
MAX_RANDOM_STATE = 2**32 - 1
#: Largest single array a check lets a function allocate (bytes) before it refuses.
MAX_ARRAY_BYTES = 4 * 2**30

_MAX_SHOWN = 5


def format_values(values: Sequence[Any] | np.ndarray, limit: int = _MAX_SHOWN) -> str:
    """Show at most ``limit`` values, and how many more there are.

    Examples
    --------
    >>> format_values([3, 1, 4, 1, 5, 9, 2])
    '[3, 1, 4, 1, 5, ... and 2 more]'
    """
    values = list(values)
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in values[:limit])
    more = f", ... and {len(values) - limit} more" if len(values) > limit else ""
    return f"[{shown}{more}]"


def _from_foreign(x: Any) -> Any:
    """Convert polars and pyarrow objects to pandas without importing either."""
    module = type(x).__module__
    if module.startswith("polars"):
        return x.to_pandas()
    if module.startswith("pyarrow"):
        return x.to_pandas()
    return x


def _mixed_scalars(values: Sequence[Any]) -> bool:
    """Whether a list holds strings beside non-strings, or booleans beside numbers."""
    kinds = {
        "str"
        if isinstance(v, str | bytes)
        else "bool"
        if isinstance(v, bool | np.bool_)
        else "other"
        for v in values
    }
    return len(kinds) > 1


def as_1d(x: Any, *, name: str) -> pd.Series:
    """Turn a 1-D array-like into a pandas Series with a fresh RangeIndex.

    Lists, tuples, numpy arrays, pandas Series (categorical and nullable dtypes kept), a
    one-column DataFrame, polars and pyarrow arrays are accepted.

    Parameters
    ----------
    x : array-like of shape (n_samples,)
        The values.
    name : str
        Argument name, used in error messages and as the Series name when ``x`` has none.

    Returns
    -------
    pandas.Series
        The values, index reset to ``0..n-1``.

    Examples
    --------
    >>> as_1d([1, 0, 1], name="y_true").tolist()
    [1, 0, 1]
    >>> as_1d(np.zeros((2, 2)), name="y_pred")
    Traceback (most recent call last):
    ...
    fairaudit.exceptions.DataError: y_pred must be 1-dimensional, got an array of shape (2, 2); pass one value per sample.
    """
    if x is None:
        raise TypeError(f"{name} must be array-like, got None.")
    if isinstance(x, str | bytes | dict):
        raise TypeError(f"{name} must be array-like of shape (n_samples,), got {type(x).__name__}.")
    x = _from_foreign(x)
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise DataError(
                f"{name} must be 1-dimensional, got a DataFrame with {x.shape[1]} columns; "
                "pass a single column."
            )
        x = x.iloc[:, 0]
    if isinstance(x, pd.Series):
        out = x.reset_index(drop=True)
        if out.name is None:
            out.name = name
        return out
    try:
        arr = np.asarray(x)
        if isinstance(x, list | tuple) and arr.dtype.kind in "USibf" and _mixed_scalars(x):
            # numpy would turn [1, "a"] into strings and [True, 2] into integers: keep the
            # values as given, so that the checks downstream see what the caller passed
            arr = np.asarray(x, dtype=object)
    except Exception as exc:  # numpy raises several types for ragged input
        raise TypeError(
            f"{name} must be array-like of shape (n_samples,), got {type(x).__name__}."
        ) from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(
            f"{name} must be 1-dimensional, got an array of shape {arr.shape}; "
            "pass one value per sample."
        )
    return pd.Series(arr, name=name)


def as_frame(X: Any, *, name: str = "X") -> pd.DataFrame:
    """Turn a 2-D array-like into a DataFrame (columns ``x0, x1, ...`` for arrays).

    Examples
    --------
    >>> as_frame(np.eye(2)).columns.tolist()
    ['x0', 'x1']
    """
    if X is None:
        raise TypeError(f"{name} must be a 2-D array-like, got None.")
    X = _from_foreign(X)
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise DataError(f"{name} must be 2-dimensional, got an array of shape {arr.shape}.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def check_consistent_length(**arrays: Any) -> int:
    """Check that all given arrays have the same number of rows; return it.

    ``None`` values are skipped. The first argument is the reference.

    Examples
    --------
    >>> check_consistent_length(y_true=[0, 1, 1, 0], sensitive_features=["a", "b", "a"])
    Traceback (most recent call last):
    ...
    fairaudit.exceptions.DataError: sensitive_features has 3 rows but y_true has 4; pass one row per sample.
    """
    ref_name: str | None = None
    ref_len = 0
    for arg, value in arrays.items():
        if value is None:
            continue
        n = len(value)
        if ref_name is None:
            ref_name, ref_len = arg, n
        elif n != ref_len:
            raise DataError(
                f"{arg} has {n} rows but {ref_name} has {ref_len}; pass one row per sample."
            )
    return ref_len


# what pandas.api.types.infer_dtype answers for a column holding values of several types
_MIXED_KINDS = frozenset({"mixed", "mixed-integer", "mixed-integer-float", "unknown-array"})


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def check_one_label_type(values: pd.Series | pd.Index, *, name: Any) -> None:
    """Refuse a sensitive feature whose labels are of several types (``1`` and ``"1"``).

    The rule, everywhere groups are labelled: one sensitive feature, one type of label. Mixed
    types either collide (``1``, ``True`` and ``1.0`` are equal as dictionary keys, so they
    would merge into one group) or print the same (``1`` and ``"1"`` would be two groups shown
    as "1" in every report and policy); neither can be told apart downstream, so the caller
    casts the column first. Missing values are not labels and are left to ``missing_groups``.

    Examples
    --------
    >>> check_one_label_type(pd.Series(["a", "b", None]), name="race")
    >>> check_one_label_type(pd.Series([1, "1", True], dtype=object), name="race")
    Traceback (most recent call last):
    ...
    fairaudit.exceptions.DataError: sensitive feature 'race' mixes label types (bool [True]; int [1]; str ['1']); labels such as 1 and '1' would print alike and 1, True and 1.0 would merge into one group. Cast the column to one type first, e.g. .astype(str).
    """
    if values.dtype != object:
        return  # a typed column (categories: checked on the categories) holds one type
    if pd.api.types.infer_dtype(values, skipna=True) not in _MIXED_KINDS:
        return
    present = pd.Series(np.asarray(values, dtype=object))
    present = present[present.notna()]
    kinds = present.map(_kind)  # a Python pass, on a column already known to be mixed
    if kinds.nunique() < 2:
        return  # e.g. tuples, or one class of objects
    # 1, True and 1.0 are one key to pd.unique: collect the distinct values kind by kind
    parts = "; ".join(
        f"{kind} {format_values(pd.unique(present[kinds == kind]).tolist())}"
        for kind in sorted(kinds.unique())
    )
    raise DataError(
        f"sensitive feature {name!r} mixes label types ({parts}); labels such as 1 and '1' "
        "would print alike and 1, True and 1.0 would merge into one group. Cast the column to "
        "one type first, e.g. .astype(str)."
    )


def find_missing(values: pd.Series | np.ndarray) -> np.ndarray:
    """Return the positions of missing (None/NaN/NA) or infinite values."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    bad = s.isna().to_numpy().copy()
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_complex_dtype(s.dtype):
        bad |= np.isinf(s.to_numpy(dtype=float, na_value=np.nan))
    return np.flatnonzero(bad)


def check_no_missing(values: pd.Series | np.ndarray, *, name: str, hint: str = "") -> None:
    """Raise MissingValueError naming the rows with missing or infinite values.

    Examples
    --------
    >>> check_no_missing(pd.Series([1.0, np.nan, 0.0]), name="y_pred")
    Traceback (most recent call last):
    ...
    fairaudit.exceptions.MissingValueError: y_pred has 1 missing or infinite value(s) at rows [1]; remove or impute them before calling.
    """
    rows = find_missing(values)
    if rows.size:
        fix = hint or "remove or impute them before calling."
        raise MissingValueError(
            f"{name} has {rows.size} missing or infinite value(s) at rows "
            f"{format_values(rows)}; {fix}"
        )


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Validate sample weights: 1-D, finite, non-negative, one per sample, not all zero.

    Examples
    --------
    >>> check_sample_weight([1, 2, 0], 3)
    array([1., 2., 0.])
    """
    if sample_weight is None:
        return None
    w = as_1d(sample_weight, name="sample_weight")
    check_consistent_length(samples=np.empty(n_samples), sample_weight=w)
    if not pd.api.types.is_numeric_dtype(w.dtype) or pd.api.types.is_bool_dtype(w.dtype):
        raise TypeError(f"sample_weight must be numeric, got dtype {w.dtype}.")
    check_no_missing(w, name="sample_weight")
    arr = w.to_numpy(dtype=np.float64)
    negative = np.flatnonzero(arr < 0)
    if negative.size:
        raise DataError(
            f"sample_weight has {negative.size} negative value(s) at rows "
            f"{format_values(negative)}; weights must be >= 0."
        )
    if n_samples and not arr.any():
        raise DataError("sample_weight is zero everywhere; at least one weight must be > 0.")
    return arr


def as_generator(
    random_state: int | np.random.Generator | None, *, name: str = "random_state"
) -> np.random.Generator:
    """Turn ``random_state`` into a numpy Generator (never touches the global seed).

    ``random_state`` is checked by :func:`check_random_state` first.

    Examples
    --------
    >>> int(as_generator(0).integers(10)) == int(as_generator(0).integers(10))
    True
    """
    random_state = check_random_state(random_state, name=name)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)


# --------------------------------------------------------------------------------------------
# Scalar options: one wording everywhere (scikit-learn's check_scalar, plus the fix)
# --------------------------------------------------------------------------------------------


def _type_name(t: type) -> str:
    if t is numbers.Real:
        return "float"
    if t is numbers.Integral:
        return "int"
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def check_scalar(
    value: Any,
    name: str,
    target_type: type | tuple[type, ...],
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    include_boundaries: str = "both",
) -> Any:
    """Check a scalar's type and range with the messages of ``sklearn.utils.check_scalar``.

    Our own few lines rather than scikit-learn's (importing ``sklearn.utils`` costs a second or
    more, which every call of the command line paid); a test checks that both raise the same
    errors with the same messages.
    """
    if not isinstance(value, target_type):
        if isinstance(target_type, tuple):
            expected = "{" + ", ".join(_type_name(t) for t in target_type) + "}"
        else:
            expected = _type_name(target_type)
        raise TypeError(
            f"{name} must be an instance of {expected}, not {type(value).__qualname__}."
        )
    if include_boundaries not in ("left", "right", "both", "neither"):
        raise ValueError(
            f"include_boundaries must be left, right, both or neither, got {include_boundaries!r}."
        )
    x: Any = value  # a number from here on (the isinstance check above narrows to object)
    closed_low = include_boundaries in ("left", "both")
    closed_high = include_boundaries in ("right", "both")
    if min_val is not None and (x < min_val if closed_low else x <= min_val):
        raise ValueError(f"{name} == {value}, must be {'>=' if closed_low else '>'} {min_val}.")
    if max_val is not None and (x > max_val if closed_high else x >= max_val):
        raise ValueError(f"{name} == {value}, must be {'<=' if closed_high else '<'} {max_val}.")
    return value


def _scalar(
    value: Any,
    name: str,
    target_type: type | tuple[type, ...],
    *,
    min_val: float | None = None,
    max_val: float | None = None,
    include_boundaries: str = "both",
    fix: str = "",
) -> Any:
    """:func:`check_scalar` (scikit-learn's wording), refusing bools and NaN, plus ``fix``."""
    suffix = f" {fix}" if fix else ""
    if isinstance(value, bool | np.bool_):
        names: dict[Any, str] = {numbers.Integral: "int", numbers.Real: "float"}
        expected = names.get(target_type) or str(getattr(target_type, "__name__", target_type))
        raise TypeError(f"{name} must be an instance of {expected}, not bool.{suffix}")
    try:
        check_scalar(
            value,
            name,
            target_type,
            min_val=min_val,
            max_val=max_val,
            include_boundaries=include_boundaries,
        )
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{exc}{suffix}") from None
    if isinstance(value, numbers.Real) and not np.isfinite(float(value)):
        raise ValueError(f"{name} == {value}, must be a finite number.{suffix}")
    return value


def check_count(
    value: Any,
    *,
    name: str,
    min_val: int = 0,
    max_val: int | None = None,
    fix: str = "",
) -> int:
    """Check an integer option (bools and floats refused, never truncated); return an int.

    Parameters
    ----------
    value : object
        The value given.
    name : str
        How the caller names the option (``"n_boot"``; ``"--n-boot"`` on the command line).
    min_val, max_val : int, optional
        Inclusive bounds.
    fix : str, optional
        A sentence appended to the message, saying what to pass instead.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        ``value`` is not an integer (a float such as ``2.0`` or ``2.7`` included).
    ValueError
        ``value`` is out of bounds.

    Examples
    --------
    >>> check_count(3, name="n_repeats", min_val=1)
    3
    >>> check_count(2.7, name="n_repeats", min_val=1)
    Traceback (most recent call last):
    ...
    TypeError: n_repeats must be an instance of int, not float.
    """
    _scalar(value, name, numbers.Integral, min_val=min_val, max_val=max_val, fix=fix)
    return int(value)


def check_n_boot(n_boot: Any, *, name: str = "n_boot", min_val: int = 0) -> int:
    """Check a number of bootstrap replicates: an int in ``[min_val, MAX_N_BOOT]``.

    The bound (:data:`MAX_N_BOOT`, 100,000) refuses absurd values before any allocation;
    functions whose memory also grows with the data check it with :func:`check_memory`.

    Examples
    --------
    >>> check_n_boot(1000)
    1000
    >>> check_n_boot(10**9)
    Traceback (most recent call last):
    ...
    ValueError: n_boot == 1000000000, must be <= 100000. Use at most 100,000 replicates (1,000 to 10,000 give stable 95% intervals); 0 for no bootstrap.
    >>> check_n_boot(-1, name="--n-boot")
    Traceback (most recent call last):
    ...
    ValueError: --n-boot == -1, must be >= 0. Use at most 100,000 replicates (1,000 to 10,000 give stable 95% intervals); 0 for no bootstrap.
    """
    fix = f"Use at most {MAX_N_BOOT:,} replicates (1,000 to 10,000 give stable 95% intervals)" + (
        "; 0 for no bootstrap." if min_val <= 0 else "."
    )

    return check_count(n_boot, name=name, min_val=min_val, max_val=MAX_N_BOOT, fix=fix)


def _pandas_parts(name: str, value: Any) -> list[tuple[str, pd.Series | pd.DataFrame]]:
    if isinstance(value, pd.Series | pd.DataFrame):
        return [(name, value)]
    if isinstance(value, dict):
        return [(f"{name}[{key!r}]", v) for key, v in value.items() if isinstance(v, pd.Series)]
    return []


def _is_positional(value: Any) -> bool:
    """Tell whether the input is an array-like paired by position (not None, pandas, a scalar)."""
    if value is None or isinstance(value, pd.Series | pd.DataFrame | str | bytes):
        return False
    if isinstance(value, dict):
        return any(not isinstance(v, pd.Series) for v in value.values())
    return hasattr(value, "__len__")


def align_on_index(**inputs: Any) -> dict[str, Any]:
    """Pair pandas inputs by their index labels; arrays and lists by position.

    The rule of every public function that takes several per-row inputs (``X``, ``y_true``,
    ``y_pred``, ``y_score``, ``sample_weight``, ``sensitive_features``, ...):

    - pandas Series and DataFrames (and the Series of a dict of columns) whose indexes hold the
      same labels are paired on those labels: when the order differs they are reordered to the
      row order of the first pandas input, in argument order;
    - pandas inputs whose indexes hold different labels, or repeat a label, are refused
      (:class:`~fairaudit.exceptions.DataError`): pairing them by position would silently pair
      unrelated rows;
    - numpy arrays, lists and other array-likes have no labels and pair by position. When the
      pandas inputs need reordering, such an input is ambiguous (in which order are its rows?),
      so that is refused too.

    Inputs of different lengths are returned as given, for the length check that follows to
    name them.

    Parameters
    ----------
    **inputs
        The per-row inputs by argument name, in argument order; ``None`` values are skipped.

    Returns
    -------
    dict
        The same names, pandas inputs reordered where needed, everything else unchanged.

    Examples
    --------
    >>> y_true = pd.Series([1, 0], index=["a", "b"])
    >>> y_pred = pd.Series([0, 1], index=["b", "a"])
    >>> align_on_index(y_true=y_true, y_pred=y_pred)["y_pred"].tolist()
    [1, 0]
    >>> align_on_index(y_true=y_true, y_pred=pd.Series([0, 1]))
    Traceback (most recent call last):
    ...
    fairaudit.exceptions.DataError: y_pred and y_true are pandas objects whose indexes hold different labels (e.g. 0 and 1 in y_pred are not in y_true); pairing them by position would pair unrelated rows. Give them the same index, or pass .to_numpy() (or .reset_index(drop=True)) to pair them by position.
    """
    parts = [part for name, value in inputs.items() for part in _pandas_parts(name, value)]
    if len(parts) < 2:
        return dict(inputs)
    ref_name, ref = parts[0]
    ref_index = ref.index
    if any(len(obj) != len(ref) for _, obj in parts):
        return dict(inputs)  # the length check names them
    reorder: dict[str, np.ndarray] = {}
    for name, obj in parts[1:]:
        index = obj.index
        if index.equals(ref_index):
            continue
        duplicated = [n for n, ix in ((ref_name, ref_index), (name, index)) if not ix.is_unique]
        if duplicated:
            raise DataError(
                f"{name} and {ref_name} have pandas indexes in a different order, and "
                f"{' and '.join(duplicated)} repeats index labels, so their rows cannot be "
                "paired by label. Give them the same index, or pass .to_numpy() (or "
                ".reset_index(drop=True)) to pair them by position."
            )
        positions = index.get_indexer(ref_index)
        if (positions < 0).any():
            absent = index[~index.isin(ref_index)]
            shown = " and ".join(repr(_plain(v)) for v in absent[:2])
            raise DataError(
                f"{name} and {ref_name} are pandas objects whose indexes hold different labels "
                f"(e.g. {shown} in {name} are not in {ref_name}); pairing them by position "
                "would pair unrelated rows. Give them the same index, or pass .to_numpy() (or "
                ".reset_index(drop=True)) to pair them by position."
            )
        reorder[name] = positions
    if not reorder:
        return dict(inputs)
    positional = [name for name, value in inputs.items() if _is_positional(value)]
    if positional:
        moved = ", ".join(reorder)
        raise DataError(
            f"{moved} and {ref_name} hold the same index labels in a different order, but "
            f"{', '.join(positional)} has no index to pair on (numpy array or list). Pass "
            f"{', '.join(positional)} as a pandas object with the index of its rows, or put all "
            "inputs in one row order first (e.g. .loc[y_true.index])."
        )
    out = dict(inputs)
    for name, value in inputs.items():
        if isinstance(value, pd.Series | pd.DataFrame) and name in reorder:
            out[name] = value.iloc[reorder[name]]
        elif isinstance(value, dict):
            out[name] = {
                key: v.iloc[reorder[f"{name}[{key!r}]"]] if f"{name}[{key!r}]" in reorder else v
                for key, v in value.items()
            }
    return out


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def check_n_permutations(n_permutations: Any, *, name: str = "n_permutations") -> int:
    """Check a number of permutations: an int in ``[1, MAX_N_PERMUTATIONS]``.

    Examples
    --------
    >>> check_n_permutations(10_000)
    10000
    >>> check_n_permutations(0)
    Traceback (most recent call last):
    ...
    ValueError: n_permutations == 0, must be >= 1. Use 1 to 10,000,000 permutations (10,000 resolve p-values down to 1e-4).
    """
    fix = f"Use 1 to {MAX_N_PERMUTATIONS:,} permutations (10,000 resolve p-values down to 1e-4)."
    return check_count(n_permutations, name=name, min_val=1, max_val=MAX_N_PERMUTATIONS, fix=fix)


def check_confidence(confidence: Any, *, name: str = "confidence") -> float:
    """Check a confidence level: a real number strictly between 0 and 1; return a float.

    Examples
    --------
    >>> check_confidence(0.9)
    0.9
    >>> check_confidence(95)
    Traceback (most recent call last):
    ...
    ValueError: confidence == 95, must be < 1. Pass a level such as 0.95 (not 95).
    """
    _scalar(
        confidence,
        name,
        numbers.Real,
        min_val=0,
        max_val=1,
        include_boundaries="neither",
        fix="Pass a level such as 0.95 (not 95).",
    )
    return float(confidence)


def check_random_state(random_state: Any, *, name: str = "random_state") -> Any:
    """Check a seed: None, an int in ``[0, 2**32 - 1]``, or a numpy Generator/RandomState.

    Returned unchanged (a numpy integer becomes an int).

    Examples
    --------
    >>> check_random_state(0)
    0
    >>> check_random_state(-1)
    Traceback (most recent call last):
    ...
    ValueError: random_state == -1, must be >= 0. Pass a seed in [0, 4294967295], a numpy.random.Generator, or None for fresh randomness.
    """
    if random_state is None or isinstance(
        random_state, np.random.Generator | np.random.RandomState
    ):
        return random_state
    fix = (
        f"Pass a seed in [0, {MAX_RANDOM_STATE}], a numpy.random.Generator, or None for "
        "fresh randomness."
    )
    if not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool | np.bool_):
        raise TypeError(
            f"{name} must be None, an int or a numpy.random.Generator, not "
            f"{type(random_state).__qualname__}. {fix}"
        )
    return check_count(random_state, name=name, min_val=0, max_val=MAX_RANDOM_STATE, fix=fix)


def check_min_group_size(min_group_size: Any, *, name: str = "min_group_size") -> int:
    """Check a minimum group size: an int >= 0.

    Examples
    --------
    >>> check_min_group_size(30)
    30
    >>> check_min_group_size(0.5)
    Traceback (most recent call last):
    ...
    TypeError: min_group_size must be an instance of int, not float. Pass a number of rows, e.g. 30 (0 to warn about no group).
    """
    return check_count(
        min_group_size,
        name=name,
        min_val=0,
        fix="Pass a number of rows, e.g. 30 (0 to warn about no group).",
    )


def check_batch_size(
    batch_size: Any, *, name: str = "batch_size", allow_none: bool = True
) -> int | None:
    """Check a batch size: an int >= 1 (or None when ``allow_none``).

    Examples
    --------
    >>> check_batch_size(None) is None
    True
    >>> check_batch_size(0)
    Traceback (most recent call last):
    ...
    ValueError: batch_size == 0, must be >= 1. Pass a number of rows per call, e.g. 4096, or None for all rows at once.
    """
    fix = "Pass a number of rows per call, e.g. 4096" + (
        ", or None for all rows at once." if allow_none else "."
    )
    if batch_size is None and allow_none:
        return None
    return check_count(batch_size, name=name, min_val=1, fix=fix)


def check_memory(n_bytes: float, *, what: str, fix: str) -> None:
    """Refuse to allocate more than :data:`MAX_ARRAY_BYTES` (4 GiB) for one array.

    Examples
    --------
    >>> check_memory(8 * 10**10, what="n_boot=1000 x 10,000,000 rows of weights",
    ...              fix="lower n_boot.")
    Traceback (most recent call last):
    ...
    ValueError: n_boot=1000 x 10,000,000 rows of weights needs 74.5 GiB, more than the 4 GiB fairaudit allocates at once; lower n_boot.
    """
    if n_bytes > MAX_ARRAY_BYTES:
        raise ValueError(
            f"{what} needs {n_bytes / 2**30:.1f} GiB, more than the "
            f"{MAX_ARRAY_BYTES / 2**30:g} GiB fairaudit allocates at once; {fix}"
        )
