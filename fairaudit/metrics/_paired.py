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

import numpy as np

from fairaudit.metrics._compute import binary_value
from fairaudit.metrics._registry import METRIC_REGISTRY

__all__ = [
    "PAIRED_METRICS",
    "bootstrap_paired",
    "clopper_pearson",
    "mcnemar_discordant",
    "mcnemar_exact",
    "paired_cells",
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

    Examples
    --------
    >>> round(mcnemar_exact(9, 1), 4)
    0.0215
    >>> mcnemar_exact(0, 0)
    1.0
    """
    from scipy.stats import binomtest

    n = round(up + down)
    if n == 0:
        return 1.0
    return float(binomtest(round(up), n, 0.5).pvalue)


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
