"""Count tables: one pass over the data to per-group weighted cells.

A binary count table holds, for each group g, the weighted counts of the four
(y_true, y_pred) cells in the order TN, FP, FN, TP (cell index ``2 * true + pred``). A
multiclass table holds the K x K confusion matrix of each group. Regression keeps per-group
weighted sums. Scores are kept as *atoms*: the distinct (group, score) values with the
weighted and unweighted numbers of positives and negatives at each, sorted by group then score,
which is all that ROC AUC, the Brier score and the calibration error need (exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

N_CALIBRATION_BINS = 10


@dataclass(frozen=True)
class ScoreAtoms:
    """Distinct (group, score) values, sorted by group then score, with label masses."""

    group: np.ndarray  # (A,) intp
    score: np.ndarray  # (A,) float64
    pos_w: np.ndarray  # (A,) weighted count of actual positives at this score
    neg_w: np.ndarray  # (A,) weighted count of actual negatives
    pos_n: np.ndarray  # (A,) unweighted counts
    neg_n: np.ndarray

    @classmethod
    def from_rows(
        cls,
        group: np.ndarray,
        score: np.ndarray,
        positive: np.ndarray,
        weight: np.ndarray | None,
        n_groups: int,
        *,
        pos_n: np.ndarray | None = None,
        neg_n: np.ndarray | None = None,
        neg_w: np.ndarray | None = None,
    ) -> ScoreAtoms:
        """Build atoms from rows (or re-atomize atoms, passing their masses and counts).

        ``positive`` is a boolean per row, or, when re-atomizing, the positive mass per atom
        (then ``neg_w``, ``pos_n`` and ``neg_n`` are given too).
        """
        del n_groups
        order = np.lexsort((score, group))
        g = group[order]
        s = score[order]
        if len(g) == 0:
            empty_f = np.empty(0)
            return cls(np.empty(0, np.intp), empty_f, empty_f, empty_f, empty_f, empty_f)
        new = np.empty(len(g), dtype=bool)
        new[0] = True
        np.not_equal(g[1:], g[:-1], out=new[1:])
        new[1:] |= s[1:] != s[:-1]
        atom = np.cumsum(new) - 1
        n_atoms = int(atom[-1]) + 1
        if neg_w is None:
            pos = positive[order].astype(bool)
            w = None if weight is None else weight[order]
            pw = np.bincount(atom, weights=pos if w is None else w * pos, minlength=n_atoms)
            tw = np.bincount(atom, weights=w, minlength=n_atoms)
            nw = tw - pw
            pn: np.ndarray = np.bincount(atom[pos], minlength=n_atoms).astype(np.float64)
            nn: np.ndarray = np.bincount(atom, minlength=n_atoms).astype(np.float64) - pn
        else:
            assert pos_n is not None  # internal call
            assert neg_n is not None
            pw = np.bincount(atom, weights=positive[order], minlength=n_atoms)
            nw = np.bincount(atom, weights=neg_w[order], minlength=n_atoms)
            pn = np.bincount(atom, weights=pos_n[order], minlength=n_atoms)
            nn = np.bincount(atom, weights=neg_n[order], minlength=n_atoms)
        return cls(g[new], s[new], pw, nw, pn, nn)

    def regroup(self, mapping: np.ndarray, n_groups: int) -> ScoreAtoms:
        """Atoms over coarser groups (``mapping[old_group] = new_group``)."""
        return ScoreAtoms.from_rows(
            mapping[self.group],
            self.score,
            self.pos_w,
            None,
            n_groups,
            pos_n=self.pos_n,
            neg_n=self.neg_n,
            neg_w=self.neg_w,
        )


@dataclass(frozen=True, eq=False, repr=False)
class CountTable:
    """Per-group weighted counts: everything a GroupMetrics needs after the one pass.

    Build one with :func:`fairaudit.metrics.count_table` (from arrays, a DataFrame, files,
    a DuckDB relation or a Spark DataFrame); pass it to :func:`fairaudit.group_metrics` in
    place of ``y_true``. Tables of partitions or days add with ``+`` (groups are united,
    cells summed, score atoms merged); :meth:`to_parquet` / :meth:`from_parquet` store one
    losslessly.

    ``cells`` is (G, 4) for binary tasks (TN, FP, FN, TP), (G, K, K) for multiclass
    (true class, predicted class), and (G, 5) weighted sums for regression
    (W, sum w*yhat, sum w*(yhat - y), sum w*|yhat - y|, sum w*(yhat - y)^2).
    ``cell_n`` holds the same cells without weights (regression: (G, 1) row counts) and
    ``cell_w2`` the sums of squared weights (only when weighted).

    Examples
    --------
    >>> import fairaudit as fa
    >>> t = fa.metrics.count_table([1, 0, 1, 1], [1, 0, 0, 1], sensitive_features=list("aabb"))
    >>> t.cell_n.tolist()  # per group: TN, FP, FN, TP
    [[1, 0, 0, 1], [0, 0, 1, 1]]
    >>> fa.group_metrics(t + t, metrics=["selection_rate"], min_group_size=1).by_group
                         selection_rate  count
    sensitive_feature_0
    a                               0.5      4
    b                               0.5      4
    """

    task: str
    index: pd.Index
    feature_names: tuple[str, ...]
    feature_codes: np.ndarray
    feature_levels: tuple[pd.Index, ...]
    cells: np.ndarray
    cell_n: np.ndarray
    cell_w2: np.ndarray | None
    classes: tuple[object, ...] | None = None
    scores: ScoreAtoms | None = None
    weighted: bool = False
    # regression bootstrap atoms: quantity -> (A, 4) array of [group, rows, W, sum w*q]
    reg_atoms: dict[str, np.ndarray] | None = None
    # the positive label of a binary table (None for multiclass and regression)
    pos_label: Any = None

    @property
    def n_rows(self) -> int:
        """Number of rows counted (unweighted)."""
        return int(self.group_rows.sum())

    def __repr__(self) -> str:
        extra = "" if self.scores is None else f", score_atoms={self.scores.group.size}"
        features = ", ".join(self.feature_names)
        return (
            f"CountTable(task={self.task!r}, features=[{features}], groups={self.n_groups}, "
            f"rows={self.n_rows}, weighted={self.weighted}{extra})"
        )

    def __add__(self, other: object) -> CountTable:
        from fairaudit.metrics._count_table import add_tables

        if not isinstance(other, CountTable):
            return NotImplemented
        return add_tables(self, other)

    def __radd__(self, other: object) -> CountTable:
        if isinstance(other, int) and other == 0:  # sum(tables)
            return self
        return NotImplemented

    def to_frame(self, part: str = "cells") -> pd.DataFrame:
        """Return the table in long format (see :func:`fairaudit.metrics.count_table`)."""
        from fairaudit.metrics._count_table import table_frame

        return table_frame(self, part)

    def to_parquet(self, path: Any) -> None:
        """Write the table to one Parquet file, losslessly (read it with :meth:`from_parquet`)."""
        from fairaudit.metrics._count_table import write_parquet

        write_parquet(self, path)

    @classmethod
    def from_parquet(cls, path: Any) -> CountTable:
        """Read a table written by :meth:`to_parquet`."""
        from fairaudit.metrics._count_table import read_parquet

        return read_parquet(path)

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.index)

    @property
    def group_rows(self) -> np.ndarray:
        """Unweighted number of rows per group."""
        return self.cell_n.reshape(self.n_groups, -1).sum(axis=1).astype(np.int64)

    def pooled(self) -> CountTable:
        """Return the same table with every group merged into one (for the overall values)."""
        mapping = np.zeros(self.n_groups, dtype=np.intp)
        return self.regroup(mapping, pd.Index(["overall"]), np.zeros((1, 0), np.intp), ())

    def regroup(
        self,
        mapping: np.ndarray,
        index: pd.Index,
        feature_codes: np.ndarray,
        feature_levels: tuple[pd.Index, ...],
        feature_names: tuple[str, ...] | None = None,
    ) -> CountTable:
        """Re-aggregate to coarser groups; ``mapping[old] = new`` (count tables add)."""
        n_new = len(index)

        def add(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            out = np.zeros((n_new, *a.shape[1:]), dtype=a.dtype)
            np.add.at(out, mapping, a)
            return out

        cells = add(self.cells)
        cell_n = add(self.cell_n)
        assert cells is not None
        assert cell_n is not None
        scores = None if self.scores is None else self.scores.regroup(mapping, n_new)
        reg_atoms = None
        if self.reg_atoms is not None:
            reg_atoms = {}
            for key, a in self.reg_atoms.items():
                b = a.copy()
                b[:, 0] = mapping[a[:, 0].astype(np.intp)]
                reg_atoms[key] = b[np.argsort(b[:, 0], kind="stable")]
        return replace(
            self,
            index=index,
            feature_names=self.feature_names if feature_names is None else feature_names,
            feature_codes=feature_codes,
            feature_levels=feature_levels,
            cells=cells,
            cell_n=cell_n,
            cell_w2=add(self.cell_w2),
            scores=scores,
            reg_atoms=reg_atoms,
        )


def binary_cells(
    groups: np.ndarray,
    true_pos: np.ndarray,
    pred_pos: np.ndarray,
    weight: np.ndarray | None,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One bincount over ``4 * group + 2 * true + pred`` (weighted, unweighted, squares)."""
    code = groups * 4
    code += true_pos
    code += true_pos
    code += pred_pos
    return _count(code, (n_groups, 4), weight)


