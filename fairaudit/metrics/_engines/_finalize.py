"""Turn an engine's small aggregates into the count table the numpy path builds.

Every engine returns, per (group values, y_true, y_pred), the number of rows and the sums of
weights and squared weights; per (group values, score, y_true) the same (the score atoms);
for regression, per group, the weighted sums. The sensitive values of those aggregate rows go
through the same encoder as the numpy path (same labels, same order), so the tables are equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._validation import resolve_pos_label
from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.metrics._count_table import infer_task
from fairaudit.metrics._counts import CountTable, ScoreAtoms
from fairaudit.metrics._encode import (
    MISSING_LABEL,
    _is_pos,
    binary_labels,
    encode_groups,
    multiclass_labels,
)

__all__ = ["Aggregates", "classification_table", "regression_table", "values_of"]


def values_of(column: Any) -> np.ndarray:
    """Object array of Python values (None for NULL) of a fetched column."""
    if isinstance(column, np.ma.MaskedArray):
        out = np.asarray(np.ma.getdata(column)).astype(object)
        out[np.ma.getmaskarray(column)] = None
        return out
    arr = np.asarray(column)
    if arr.dtype.kind in "OUS":
        return np.asarray(arr, dtype=object)
    out = np.empty(arr.shape, dtype=object)
    out[:] = arr.tolist()
    return out


def labels_of(column: Any, *, argument: str, rows: np.ndarray, column_name: str) -> np.ndarray:
    """Label values of a fetched column, refusing NULL (with the number of such rows)."""
    if isinstance(column, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(column)
        if mask.any():
            count = int(rows[mask].sum())
            raise MissingValueError(
                f"{argument}: column {column_name!r} has {count} missing value(s) (NULL); "
                "remove or fill those rows first."
            )
        column = column.data
    arr = np.asarray(column)
    if arr.dtype.kind == "O":
        missing = np.array([v is None for v in arr], dtype=bool)
        if missing.any():
            count = int(rows[missing].sum())
            raise MissingValueError(
                f"{argument}: column {column_name!r} has {count} missing value(s) (NULL); "
                "remove or fill those rows first."
            )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        count = int(rows[~np.isfinite(arr)].sum())
        raise MissingValueError(
            f"{argument}: column {column_name!r} has {count} missing or infinite value(s) "
            "(NaN/inf); remove or fill those rows first."
        )
    return arr


@dataclass
class Aggregates:
    """Aggregate rows fetched from an engine (one entry per aggregate row)."""

    groups: dict[str, np.ndarray]  # sensitive column -> object values (None for NULL)
    n: np.ndarray  # rows
    w: np.ndarray | None = None  # sum of weights
    w2: np.ndarray | None = None  # sum of squared weights
    y_true: np.ndarray | None = None
    y_pred: np.ndarray | None = None
    score: np.ndarray | None = None
    sums: np.ndarray | None = None  # regression: (rows, 5)


def _check_missing_groups(agg: Aggregates, missing_groups: str) -> None:
    if missing_groups != "error":
        return
    for name, values in agg.groups.items():
        missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
        if missing.any():
            count = int(agg.n[missing].sum())
            raise MissingValueError(
                f"sensitive feature {name!r} has {count} missing (NULL or empty) value(s); "
                f"impute them, or pass missing_groups='separate' to report them as an "
                f"explicit {MISSING_LABEL!r} group."
            )


def group_codes(table: CountTable, groups: dict[str, np.ndarray]) -> np.ndarray:
    """Position in ``table`` of each row's group (rows given by their sensitive values)."""
    names = table.feature_names
    n = len(next(iter(groups.values())))
    sizes = [len(lv) for lv in table.feature_levels]
    key = np.zeros(n, dtype=np.int64)
    for j, name in enumerate(names):
        values = pd.Series(groups[name], dtype=object)
        missing = pd.isna(values).to_numpy()
        codes = np.asarray(
            table.feature_levels[j].get_indexer(pd.Index(values.to_numpy(), dtype=object))
        )
        if missing.any():
            lv = list(table.feature_levels[j])
            codes[missing] = lv.index(MISSING_LABEL) if MISSING_LABEL in lv else -1
        if (codes < 0).any():  # pragma: no cover - the engine returned an unseen group
            raise DataError(f"internal error: group values of {name!r} not in the table.")
        key = key * sizes[j] + codes
    table_key = np.zeros(table.n_groups, dtype=np.int64)
    for j in range(len(names)):
        table_key = table_key * sizes[j] + table.feature_codes[:, j]
    order = np.argsort(table_key, kind="stable")
    pos = np.searchsorted(table_key[order], key)
    return np.asarray(order[pos], dtype=np.intp)


def _encode(agg: Aggregates, missing_groups: Any) -> Any:
    _check_missing_groups(agg, missing_groups)
    sens = {name: pd.Series(v, dtype=object) for name, v in agg.groups.items()}
    return encode_groups(sens, n_rows=len(agg.n), missing_groups=missing_groups)


