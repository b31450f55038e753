"""Paired count tables: two predictions on the same rows, per group.

Comparing two models on the same rows (research vs production, v1 vs v2), or a model with
itself on counterfactual rows (the flip test), is again a count table: per group, the counts of
the eight (y, pred_a, pred_b) cells (binary labels as 0/1 indicators of ``pos_label``). Every
paired difference of a count metric, its bootstrap interval (count-level multinomial,
stratified by group, as the group-metrics bootstrap), and an exact McNemar test derive from
that table. This module never sees a model.

Cell layout: index ``4 * y + 2 * a + b``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit.metrics._compute import binary_value
from fairaudit.metrics._encode import _is_pos, encode_groups
from fairaudit.metrics._registry import METRIC_REGISTRY

__all__ = [
    "PAIRED_METRICS",
    "PairedCounts",
    "bootstrap_paired",
    "clopper_pearson",
    "mcnemar_discordant",
    "mcnemar_exact",
    "paired_cells",
    "paired_counts",
    "paired_values",
    "tost_equivalent",
]

# metrics a comparison reports by default (count metrics of the registry, binary task)
PAIRED_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")

# (8 cells) -> (TN, FP, FN, TP) of model a and of model b
_TO_A = np.zeros((8, 4))
_TO_B = np.zeros((8, 4))
for _y in (0, 1):
    for _a in (0, 1):
        for _b in (0, 1):
            _TO_A[4 * _y + 2 * _a + _b, 2 * _y + _a] = 1.0
            _TO_B[4 * _y + 2 * _a + _b, 2 * _y + _b] = 1.0


def paired_cells(
    codes: np.ndarray, n_groups: int, y: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Count the (y, a, b) cells of each group in one pass.

    Parameters
    ----------
    codes : ndarray of int of shape (n,)
        Group code of each row, in ``0..n_groups-1``.
    n_groups : int
        Number of groups.
    y, a, b : ndarray of bool or 0/1 of shape (n,)
        Outcome and the two predictions (indicators of the positive class).

    Returns
    -------
    ndarray of float of shape (n_groups, 8)

    Examples
    --------
    >>> paired_cells(np.array([0, 0, 1]), 2, np.array([1, 0, 1]), np.array([1, 0, 0]),
    ...              np.array([1, 1, 0]))[0]
    array([0., 1., 0., 0., 0., 0., 0., 1.])
    """
    index = codes.astype(np.int64) * 8 + 4 * y.astype(np.int64) + 2 * a.astype(np.int64)
    index += b.astype(np.int64)
    return np.bincount(index, minlength=8 * n_groups).reshape(n_groups, 8).astype(np.float64)


@dataclass(frozen=True)
class PairedCounts:
    """Everything a comparison derives its statistics from: a few numbers per group."""

    index: pd.Index  # the groups (as group_metrics names them)
    cells: np.ndarray  # (n_groups, 8) counts of the (y, a, b) cells
    count: np.ndarray  # (n_groups,) rows
    agreeing: np.ndarray  # (n_groups,) rows where pred_a == pred_b (raw labels)
    score_max: np.ndarray | None  # (n_groups,) max |score_b - score_a|, None without scores
    labels_true: tuple[Any, ...]  # distinct values of y_true
    labels_a: tuple[Any, ...]  # distinct values of pred_a
    n_rows: int


def paired_counts(
    groups: Any,
    n: np.ndarray | None,
    y_true: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    gap: np.ndarray | None,
    *,
    pos_label: Any,
    missing_groups: Any = "error",
) -> PairedCounts:
    """Count the paired cells per group from rows, or from an engine's aggregate rows.

    Parameters
    ----------
    groups : DataFrame or dict of columns
        Sensitive values of each row (or aggregate row).
    n : ndarray of int, optional
        Rows each entry stands for (an engine's ``count(*)``); None: one row each.
    y_true, pred_a, pred_b : ndarray
        Raw labels (compared with ``pos_label`` and with each other here).
    gap : ndarray of float, optional
        ``|score_b - score_a|`` of each row (an engine: its maximum over the entry's rows).
    pos_label : object
    missing_groups : {"error", "separate"}
        As in :func:`fairaudit.metrics.count_table`.

    Returns
    -------
    PairedCounts
        Groups in the order and with the labels of :func:`fairaudit.group_metrics`; groups
        without rows are left out.

    Examples
    --------
    >>> pc = paired_counts({"s": np.array(["f", "f", "m"], dtype=object)}, np.array([2, 1, 4]),
    ...                    np.array([1, 0, 1]), np.array([1, 0, 0]), np.array([1, 1, 0]), None,
    ...                    pos_label=1)
    >>> pc.count.tolist(), pc.agreeing.tolist()
    ([3, 4], [2, 4])
    """
    encoding = encode_groups(groups, n_rows=len(y_true), missing_groups=missing_groups)
    codes = encoding.codes
    g = encoding.n_codes
    weights = None if n is None else np.asarray(n, dtype=np.float64)
    y = np.asarray(_is_pos(np.asarray(y_true), pos_label), dtype=np.int64)
    a = np.asarray(_is_pos(np.asarray(pred_a), pos_label), dtype=np.int64)
    b = np.asarray(_is_pos(np.asarray(pred_b), pos_label), dtype=np.int64)
    index = codes.astype(np.int64) * 8 + 4 * y + 2 * a + b
    cells = np.bincount(index, weights=weights, minlength=8 * g).reshape(g, 8)
    cells = cells.astype(np.float64)
    agree = np.asarray(np.asarray(pred_a) == np.asarray(pred_b), dtype=bool)
    ones = np.ones(len(codes)) if weights is None else weights
    count = np.rint(np.bincount(codes, weights=ones, minlength=g)).astype(np.int64)
    agreeing = np.rint(np.bincount(codes, weights=ones * agree, minlength=g)).astype(np.int64)
    score_max = None
    if gap is not None:
        score_max = np.full(g, -np.inf)
        np.maximum.at(score_max, codes, np.asarray(gap, dtype=np.float64))
    keep = np.flatnonzero(count)
    labels, _ = encoding.labels(keep)
    return PairedCounts(
        index=labels,
        cells=cells[keep],
        count=count[keep],
        agreeing=agreeing[keep],
        score_max=None if score_max is None else score_max[keep],
        labels_true=tuple(pd.unique(np.asarray(y_true)).tolist()),
        labels_a=tuple(pd.unique(np.asarray(pred_a)).tolist()),
        n_rows=int(count.sum()),
    )


