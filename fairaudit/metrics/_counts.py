"""Count tables: one pass over the data to per-group weighted cells.

A binary count table holds, for each group g, the weighted counts of the four
(y_true, y_pred) cells in the order TN, FP, FN, TP (cell index ``2 * true + pred``). A
multiclass table holds the K x K confusion matrix of each group. Regression keeps per-group
weighted sums. Scores are kept as *atoms*: the distinct (group, score) values with the
weighted and unweighted numbers of positives and negatives at each, sorted by group then score,
which is all that ROC AUC, the Brier score and the calibration error need (exactly).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairaudit.exceptions import DataError
from fairaudit.metrics._encode import MISSING_LABEL

N_CALIBRATION_BINS = 10
_TABLE_SCHEMA_VERSION = 1


def _group_score_order(group: np.ndarray, score: np.ndarray, n_groups: int) -> np.ndarray:
    """Return the indices that sort rows by group, then score.

    One argsort of the scores (quicksort: rows with equal scores end in the same atom, so
    their order does not matter), then a stable sort by group code: numpy sorts small integer
    codes (uint16) by radix sort in linear time. ``np.lexsort`` on (score, group) took several
    times longer on 1e7 rows.
    """
    order = np.argsort(score)
    if n_groups <= 1 or group.size == 0:
        return order
    small = n_groups <= np.iinfo(np.uint16).max
    codes = group.astype(np.uint16)[order] if small else group[order]
    return order[np.argsort(codes, kind="stable")]


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
        order = _group_score_order(group, score, n_groups)
        if order.size == 0:
            empty_f = np.empty(0)
            return cls(np.empty(0, np.intp), empty_f, empty_f, empty_f, empty_f, empty_f)
        g = group[order]
        s = score[order]
        new = np.empty(len(g), dtype=bool)
        new[0] = True
        np.not_equal(g[1:], g[:-1], out=new[1:])
        new[1:] |= s[1:] != s[:-1]
        atom_group, atom_score = g[new], s[new]
        del g, s
        atom = np.cumsum(new, dtype=np.intp)
        atom -= 1
        n_atoms = int(atom[-1]) + 1
        if neg_w is None:
            pos = positive[order].astype(bool)
            w = None if weight is None else weight[order]
            del order
            pn: np.ndarray = np.bincount(atom[pos], minlength=n_atoms).astype(np.float64)
            nn: np.ndarray = np.bincount(atom, minlength=n_atoms).astype(np.float64)
            nn -= pn
            if w is None:
                # unweighted: the masses are the counts (shared arrays, not copies)
                pw, nw = pn, nn
            else:
                pw = np.bincount(atom, weights=w * pos, minlength=n_atoms)
                nw = np.bincount(atom, weights=w, minlength=n_atoms) - pw
        else:
            assert pos_n is not None  # internal call
            assert neg_n is not None
            pn = np.bincount(atom, weights=pos_n[order], minlength=n_atoms)
            nn = np.bincount(atom, weights=neg_n[order], minlength=n_atoms)
            same = positive is pos_n and neg_w is neg_n  # unweighted: masses are counts
            pw = pn if same else np.bincount(atom, weights=positive[order], minlength=n_atoms)
            nw = nn if same else np.bincount(atom, weights=neg_w[order], minlength=n_atoms)
        return cls(atom_group, atom_score, pw, nw, pn, nn)

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
    ``cell_w2`` the sums of squared weights (only when weighted). ``source`` says where the
    rows came from (see :func:`fairaudit.metrics.count_table`).

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
    # where the rows came from: one JSON-safe dict per counted source (kind, rows, paths,
    # fingerprints when asked); tables that add keep both lists
    source: tuple[dict[str, Any], ...] = ()

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
        if not isinstance(other, CountTable):
            return NotImplemented
        return add_tables(self, other)

    def __radd__(self, other: object) -> CountTable:
        if isinstance(other, int) and other == 0:  # sum(tables)
            return self
        return NotImplemented

    def to_frame(self, part: str = "cells") -> pd.DataFrame:
        """Return the table in long format (see :func:`fairaudit.metrics.count_table`)."""
        return table_frame(self, part)

    def to_parquet(self, path: Any) -> None:
        """Write the table to one Parquet file, losslessly (read it with :meth:`from_parquet`)."""
        write_parquet(self, path)

    @classmethod
    def from_parquet(cls, path: Any) -> CountTable:
        """Read a table written by :meth:`to_parquet`."""
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


def rank_runs(atoms: ScoreAtoms) -> ScoreAtoms:
    """Merge runs of one-class atoms: the same ROC AUC, also under any resampling.

    ROC AUC depends only on how each positive ranks among the negatives of its group. Within a
    group, a run of consecutive atoms that hold only positives (or only negatives) can merge
    into one atom: no atom of the other class lies between them, so every comparison with the
    other class, and every tie, is unchanged. Resampling the merged counts is resampling the
    run's atoms and adding them up (multinomial counts aggregate), so the bootstrap of the AUC
    on these atoms is the exact row bootstrap. A group then has at most about twice as many
    atoms as its minority class has distinct scores (23 for 11 positives, whatever the rows).
    Brier score and calibration error need the scores themselves: keep the original atoms.
    """
    if atoms.group.size == 0:
        return atoms
    kind = np.where(atoms.neg_n == 0, 1, np.where(atoms.pos_n == 0, 2, 0))  # 0: mixed
    start = np.empty(atoms.group.size, dtype=bool)
    start[0] = True
    start[1:] = (atoms.group[1:] != atoms.group[:-1]) | (kind[1:] != kind[:-1]) | (kind[1:] == 0)
    starts = np.flatnonzero(start)
    return ScoreAtoms(
        group=atoms.group[starts],
        score=atoms.score[starts],
        pos_w=np.add.reduceat(atoms.pos_w, starts),
        neg_w=np.add.reduceat(atoms.neg_w, starts),
        pos_n=np.add.reduceat(atoms.pos_n, starts),
        neg_n=np.add.reduceat(atoms.neg_n, starts),
    )


def make_index(
    names: tuple[str, ...], levels: tuple[pd.Index, ...], feature_codes: np.ndarray
) -> pd.Index:
    """Group index from per-feature labels and codes (as GroupEncoding.labels builds it)."""
    if len(names) == 1:
        return pd.Index(levels[0].take(feature_codes[:, 0]), dtype=object, name=names[0])
    return pd.MultiIndex(
        levels=[pd.Index(lv, dtype=object) for lv in levels],
        codes=[list(feature_codes[:, j]) for j in range(len(names))],
        names=list(names),
    )


# ---------------------------------------------------------------------------------------------
# adding tables


def _union_levels(a: pd.Index, b: pd.Index) -> pd.Index:
    """Union of two features' labels, ordered as the numpy path orders them."""
    if len(a) == len(b) and all(x == y and type(x) is type(y) for x, y in zip(a, b, strict=True)):
        return a
    seen = list(dict.fromkeys([*a.tolist(), *b.tolist()]))
    has_missing = MISSING_LABEL in seen
    values = [v for v in seen if not (isinstance(v, str) and v == MISSING_LABEL)]
    with contextlib.suppress(TypeError):  # labels of mixed types keep first-seen order
        values = sorted(values)
    if has_missing:
        values.append(MISSING_LABEL)
    return pd.Index(values, dtype=object, name=a.name)


