"""Turn user inputs into integer codes: groups from sensitive features, labels from y.

Everything here runs once per call, in O(n), without a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._validation import (
    _from_foreign,
    as_1d,
    check_one_label_type,
    find_missing,
    format_values,
)
from fairaudit.exceptions import DataError, MissingValueError

MISSING_LABEL = "missing"

# Sensitive-value combinations are counted densely (a table row per possible combination,
# empty ones dropped after counting) up to max(n_rows, this); beyond, they are compressed to
# the observed ones with np.unique first.
_MIN_DENSE_COMBINATIONS = 1 << 16


@dataclass(frozen=True)
class GroupEncoding:
    """Integer group codes, possibly with unobserved codes (dropped after counting).

    With few enough combinations, a row's code is the mixed-radix combination of its
    per-feature codes, so that the counting pass is the only pass; groups with no rows are
    dropped from the (small) count table afterwards with :meth:`labels`.
    """

    codes: np.ndarray  # (n,) intp in 0..n_codes-1
    n_codes: int
    combos: np.ndarray | None  # combined value of each code (None: the code is the value)
    sizes: tuple[int, ...]
    feature_names: tuple[str, ...]
    feature_levels: tuple[pd.Index, ...]  # labels of each feature, in code order

    def feature_codes_of(self, codes: np.ndarray) -> np.ndarray:
        """(len(codes), n_features) per-feature code of each group code."""
        rest = np.asarray(codes if self.combos is None else self.combos[codes], dtype=np.intp)
        out = np.empty((rest.size, len(self.sizes)), dtype=np.intp)
        rest = rest.copy()
        for j in range(len(self.sizes) - 1, -1, -1):
            out[:, j] = rest % self.sizes[j]
            rest //= self.sizes[j]
        return out

    def labels(self, keep: np.ndarray) -> tuple[pd.Index, np.ndarray]:
        """Index of the kept group codes (named after the features) and their feature codes."""
        feature_codes = self.feature_codes_of(keep)
        names = list(self.feature_names)
        levels = self.feature_levels
        if len(names) == 1:
            index: pd.Index = pd.Index(
                levels[0].take(feature_codes[:, 0]), dtype=object, name=names[0]
            )
        else:
            index = pd.MultiIndex(
                levels=[pd.Index(lv, dtype=object) for lv in levels],
                codes=[list(feature_codes[:, j]) for j in range(len(names))],
                names=names,
            )
        return index, feature_codes


def _as_labels(values: Any) -> Any:
    """Keep a list or tuple of labels as objects: numpy would cast [1, "a"] to strings."""
    return np.asarray(values, dtype=object) if isinstance(values, list | tuple) else values


def _sensitive_columns(sensitive_features: Any, n_rows: int | None) -> list[pd.Series]:
    """Split the sensitive features into named 1-D columns."""
    if sensitive_features is None:
        raise TypeError(
            "sensitive_features is required: pass one value per sample (array-like), "
            "a DataFrame, or a dict of columns."
        )
    sf = _from_foreign(sensitive_features)
    if isinstance(sf, pd.Categorical | pd.Index):
        sf = pd.Series(sf)
    if isinstance(sf, dict):
        if not sf:
            raise DataError("sensitive_features is an empty dict; pass at least one column.")
        return [as_1d(_as_labels(v), name=str(k)).rename(str(k)) for k, v in sf.items()]
    if isinstance(sf, pd.DataFrame):
        if sf.shape[1] == 0:
            raise DataError("sensitive_features has no columns; pass at least one column.")
        cols = []
        for i, name in enumerate(sf.columns):
            col = sf.iloc[:, i].reset_index(drop=True)
            col.name = str(name) if name is not None else f"sensitive_feature_{i}"
            cols.append(col)
        return cols
    if isinstance(sf, pd.Series):
        name = str(sf.name) if sf.name is not None else "sensitive_feature_0"
        return [sf.reset_index(drop=True).rename(name)]
    if (
        isinstance(sf, list | tuple)
        and sf
        and all(isinstance(c, list | tuple | np.ndarray | pd.Series) for c in sf)
    ):
        # A list of columns, as fairlearn accepts: only when the lengths say so.
        lengths = {len(c) for c in sf}
        if len(lengths) == 1 and lengths != {n_rows} and len(sf) == n_rows:
            pass  # a list of rows
        elif len(lengths) == 1 and (n_rows is None or lengths == {n_rows}):
            return [
                as_1d(_as_labels(c), name=f"sensitive_feature_{i}").rename(f"sensitive_feature_{i}")
                for i, c in enumerate(sf)
            ]
    arr = np.asarray(sf, dtype=object) if isinstance(sf, list | tuple) else np.asarray(sf)
    if arr.ndim == 2:
        return [pd.Series(arr[:, j], name=f"sensitive_feature_{j}") for j in range(arr.shape[1])]
    col = as_1d(arr, name="sensitive_feature_0")
    return [col.rename("sensitive_feature_0")]


def _factorize(
    col: pd.Series, *, missing_groups: Literal["error", "separate"]
) -> tuple[np.ndarray, pd.Index]:
    """Codes (sorted label order; categorical: category order) and the observed labels."""
    name = col.name
    check_one_label_type(
        col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else col, name=name
    )
    if isinstance(col.dtype, pd.CategoricalDtype):
        # every category keeps its code; unobserved ones are dropped after counting
        codes = col.cat.codes.to_numpy().astype(np.intp)
        labels = pd.Index(np.asarray(col.cat.categories, dtype=object), name=name)
    else:
        try:
            codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
        except TypeError:  # labels of mixed types cannot be sorted: keep first-seen order
            codes, uniques = pd.factorize(col, sort=False, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.intp)
        labels = pd.Index(np.asarray(uniques, dtype=object), name=name)
    if codes.size and codes.min() < 0:
        missing = codes < 0
        rows = np.flatnonzero(missing)
        if missing_groups == "error":
            raise MissingValueError(
                f"sensitive feature {name!r} has {rows.size} missing value(s) at rows "
                f"{format_values(rows)}; impute them, or pass missing_groups='separate' to "
                f"report them as an explicit {MISSING_LABEL!r} group."
            )
        if MISSING_LABEL in set(labels):
            raise DataError(
                f"sensitive feature {name!r} already has a group called {MISSING_LABEL!r}; "
                "rename it before using missing_groups='separate'."
            )
        codes = np.where(missing, len(labels), codes)
        labels = pd.Index([*labels, MISSING_LABEL], dtype=object, name=name)
    if len(labels) and all(isinstance(v, np.generic) for v in labels):
        labels = pd.Index([v.item() for v in labels], dtype=object, name=name)
    return codes, labels


def encode_groups(
    sensitive_features: Any,
    *,
    n_rows: int | None,
    missing_groups: Literal["error", "separate"] = "error",
) -> GroupEncoding:
    """Encode one or several sensitive columns into one integer code per row.

    Groups are the combinations, ordered by the first column's labels, then the second's, and
    so on (labels sorted; categorical columns in category order). Codes of combinations that
    no row has are dropped after counting (see :meth:`GroupEncoding.labels`).
    """
    if missing_groups not in ("error", "separate"):
        raise ValueError(f"missing_groups must be 'error' or 'separate', got {missing_groups!r}.")
    columns = _sensitive_columns(sensitive_features, n_rows)
    names = [str(c.name) for c in columns]
    if len(set(names)) != len(names):
        raise DataError(f"sensitive_features has duplicated column names {names}; rename them.")
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise DataError(f"sensitive_features columns have different lengths {sorted(lengths)}.")
    per_feature = [_factorize(c, missing_groups=missing_groups) for c in columns]
    sizes = tuple(max(len(labels), 1) for _, labels in per_feature)
    combined = per_feature[0][0]
    for (codes, _), size in zip(per_feature[1:], sizes[1:], strict=True):
        combined = combined * size + codes
    n_combinations = int(np.prod(sizes, dtype=np.float64))
    n = len(combined)
    combos = None
    if n_combinations <= max(n, _MIN_DENSE_COMBINATIONS):
        n_codes = n_combinations
    else:  # too many combinations for a dense table: compress to the observed ones (a sort)
        combos, combined = np.unique(combined, return_inverse=True)
        n_codes = combos.size
    return GroupEncoding(
        codes=np.asarray(combined, dtype=np.intp),
        n_codes=n_codes,
        combos=combos,
        sizes=sizes,
        feature_names=tuple(names),
        feature_levels=tuple(labels for _, labels in per_feature),
    )


def _as_numpy(col: pd.Series) -> np.ndarray:
    """Values of a validated (no missing) Series as a plain numpy array."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return np.asarray(col.astype(object))
    if pd.api.types.is_bool_dtype(dtype):
        return col.to_numpy(dtype=bool)
    if pd.api.types.is_integer_dtype(dtype):
        return col.to_numpy(dtype=np.int64) if not isinstance(dtype, np.dtype) else col.to_numpy()
    if pd.api.types.is_float_dtype(dtype):
        return col.to_numpy(dtype=np.float64)
    return col.to_numpy(dtype=object)


