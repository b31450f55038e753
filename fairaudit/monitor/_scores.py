"""Scores in the monitor: validation, per-batch score atoms, and atoms read back as tables.

A prediction given with ``y_score`` adds one to the atom (window, group, score, label) of the
store's ``score_atoms`` table, where label is 0 (negative outcome), 1 (positive) or 2 (not
labelled yet). A late label moves the prediction from label 2 to its outcome, as the cells do.
Read back, the labelled atoms of a window are exactly the :class:`~fairaudit.metrics.CountTable`
score atoms (distinct (group, score) with the counts of positives and negatives) that
``fa.metrics.count_table(..., y_score=...)`` computes from the same rows, so ROC AUC, the
Brier score and the calibration error of a window are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._validation import as_1d, format_values
from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.metrics import METRIC_REGISTRY
from fairaudit.metrics._counts import ScoreAtoms

__all__ = [
    "SCORE_METRICS",
    "RawAtoms",
    "batch_atoms",
    "check_score_decimals",
    "labelled_atoms",
    "validate_scores",
]

# the registry's score metrics, all computed exactly from atoms (in registry order)
SCORE_METRICS: tuple[str, ...] = tuple(k for k, d in METRIC_REGISTRY.items() if d.task == "score")
UNLABELED_SCORE = 2


def is_score_metric(name: str) -> bool:
    """Whether ``name`` is a metric of scores (ROC AUC, Brier score, calibration error)."""
    d = METRIC_REGISTRY.get(name)
    return d is not None and d.task == "score"


def check_score_decimals(value: Any) -> int | None:
    """Validate the monitor's ``score_decimals`` setting (None: scores kept exactly)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"score_decimals must be an int or None, got {value!r}.")
    if not 0 <= int(value) <= 15:
        raise ValueError(
            f"score_decimals must be between 0 and 15 (decimal places kept), got {value!r}."
        )
    return int(value)


def validate_scores(y_score: Any, *, n: int, decimals: int | None) -> np.ndarray:
    """Float64 scores, one per row, finite and in [0, 1], rounded to ``decimals`` when set."""
    s = as_1d(y_score, name="y_score")
    if len(s) != n:
        raise DataError(f"y_score has {len(s)} rows but y_pred has {n}; pass one per row.")
    missing = np.flatnonzero(s.isna().to_numpy())  # NaN and None (infinity is out of range)
    if missing.size:
        raise MissingValueError(
            f"y_score has {missing.size} missing value(s) at rows {format_values(missing)}; "
            "every prediction given with a score needs one (or leave y_score out)."
        )
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        raise TypeError(
            f"y_score must be numbers (the model's probability of the positive label), got "
            f"dtype {s.dtype}."
        )
    score = s.to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(score) | (score < 0.0) | (score > 1.0))
    if bad.size:
        raise DataError(
            f"y_score has values outside [0, 1] at rows {format_values(bad)} "
            f"({format_values(score[bad[:5]].tolist())}); the monitor stores probabilities of "
            "the positive label (predict_proba[:, 1]; map a decision function through a "
            "sigmoid first)."
        )
    if decimals is not None:
        score = np.round(score, decimals)
    return score + 0.0  # a new array; -0.0 and 0.0 are one score