def _count(
    code: np.ndarray, shape: tuple[int, ...], weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Weighted cells, unweighted cells and sums of squared weights of a cell code."""
    size = int(np.prod(shape))
    cell_n = np.bincount(code, minlength=size).reshape(shape)
    if weight is None:
        return cell_n.astype(np.float64), cell_n, None
    cells = np.bincount(code, weights=weight, minlength=size).reshape(shape)
    w2 = np.bincount(code, weights=weight * weight, minlength=size).reshape(shape)
    return cells, cell_n, w2


def multiclass_cells(
    groups: np.ndarray,
    true_code: np.ndarray,
    pred_code: np.ndarray,
    weight: np.ndarray | None,
    n_groups: int,
    n_classes: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One bincount over ``(group * K + true) * K + pred``."""
    code = groups * n_classes
    code += true_code
    code *= n_classes
    code += pred_code
    return _count(code, (n_groups, n_classes, n_classes), weight)


def regression_sums(
    groups: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    weight: np.ndarray | None,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-group sums W, sum w*yhat, sum w*e, sum w*|e|, sum w*e^2 with e = yhat - y."""
    err = y_pred - y_true
    w = np.ones(len(groups)) if weight is None else weight
    sums = np.empty((n_groups, 5))
    for j, values in enumerate((None, y_pred, err, np.abs(err), err * err)):
        sums[:, j] = np.bincount(
            groups, weights=w if values is None else w * values, minlength=n_groups
        )
    cell_n = np.bincount(groups, minlength=n_groups).reshape(n_groups, 1)
    w2 = None
    if weight is not None:
        w2 = np.bincount(groups, weights=weight * weight, minlength=n_groups).reshape(-1, 1)
    return sums, cell_n, w2


# per-row quantity behind each regression metric
REGRESSION_QUANTITY = {
    "mean_prediction": "prediction",
    "mean_error": "error",
    "mean_absolute_error": "absolute_error",
    "root_mean_squared_error": "squared_error",
}


def regression_atoms(
    groups: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    weight: np.ndarray | None,
    n_groups: int,
    per_group: int,
) -> dict[str, np.ndarray]:
    """Bootstrap atoms for regression: rows cut into chunks of neighbouring values.

    Per group, rows are sorted by the quantity and cut into at most ``per_group`` chunks of
    equal size, each keeping its row count and weighted sums.

    A group with no more rows than ``per_group`` keeps one atom per row (the exact row
    bootstrap); larger groups lose only the variation inside a chunk of neighbouring values.
    """
    err = y_pred - y_true
    quantities = {
        "prediction": y_pred,
        "error": err,
        "absolute_error": np.abs(err),
        "squared_error": err * err,
    }
    w = np.ones(len(groups)) if weight is None else weight
    sizes = np.bincount(groups, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = {}
    for name, q in quantities.items():
        # ties in q are ordered by weight, so that an engine (SQL ORDER BY q, w) cuts the
        # same chunks as this sort
        order = np.lexsort((q, groups)) if weight is None else np.lexsort((w, q, groups))
        g = groups[order]
        rank = np.arange(len(g)) - starts[g]
        chunks = np.minimum(sizes[g], per_group)
        chunk = (rank * chunks) // sizes[g]
        key = g * per_group + chunk
        size = n_groups * per_group
        rows = np.bincount(key, minlength=size)
        keep = np.flatnonzero(rows)
        wsum = np.bincount(key, weights=w[order], minlength=size)
        qsum = np.bincount(key, weights=w[order] * q[order], minlength=size)
        out[name] = np.column_stack([keep // per_group, rows[keep], wsum[keep], qsum[keep]]).astype(
            np.float64
        )
    return out