def as_values(x: Any, *, name: str) -> np.ndarray:
    """1-D numpy values of ``x``, refusing missing values."""
    if isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "iubf":
        # fast path: no pandas round trip (a Series would copy the array)
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            rows = np.flatnonzero(~np.isfinite(x))
            raise MissingValueError(
                f"{name} has {rows.size} missing or infinite value(s) at rows "
                f"{format_values(rows)}; remove or impute them before calling."
            )
        return x
    col = as_1d(x, name=name)
    dtype = col.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return col.to_numpy()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = col.to_numpy()
        if not np.isfinite(arr).all():
            rows = np.flatnonzero(~np.isfinite(arr))
            raise MissingValueError(
                f"{name} has {rows.size} missing or infinite value(s) at rows "
                f"{format_values(rows)}; remove or impute them before calling."
            )
        return arr
    rows = find_missing(col)
    if rows.size:
        raise MissingValueError(
            f"{name} has {rows.size} missing or infinite value(s) at rows "
            f"{format_values(rows)}; remove or impute them before calling."
        )
    return _as_numpy(col)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Distinct values, cheaply for booleans and small non-negative integers."""
    if values.dtype.kind == "b":
        return np.array([False, True])[np.bincount(values.view(np.uint8), minlength=2) > 0]
    if values.dtype.kind in "iu" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if hi - lo <= 1:  # the common 0/1 case: two passes, no histogram
            return np.array(sorted({lo, hi}))
        if lo >= 0 and hi < 1 << 16:
            return np.flatnonzero(np.bincount(values, minlength=hi + 1))
    if values.dtype.kind == "f":
        return np.unique(values)
    return np.asarray(pd.unique(values), dtype=object)


def _is_pos(values: np.ndarray, pos_label: Any) -> np.ndarray:
    if values.dtype.kind == "b":
        if isinstance(pos_label, bool | np.bool_) or pos_label in (0, 1):
            return values if bool(pos_label) else ~values
        return np.zeros(values.shape, dtype=bool)
    if values.dtype.kind in "iu" and pos_label in (0, 1) and not isinstance(pos_label, str):
        lo, hi = values.min(), values.max()
        if lo >= 0 and hi <= 1:  # 0/1 integers are their own indicator (no copy for pos 1)
            return values if pos_label == 1 else 1 - values
    return np.asarray(values == pos_label, dtype=bool)


def _sorted_labels(labels: list[Any]) -> list[Any]:
    try:
        return sorted(labels)
    except TypeError:
        return labels


def binary_labels(
    y_true: np.ndarray, y_pred: np.ndarray, *, pos_label: Any, one_vs_rest: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Check binary labels and turn both into booleans ``== pos_label``.

    With ``one_vs_rest`` (``pos_label`` was given), more than two labels are allowed: the
    positive class against every other.
    """
    labels: list[Any] = []
    for arr in (y_true, y_pred):
        for v in _distinct(arr).tolist():
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            if v not in labels:
                labels.append(v)
    # booleans and 0/1 are the same labels
    if y_true.dtype.kind == "b" or y_pred.dtype.kind == "b":
        labels = list(dict.fromkeys(int(v) if isinstance(v, bool) else v for v in labels))
    labels = _sorted_labels(labels)
    if len(labels) > 2 and not (one_vs_rest and pos_label in labels):
        raise DataError(
            f"binary metrics need two labels, but y_true and y_pred hold {len(labels)}: "
            f"{format_values(labels)}; pass pos_label= one of them for that class against "
            "the rest, pos_label=None for one-vs-rest metrics of every class, or "
            "task='regression' if they are quantities (counts, weeks)."
        )
    if pos_label not in labels and labels:
        raise DataError(
            f"pos_label={pos_label!r} does not occur in y_true or y_pred, whose labels are "
            f"{format_values(labels)}; pass pos_label= one of them."
        )
    return _is_pos(y_true, pos_label), _is_pos(y_pred, pos_label)


def multiclass_labels(
    y_true: np.ndarray, y_pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """Encode both label arrays on their joint sorted set of classes."""
    joint = pd.Index(pd.unique(np.concatenate([y_true.astype(object), y_pred.astype(object)])))
    classes = _sorted_labels([v.item() if isinstance(v, np.generic) else v for v in joint])
    if len(classes) < 2:
        raise DataError(
            f"y_true and y_pred hold a single label {format_values(classes)}; one-vs-rest "
            "metrics need at least two classes."
        )
    index = pd.Index(classes, dtype=object)
    t = index.get_indexer(y_true.astype(object))
    p = index.get_indexer(y_pred.astype(object))
    return t.astype(np.intp), p.astype(np.intp), classes