def batch_atoms(
    wg: np.ndarray, score: np.ndarray, label: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Count the rows of a batch per (window-group cell, score, label).

    ``wg`` is each row's local (window, group) code (0 .. K-1), ``label`` 0, 1 or 2.
    Returns the distinct (wg, score, label) and their row counts.
    """
    s_code, s_values = pd.factorize(score)
    n_scores = len(s_values)
    n_wg = int(wg.max()) + 1
    code = wg.astype(np.int64) * n_scores
    code += s_code
    code *= 3
    code += label
    size = n_wg * n_scores * 3
    if size <= 4 * len(code) + 1024:
        counts = np.bincount(code, minlength=size)
        keys = np.flatnonzero(counts)
        counts = counts[keys]
    else:
        keys, counts = np.unique(code, return_counts=True)
    lab = keys % 3
    rest = keys // 3
    return rest // n_scores, np.asarray(s_values, dtype=np.float64)[rest % n_scores], lab, counts


@dataclass(frozen=True)
class RawAtoms:
    """Score atoms read from the store: group position (in the keys), score, label, count."""

    group: np.ndarray
    score: np.ndarray
    label: np.ndarray
    n: np.ndarray

    @classmethod
    def empty(cls) -> RawAtoms:
        return cls(np.empty(0, np.intp), np.empty(0), np.empty(0, np.int64), np.empty(0, np.int64))

    def labelled(self) -> RawAtoms:
        keep = self.label < UNLABELED_SCORE
        return RawAtoms(self.group[keep], self.score[keep], self.label[keep], self.n[keep])

    def has_labelled(self) -> bool:
        """Whether any scored prediction has its label."""
        return bool(((self.label < UNLABELED_SCORE) & (self.n > 0)).any())

    def per_group(self, n_groups: int) -> np.ndarray:
        """Rows per group."""
        return np.bincount(self.group, weights=self.n, minlength=n_groups).astype(np.int64)


def labelled_atoms(raw: RawAtoms, mapping: np.ndarray, n_groups: int) -> ScoreAtoms:
    """CountTable score atoms of the labelled rows, groups renumbered by ``mapping``.

    ``mapping[position] = table group`` (-1: dropped).
    """
    lab = raw.labelled()
    new_group = mapping[lab.group] if lab.group.size else lab.group
    keep = new_group >= 0
    pos = np.where(lab.label[keep] == 1, lab.n[keep], 0).astype(np.float64)
    neg = np.where(lab.label[keep] == 0, lab.n[keep], 0).astype(np.float64)
    return ScoreAtoms.from_rows(
        new_group[keep].astype(np.intp),
        lab.score[keep],
        pos,
        None,
        n_groups,
        pos_n=pos,
        neg_n=neg,
        neg_w=neg,
    )


def feature_atoms(
    raw: RawAtoms, keys: list[tuple[str, ...]], j: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, ScoreAtoms]:
    """Labels (sorted text) of feature j and the labelled atoms pooled to them.

    ``labels`` fixes the labels (a superset of the keys' values of feature j).
    """
    column = np.asarray([k[j] for k in keys], dtype=object)
    if labels is None:
        labels = np.unique(column) if len(column) else np.empty(0, dtype=object)
    mapping = np.searchsorted(labels, column).astype(np.intp) if len(column) else column
    return labels, labelled_atoms(raw, np.asarray(mapping, dtype=np.intp), len(labels))


def score_bounds(
    atoms: ScoreAtoms, metric: str, n_groups: int, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and normal-approximation bounds per group of a score metric, clipped to [0, 1].

    ROC AUC: value +- z * sqrt(DeLong variance); Brier score: mean +- z * sd / sqrt(n) of the
    per-row ``(s - y)^2``; calibration error: no bounds (NaN).
    """
    from scipy.stats import norm

    from fairaudit.metrics._compute import score_value
    from fairaudit.metrics._score_drift import auc_delong, brier_moments

    value = score_value(atoms, metric, n_groups)
    z = float(norm.ppf(0.5 + confidence / 2))
    if metric == "roc_auc":
        se = np.sqrt(auc_delong(atoms, n_groups)[1])
    elif metric == "brier_score":
        _, var, n = brier_moments(atoms, n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(var / n)
    else:
        se = np.full(n_groups, np.nan)
    return value, np.clip(value - z * se, 0.0, 1.0), np.clip(value + z * se, 0.0, 1.0)


def add_score_gauges(
    monitor: Any,
    raw: RawAtoms,
    keys: list[tuple[str, ...]],
    previous: tuple[Any, list[tuple[str, ...]], RawAtoms] | None,
    families: tuple[Any, Any, Any, Any, Any],
    drift_labels: list[tuple[str, str, str]],
    drift_p: list[np.ndarray],
) -> None:
    """Add the score metrics of the current window to the exporter's families.

    ``families`` is (the label list shared by the value and its bounds, value, lower, upper,
    disparity). Values per group of each sensitive feature (labelled predictions with a
    score), normal bounds (:func:`score_bounds`), the disparities, and the drift p-values of
    :func:`fairaudit.metrics.drift`'s score tests (DeLong for ROC AUC, Welch for the Brier
    score; none for the calibration error).
    """
    from fairaudit.metrics._score_drift import score_test

    if not raw.has_labelled():
        return
    names, value, lower, upper, disparity = families
    metrics = [m for m in monitor._names(None, True) if is_score_metric(m)]
    for j, feature in enumerate(monitor.sensitive_features):
        labels, atoms = feature_atoms(raw, keys, j)
        prev_atoms = union = cur_u = None
        if previous is not None and previous[2].has_labelled():
            prev_column = np.asarray([k[j] for k in previous[1]], dtype=object)
            union = np.union1d(labels, prev_column)
            _, prev_atoms = feature_atoms(previous[2], previous[1], j, union)
            _, cur_u = feature_atoms(raw, keys, j, union)
        for m in metrics:
            v, lo, hi = score_bounds(atoms, m, len(labels), monitor.confidence)
            shown = np.flatnonzero(np.isfinite(v))
            names += [(m, feature, str(labels[i]), "current") for i in shown]
            value.values.extend(v[shown].tolist())
            lower.values.extend(lo[shown].tolist())
            upper.values.extend(hi[shown].tolist())
            finite = v[shown]
            if finite.size >= 2:
                disparity.labels.append((m, feature, "difference"))
                disparity.values.append(float(finite.max() - finite.min()))
                if finite.max() > 0:
                    disparity.labels.append((m, feature, "ratio"))
                    disparity.values.append(float(finite.min() / finite.max()))
            if prev_atoms is not None and cur_u is not None and union is not None:
                drift_p.append(score_test(m, prev_atoms, cur_u, len(union))[3])
                drift_labels += [(m, feature, str(g)) for g in union]