def _sum_cells(code: np.ndarray, size: int, values: np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    return np.bincount(code, weights=np.asarray(values, dtype=np.float64), minlength=size)


def classification_table(
    cells: Aggregates,
    atoms: Aggregates | None,
    *,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    weighted: bool,
) -> CountTable:
    """Build a binary or multiclass table from cell aggregates (and score atoms).

    ``pos_label`` as numpy's: left out (the sentinel), 1 with more than two labels refused;
    given, that class against the rest.
    """
    pos_label, one_vs_rest = resolve_pos_label(pos_label)
    assert cells.y_true is not None
    assert cells.y_pred is not None
    if len(cells.n) == 0:
        raise DataError("the data has no rows; pass at least one sample.")
    encoding = _encode(cells, missing_groups)
    codes = encoding.codes
    g = encoding.n_codes
    resolved = infer_task(cells.y_true, cells.y_pred, metrics, pos_label, task)
    classes = None
    if resolved == "multiclass":
        t_code, p_code, classes = multiclass_labels(cells.y_true, cells.y_pred)
        k = len(classes)
        code = (codes * k + t_code) * k + p_code
        shape: tuple[int, ...] = (g, k, k)
        pos_label = None
    elif resolved == "binary":
        if pos_label is None:
            raise DataError("task='binary' needs a pos_label; pass the positive class.")
        t_pos, p_pos = binary_labels(
            cells.y_true, cells.y_pred, pos_label=pos_label, one_vs_rest=one_vs_rest
        )
        code = codes * 4 + 2 * t_pos.astype(np.intp) + p_pos.astype(np.intp)
        shape = (g, 4)
    else:  # pragma: no cover - regression goes through regression_table
        raise DataError("internal error: regression aggregates reached the label path.")
    size = int(np.prod(shape))
    cell_n_f = _sum_cells(code, size, cells.n)
    assert cell_n_f is not None
    cell_n = np.rint(cell_n_f).astype(np.int64).reshape(shape)
    if weighted:
        w = _sum_cells(code, size, cells.w)
        w2 = _sum_cells(code, size, cells.w2)
        assert w is not None
        assert w2 is not None
        cell_w: np.ndarray = w.reshape(shape)
        cell_w2: np.ndarray | None = w2.reshape(shape)
    else:
        cell_w, cell_w2 = cell_n.astype(np.float64), None
    rows = cell_n.reshape(g, -1).sum(axis=1)
    keep = np.flatnonzero(rows)
    if keep.size < g:
        cell_w, cell_n = cell_w[keep], cell_n[keep]
        cell_w2 = None if cell_w2 is None else cell_w2[keep]
    index, feature_codes = encoding.labels(keep)
    table = CountTable(
        task=resolved,
        index=index,
        feature_names=encoding.feature_names,
        feature_codes=feature_codes,
        feature_levels=encoding.feature_levels,
        cells=cell_w,
        cell_n=cell_n,
        cell_w2=cell_w2,
        classes=None if classes is None else tuple(classes),
        scores=None,
        weighted=weighted,
        pos_label=pos_label if resolved == "binary" else None,
    )
    if atoms is None:
        return table
    if resolved != "binary":
        raise DataError(f"y_score is only supported for binary labels, not {resolved}.")
    assert atoms.score is not None
    assert atoms.y_true is not None
    group = group_codes(table, atoms.groups)
    positive = _is_pos(atoms.y_true, pos_label).astype(bool)
    n = atoms.n.astype(np.float64)
    w = n if atoms.w is None else atoms.w.astype(np.float64)
    score = atoms.score.astype(np.float64)
    scores = ScoreAtoms.from_rows(
        group,
        score,
        np.where(positive, w, 0.0),
        None,
        table.n_groups,
        pos_n=np.where(positive, n, 0.0),
        neg_n=np.where(positive, 0.0, n),
        neg_w=np.where(positive, 0.0, w),
    )
    from dataclasses import replace

    return replace(table, scores=scores)


def regression_table(
    agg: Aggregates,
    *,
    missing_groups: Any,
    weighted: bool,
    reg_atoms: dict[str, tuple[Aggregates, np.ndarray]] | None = None,
) -> CountTable:
    """Build a regression table from per-group sums (and bootstrap chunk atoms)."""
    assert agg.sums is not None
    if len(agg.n) == 0:
        raise DataError("the data has no rows; pass at least one sample.")
    encoding = _encode(agg, missing_groups)
    g = encoding.n_codes
    codes = encoding.codes
    sums = np.zeros((g, 5))
    np.add.at(sums, codes, agg.sums)
    cell_n = np.zeros((g, 1), dtype=np.int64)
    np.add.at(cell_n[:, 0], codes, agg.n.astype(np.int64))
    w2 = None
    if weighted:
        assert agg.w2 is not None
        w2 = np.zeros((g, 1))
        np.add.at(w2[:, 0], codes, agg.w2)
    keep = np.flatnonzero(cell_n[:, 0])
    sums, cell_n = sums[keep], cell_n[keep]
    w2 = None if w2 is None else w2[keep]
    index, feature_codes = encoding.labels(keep)
    table = CountTable(
        task="regression",
        index=index,
        feature_names=encoding.feature_names,
        feature_codes=feature_codes,
        feature_levels=encoding.feature_levels,
        cells=sums,
        cell_n=cell_n,
        cell_w2=w2,
        weighted=weighted,
    )
    if not reg_atoms:
        return table
    out = {}
    for quantity, (chunks, chunk_id) in reg_atoms.items():
        assert chunks.sums is not None
        group = group_codes(table, chunks.groups)
        order = np.lexsort((chunk_id, group))
        out[quantity] = np.column_stack(
            [group[order], chunks.n[order], chunks.sums[order, 0], chunks.sums[order, 1]]
        ).astype(np.float64)
    from dataclasses import replace

    return replace(table, reg_atoms=out)
