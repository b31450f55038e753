"""Aggregates over groups: difference, ratio, to_overall, vs a reference, and composites.

Pure functions on arrays of per-group values, vectorized over leading (replicate) dimensions:
``values`` has shape ``(..., G)``. Composite metrics (equalized odds: the larger of the TPR
and FPR differences, the smaller of their ratios, as fairlearn defines it) are entries of
:data:`COMPOSITES`, aggregated from their parts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "COMPOSITES",
    "EQUALIZED_ODDS",
    "EQUALIZED_ODDS_INFO",
    "EQUALIZED_ODDS_PARTS",
    "Composite",
    "aggregate",
    "composites_of",
    "parts_of",
]

EQUALIZED_ODDS = "equalized_odds"
EQUALIZED_ODDS_PARTS = ("true_positive_rate", "false_positive_rate")
EQUALIZED_ODDS_INFO = {
    "label": "Equalized odds",
    "description": (
        "Aggregate of the true and false positive rates: the larger of their differences, "
        "the smaller of their ratios."
    ),
    "ideal": None,
    "direction": "none",
    "task": "binary",
    "formula": "difference: max(TPR difference, FPR difference); ratio: min(TPR ratio, FPR ratio)",
    "limitations": "Inherits the limits of TPR and FPR; treats y_true as ground truth.",
}


@dataclass(frozen=True)
class Composite:
    """An aggregate of several registry metrics (not a per-group metric of its own).

    Attributes
    ----------
    name : str
        The name in ``difference()``/``ratio()``/``disparities()`` and in policies.
    parts : tuple of str
        The registry metrics it combines; reported when all of them are computed.
    info : dict
        Label, description, formula and limitations (as a registry entry's ``to_dict``).
    """

    name: str
    parts: tuple[str, ...]
    info: dict[str, Any]


COMPOSITES: dict[str, Composite] = {
    EQUALIZED_ODDS: Composite(EQUALIZED_ODDS, EQUALIZED_ODDS_PARTS, EQUALIZED_ODDS_INFO),
}


def composites_of(metrics: tuple[str, ...] | list[str]) -> list[str]:
    """Return the composites whose parts are all among ``metrics``.

    Examples
    --------
    >>> composites_of(("true_positive_rate", "false_positive_rate"))
    ['equalized_odds']
    >>> composites_of(("selection_rate",))
    []
    """
    return [name for name, c in COMPOSITES.items() if all(m in metrics for m in c.parts)]


def parts_of(metric: str) -> tuple[str, ...]:
    """Return the registry metrics that ``metric`` needs (itself, or a composite's parts).

    Examples
    --------
    >>> parts_of("equalized_odds")
    ('true_positive_rate', 'false_positive_rate')
    >>> parts_of("selection_rate")
    ('selection_rate',)
    """
    return COMPOSITES[metric].parts if metric in COMPOSITES else (metric,)


def _nan_reduce(values: np.ndarray, func: Any, min_count: int = 1) -> np.ndarray:
    finite = np.isfinite(values)
    enough = finite.sum(axis=-1) >= min_count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = func(np.where(finite, values, np.nan), axis=-1)
    return np.where(enough, out, np.nan)


def _agg_difference(
    values: np.ndarray, overall: np.ndarray, method: str, ref: int | None
) -> np.ndarray:
    if method == "reference":
        assert ref is not None
        others = np.delete(values, ref, axis=-1)
        return _nan_reduce(np.abs(others - values[..., ref : ref + 1]), np.nanmax)
    if method == "to_overall":
        return _nan_reduce(np.abs(values - overall[..., None]), np.nanmax)
    return _nan_reduce(values, np.nanmax, 2) - _nan_reduce(values, np.nanmin, 2)


def _agg_ratio(values: np.ndarray, overall: np.ndarray, method: str, ref: int | None) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = (values < 0).any(axis=-1)
        if method == "reference":
            assert ref is not None
            others = np.delete(values, ref, axis=-1)
            out = _nan_reduce(others / values[..., ref : ref + 1], np.nanmin)
        elif method == "to_overall":
            o = overall[..., None]
            both = np.minimum(values / o, o / values)
            both = np.where((values == 0) & (o == 0), 1.0, both)
            out = _nan_reduce(both, np.nanmin)
            negative = negative | (overall < 0)
        else:
            hi = _nan_reduce(values, np.nanmax, 2)
            lo = _nan_reduce(values, np.nanmin, 2)
            out = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), np.nan)
    return np.where(negative, np.nan, out)


def aggregate(
    metrics: tuple[str, ...],
    compare: str,
    method: str,
    ref: int | None,
    subset: np.ndarray,
    values: np.ndarray,
    overall: np.ndarray,
) -> np.ndarray:
    """(..., M') aggregate per metric (+ composites) from values (..., G, M).

    ``compare`` is ``"difference"`` or ``"ratio"``; ``method`` ``"between_groups"``,
    ``"to_overall"`` or ``"reference"`` (then ``ref`` is the reference's group position);
    ``subset`` the group positions taking part. The composites of :func:`composites_of`
    follow the metrics, in order.
    """
    vals = np.moveaxis(values[..., subset, :], -1, -2)  # (..., M, G)
    if ref is not None:
        ref = int(np.flatnonzero(subset == ref)[0])
    func = _agg_difference if compare == "difference" else _agg_ratio
    out = func(vals, overall, method, ref)
    for name in composites_of(metrics):
        i, j = (metrics.index(m) for m in COMPOSITES[name].parts)
        combine = np.fmax if compare == "difference" else np.fmin
        eo = combine(out[..., i], out[..., j])
        eo = np.where(np.isnan(out[..., i]) | np.isnan(out[..., j]), np.nan, eo)
        out = np.concatenate([out, eo[..., None]], axis=-1)
    return out
