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

import numpy as np
import pandas as pd

N_CALIBRATION_BINS = 10


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


@dataclass(frozen=True)
class CountTable:
    """Per-group weighted counts: everything a GroupMetrics needs after the one pass.

    ``cells`` is (G, 4) for binary tasks (TN, FP, FN, TP), (G, K, K) for multiclass
    (true class, predicted class), and (G, 5) weighted sums for regression
    (W, sum w*yhat, sum w*(yhat - y), sum w*|yhat - y|, sum w*(yhat - y)^2).
    ``cell_n`` holds the same cells without weights (regression: (G, 1) row counts) and
    ``cell_w2`` the sums of squared weights (only when weighted).
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
        order = np.lexsort((q, groups))
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