def add_tables(a: CountTable, b: CountTable) -> CountTable:
    """Merge two count tables: union of groups, summed cells, merged score atoms."""

    def refuse(what: str, x: Any, y: Any) -> DataError:
        return DataError(
            f"cannot add count tables of different {what}: {x!r} and {y!r}; tables add only "
            "when computed with the same task, classes, pos_label, sensitive features and "
            "weighting."
        )

    if a.task != b.task:
        raise refuse("tasks", a.task, b.task)
    if a.feature_names != b.feature_names:
        raise refuse("sensitive features", list(a.feature_names), list(b.feature_names))
    if a.classes != b.classes:
        raise refuse("classes", a.classes, b.classes)
    if a.task == "binary" and a.pos_label != b.pos_label:
        raise refuse("pos_label", a.pos_label, b.pos_label)
    if a.weighted != b.weighted:
        raise refuse("weighting (sample_weight)", a.weighted, b.weighted)
    if (a.scores is None) != (b.scores is None):
        raise refuse(
            "score columns (one table has y_score)", a.scores is not None, b.scores is not None
        )
    n_features = len(a.feature_names)
    levels = tuple(
        _union_levels(a.feature_levels[j], b.feature_levels[j]) for j in range(n_features)
    )

    def recode(t: CountTable) -> np.ndarray:
        out = np.empty_like(t.feature_codes)
        for j in range(n_features):
            out[:, j] = levels[j].get_indexer(t.feature_levels[j].take(t.feature_codes[:, j]))
        return out

    stacked = np.vstack([recode(a), recode(b)]).astype(np.intp)
    if n_features:
        feature_codes, inverse = np.unique(stacked, axis=0, return_inverse=True)
    else:  # pragma: no cover - a table always has a feature
        feature_codes, inverse = stacked[:1], np.zeros(len(stacked), dtype=np.intp)
    inverse = np.asarray(inverse, dtype=np.intp).ravel()
    map_a, map_b = inverse[: a.n_groups], inverse[a.n_groups :]
    n_new = len(feature_codes)

    def add(x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray | None:
        if x is None or y is None:
            return None
        out = np.zeros((n_new, *x.shape[1:]), dtype=np.result_type(x, y))
        np.add.at(out, map_a, x)
        np.add.at(out, map_b, y)
        return out

    cells = add(a.cells, b.cells)
    cell_n = add(a.cell_n, b.cell_n)
    assert cells is not None
    assert cell_n is not None
    scores = None
    if a.scores is not None and b.scores is not None:
        sa, sb = a.scores, b.scores
        scores = ScoreAtoms.from_rows(
            np.concatenate([map_a[sa.group], map_b[sb.group]]),
            np.concatenate([sa.score, sb.score]),
            np.concatenate([sa.pos_w, sb.pos_w]),
            None,
            n_new,
            pos_n=np.concatenate([sa.pos_n, sb.pos_n]),
            neg_n=np.concatenate([sa.neg_n, sb.neg_n]),
            neg_w=np.concatenate([sa.neg_w, sb.neg_w]),
        )
    reg_atoms = None
    if a.reg_atoms is not None and b.reg_atoms is not None:
        reg_atoms = {}
        for key in a.reg_atoms:
            xa, xb = a.reg_atoms[key].copy(), b.reg_atoms[key].copy()
            xa[:, 0] = map_a[xa[:, 0].astype(np.intp)]
            xb[:, 0] = map_b[xb[:, 0].astype(np.intp)]
            both = np.vstack([xa, xb])
            reg_atoms[key] = both[np.argsort(both[:, 0], kind="stable")]
    return replace(
        a,
        index=make_index(a.feature_names, levels, feature_codes),
        feature_codes=feature_codes,
        feature_levels=levels,
        cells=cells,
        cell_n=cell_n,
        cell_w2=add(a.cell_w2, b.cell_w2),
        scores=scores,
        reg_atoms=reg_atoms,
        source=_merge_sources(a.source, b.source),
    )


def _merge_sources(
    a: tuple[dict[str, Any], ...], b: tuple[dict[str, Any], ...]
) -> tuple[dict[str, Any], ...]:
    """Return both lists of sources, entries equal but for ``rows`` merged (rows summed).

    Batches of arrays make one entry, so that the sum of many batches stays short.
    """
    out = [dict(entry) for entry in a]
    for entry in b:
        same = [
            i
            for i, have in enumerate(out)
            if "fingerprints" not in have
            and "fingerprints" not in entry
            and {k: v for k, v in have.items() if k != "rows"}
            == {k: v for k, v in entry.items() if k != "rows"}
        ]
        if same:
            out[same[0]]["rows"] = int(out[same[0]].get("rows", 0)) + int(entry.get("rows", 0))
        else:
            out.append(dict(entry))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# long format


_REGRESSION_SUMS = (
    "weight",
    "sum_prediction",
    "sum_error",
    "sum_absolute_error",
    "sum_squared_error",
)


def _group_columns(table: CountTable, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for j, name in enumerate(table.feature_names):
        labels = table.feature_levels[j].take(table.feature_codes[:, j])
        out[name] = pd.Series(np.repeat(np.asarray(labels, dtype=object), repeat), dtype=object)
    return out


def table_frame(table: CountTable, part: str = "cells") -> pd.DataFrame:
    """Long format of the cells (``part="cells"``) or score atoms (``"scores"``)."""
    g = table.n_groups
    if part == "scores":
        if table.scores is None:
            raise DataError("this count table has no scores (it was built without y_score).")
        s = table.scores
        out = pd.DataFrame(
            {
                name: pd.Series(
                    np.asarray(table.feature_levels[j], dtype=object).take(
                        table.feature_codes[s.group, j]
                    ),
                    dtype=object,
                )
                for j, name in enumerate(table.feature_names)
            }
        )
        out["score"] = s.score
        out["positive_weight"] = s.pos_w
        out["negative_weight"] = s.neg_w
        out["positive_count"] = s.pos_n.astype(np.int64)
        out["negative_count"] = s.neg_n.astype(np.int64)
        return out
    if part != "cells":
        raise ValueError(f"part must be 'cells' or 'scores', got {part!r}.")
    if table.task == "regression":
        out = pd.DataFrame(_group_columns(table, 1))
        out["count"] = table.cell_n[:, 0].astype(np.int64)
        for j, name in enumerate(_REGRESSION_SUMS):
            out[name] = table.cells[:, j]
        if table.cell_w2 is not None:
            out["weight_sq"] = table.cell_w2[:, 0]
        return out
    if table.task == "multiclass":
        assert table.classes is not None
        k = len(table.classes)
        labels = np.asarray(table.classes, dtype=object)
        t = np.tile(np.repeat(labels, k), g)
        p = np.tile(np.tile(labels, k), g)
        per = k * k
    else:
        t = np.tile(np.array([False, False, True, True]), g)
        p = np.tile(np.array([False, True, False, True]), g)
        per = 4
    out = pd.DataFrame(_group_columns(table, per))
    out["y_true"] = t
    out["y_pred"] = p
    out["count"] = table.cell_n.reshape(-1).astype(np.int64)
    out["weight"] = table.cells.reshape(-1).astype(np.float64)
    if table.cell_w2 is not None:
        out["weight_sq"] = table.cell_w2.reshape(-1)
    return out


# ---------------------------------------------------------------------------------------------
# Parquet: a long table (part, i, value) of every array, plus one JSON row of metadata


def _encode_label(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": v.hex()}
    if isinstance(v, pd.Timestamp):
        return {"timestamp": v.isoformat()}
    raise TypeError(
        f"to_parquet stores group labels that are str, int, float, bool, timestamps or None; "
        f"got {type(v).__name__} ({v!r}); convert the sensitive column to strings first."
    )


def _decode_label(v: Any) -> Any:
    if isinstance(v, dict):
        if "int" in v:
            return int(v["int"])
        if "float" in v:
            return float.fromhex(v["float"])
        if "timestamp" in v:
            return pd.Timestamp(v["timestamp"])
    return v


def _arrays(table: CountTable) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {
        "feature_codes": table.feature_codes,
        "cells": table.cells,
        "cell_n": table.cell_n,
    }
    if table.cell_w2 is not None:
        arrays["cell_w2"] = table.cell_w2
    if table.scores is not None:
        for f in ("group", "score", "pos_w", "neg_w", "pos_n", "neg_n"):
            arrays[f"scores.{f}"] = getattr(table.scores, f)
    for key, a in (table.reg_atoms or {}).items():
        arrays[f"reg_atoms.{key}"] = a
    return arrays


def write_parquet(table: CountTable, path: Any) -> None:
    """Write ``table`` to one Parquet file (DuckDB writes it; float64 keeps every value)."""
    import duckdb

    arrays = _arrays(table)
    for name, a in arrays.items():
        if a.dtype.kind in "iu" and a.size and int(np.abs(a).max()) >= 2**53:
            raise DataError(f"count table array {name} holds integers beyond 2**53.")
    meta = {
        "kind": "fairaudit.CountTable",
        "schema_version": _TABLE_SCHEMA_VERSION,
        "task": table.task,
        "feature_names": list(table.feature_names),
        "feature_levels": [[_encode_label(v) for v in lv] for lv in table.feature_levels],
        "classes": None if table.classes is None else [_encode_label(v) for v in table.classes],
        "pos_label": _encode_label(table.pos_label),
        "weighted": table.weighted,
        "source": [dict(entry) for entry in table.source],
        "shapes": {k: list(a.shape) for k, a in arrays.items()},
        "dtypes": {k: a.dtype.str for k, a in arrays.items()},
    }
    parts = [np.full(1, "meta", dtype=object)]
    index = [np.zeros(1, dtype=np.int64)]
    values = [np.zeros(1)]
    text = [np.array([json.dumps(meta)], dtype=object)]
    for name, a in arrays.items():
        flat = a.reshape(-1)
        parts.append(np.full(flat.size, name, dtype=object))
        index.append(np.arange(flat.size, dtype=np.int64))
        values.append(flat.astype(np.float64))
        text.append(np.full(flat.size, None, dtype=object))
    frame = pd.DataFrame(
        {
            "part": np.concatenate(parts),
            "i": np.concatenate(index),
            "value": np.concatenate(values),
            "text": np.concatenate(text),
        }
    )
    target = str(Path(path))
    con = duckdb.connect()
    try:
        con.register("fa_table", frame)
        con.execute(
            "COPY (SELECT part, i, value, text FROM fa_table) TO ? (FORMAT parquet)", [target]
        )
    finally:
        con.close()


def read_parquet(path: Any) -> CountTable:
    """Read a table written by :func:`write_parquet`."""
    import duckdb

    target = Path(path)
    if not target.exists():
        raise FileNotFoundError(f"no count table at {str(target)!r}.")
    con = duckdb.connect()
    try:
        try:
            res = con.execute(
                "SELECT part, i, value, text FROM read_parquet(?) ORDER BY part, i", [str(target)]
            ).fetchnumpy()
        except duckdb.Error as exc:
            raise DataError(
                f"{str(target)!r} is not a count table written by to_parquet: {exc}"
            ) from exc
    finally:
        con.close()
    part = np.asarray(res["part"], dtype=object)
    meta_rows = np.flatnonzero(part == "meta")
    if meta_rows.size != 1:
        raise DataError(f"{str(target)!r} is not a count table written by to_parquet.")
    meta = json.loads(str(np.asarray(res["text"], dtype=object)[meta_rows[0]]))
    if meta.get("kind") != "fairaudit.CountTable":
        raise DataError(f"{str(target)!r} is not a count table written by to_parquet.")
    values = np.asarray(res["value"], dtype=np.float64)
    arrays: dict[str, np.ndarray] = {}
    for name, shape in meta["shapes"].items():
        rows = part == name
        dtype = np.dtype(meta["dtypes"][name])
        arrays[name] = values[rows].astype(dtype).reshape(shape)
    names = tuple(meta["feature_names"])
    levels = tuple(
        pd.Index([_decode_label(v) for v in lv], dtype=object, name=name)
        for lv, name in zip(meta["feature_levels"], names, strict=True)
    )
    scores = None
    if "scores.group" in arrays:
        scores = ScoreAtoms(
            **{
                f: arrays[f"scores.{f}"]
                for f in ("group", "score", "pos_w", "neg_w", "pos_n", "neg_n")
            }
        )
    reg = {k.split(".", 1)[1]: a for k, a in arrays.items() if k.startswith("reg_atoms.")}
    feature_codes = arrays["feature_codes"]
    return CountTable(
        task=meta["task"],
        index=make_index(names, levels, feature_codes),
        feature_names=names,
        feature_codes=feature_codes,
        feature_levels=levels,
        cells=arrays["cells"],
        cell_n=arrays["cell_n"],
        cell_w2=arrays.get("cell_w2"),
        classes=None
        if meta["classes"] is None
        else tuple(_decode_label(v) for v in meta["classes"]),
        scores=scores,
        weighted=bool(meta["weighted"]),
        reg_atoms=reg or None,
        pos_label=_decode_label(meta["pos_label"]),
        source=tuple(meta.get("source", ())),
    )