def paired_values(cells: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the metric of model a and of model b from (..., 8) paired cells."""
    return binary_value(cells @ _TO_A, metric), binary_value(cells @ _TO_B, metric)


def mcnemar_discordant(cells: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Count rows counted by the metric's numerator under b but not a, and the reverse.

    Only for metrics whose denominator does not depend on the prediction (selection rate,
    TPR, FPR, FNR, TNR, accuracy): then the difference b - a is (up - down) / denominator
    and McNemar's test applies. Returns None for the others (precision...).
    """
    d = METRIC_REGISTRY.get(metric)
    if d is None or d.numerator is None or d.denominator is None:
        return None
    num, den = np.asarray(d.numerator), np.asarray(d.denominator)
    if den[0] != den[1] or den[2] != den[3]:  # depends on the prediction
        return None
    up = np.zeros(8)
    down = np.zeros(8)
    for y in (0, 1):
        for a in (0, 1):
            for b in (0, 1):
                k = 4 * y + 2 * a + b
                if den[2 * y] and num[2 * y + b] and not num[2 * y + a]:
                    up[k] = 1.0
                if den[2 * y] and num[2 * y + a] and not num[2 * y + b]:
                    down[k] = 1.0
    return cells @ up, cells @ down


def mcnemar_exact(up: float, down: float) -> float:
    """Exact two-sided McNemar p-value: ``up ~ Binomial(up + down, 1/2)`` under the null.

    The same number as ``scipy.stats.binomtest(up, up + down, 0.5).pvalue`` (to 1e-14
    relative, mostly bit for bit), from the regularized incomplete beta function: for p = 1/2
    the distribution is symmetric, so the two-sided p-value is twice the tail
    ``P(X <= min(up, down)) = I_{1/2}(n - m, m + 1)``. ``scipy.special`` is used because
    importing ``scipy.stats`` costs seconds, many times a whole comparison; where binomtest's
    tolerance on equal probabilities (1e-7) takes in more terms (tens of millions of
    discordant rows, nearly balanced), binomtest itself is called.

    Examples
    --------
    >>> round(mcnemar_exact(9, 1), 4)
    0.0215
    >>> mcnemar_exact(0, 0)
    1.0
    """
    from scipy.special import betainc

    n = round(up + down)
    k = round(up)
    if n == 0 or 2 * k == n:
        return 1.0
    m = min(k, n - k)
    if n - 2 * m >= 2 and (n - m) <= (m + 1) * (1 + 2e-7):  # pragma: no cover - n > 1e7
        from scipy.stats import binomtest

        return float(binomtest(k, n, 0.5).pvalue)
    tail = float(betainc(n - m, m + 1, 0.5))
    return min(1.0, tail + tail)


def clopper_pearson(
    successes: np.ndarray, trials: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval for proportions; NaN where there are no trials.

    Examples
    --------
    >>> lo, hi = clopper_pearson(np.array([0.0]), np.array([10.0]), 0.95)
    >>> float(lo[0]), round(float(hi[0]), 4)
    (0.0, 0.3085)
    """
    from scipy.stats import beta

    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    alpha = 1.0 - confidence
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(k > 0, beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        upper = np.where(k < n, beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    lower = np.where(n > 0, lower, np.nan)
    upper = np.where(n > 0, upper, np.nan)
    return lower, upper


def bootstrap_paired(cells: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Resample rows jointly, per group: multinomial draws of each group's 8 cells.

    Parameters
    ----------
    cells : ndarray of shape (n_groups, 8)
        Integer counts.
    n_boot : int
        Replicates.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_boot, n_groups, 8)
        Each group keeps its size (stratified by group), as the group-metrics bootstrap.
    """
    out = np.zeros((n_boot, *cells.shape))
    for g, row in enumerate(cells):
        n = round(row.sum())
        if n == 0:
            continue
        out[:, g, :] = rng.multinomial(n, row / row.sum(), size=n_boot)
    return out


def tost_equivalent(lower: np.ndarray, upper: np.ndarray, tolerance: float) -> np.ndarray:
    """TOST verdict from a (1 - 2 alpha) interval: inside (-tolerance, tolerance).

    Two one-sided tests at level alpha reject both "difference <= -tolerance" and
    "difference >= tolerance" exactly when the (1 - 2 alpha) interval lies strictly inside
    (Schuirmann 1987). NaN bounds are not equivalent.

    Examples
    --------
    >>> tost_equivalent(np.array([-0.01, -0.03]), np.array([0.02, 0.0]), 0.025).tolist()
    [True, False]
    """
    with np.errstate(invalid="ignore"):
        ok = (lower > -tolerance) & (upper < tolerance)
    return ok & np.isfinite(lower) & np.isfinite(upper)
