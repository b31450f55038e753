"""Intervals that do not claim more certainty than the counts hold.

Per group, a rate gets the Jeffreys interval (equal-tailed quantiles of Beta(x + 1/2,
n - x + 1/2), with the lower bound 0 at x = 0 and the upper bound 1 at x = n): never zero-width,
whatever the counts, unlike a percentile bootstrap, which cannot vary a zero cell or a
one-row group.

A comparison of groups (max - min, min / max, the largest gap to the overall value or to a
reference) gets the *Bonferroni envelope*: each of the k group (and overall) values taking
part gets an interval at level 1 - alpha / k, so that with probability at least about
1 - alpha every true value lies in its interval at once, and the comparison's interval is the
range of the comparison over that box of values. It contains the true comparison whenever the
box does, so its coverage is at least the simultaneous coverage of the group intervals:
unlike the percentile bootstrap of max - min, it does not miss when all groups are equal
(max - min of the estimates is biased upward there, and the percentile interval then almost
never contains 0). The price is width: the envelope is conservative, more so with many groups.
Measured coverage: ``docs/group_metrics.md``.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "ENVELOPE",
    "JEFFREYS",
    "adjusted_confidence",
    "envelope_difference",
    "envelope_ratio",
    "jeffreys_interval",
]

JEFFREYS = "jeffreys"
WILSON = "wilson"
BOOTSTRAP = "bootstrap-percentile"
ENVELOPE = "bonferroni-envelope"


def jeffreys_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Jeffreys interval for proportions (NaN where there are no trials).

    ``successes`` and ``trials`` may be non-integer (Kish effective counts of weighted data).
    The bounds are the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of
    Beta(x + 1/2, n - x + 1/2), except that the lower bound is 0 when x = 0 and the upper bound
    1 when x = n (Brown, Cai and DasGupta 2001).
    """
    from scipy.stats import beta

    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    alpha = 1.0 - np.asarray(confidence, dtype=np.float64)
    ok = n > 0
    x = np.clip(np.where(ok, x, 0.0), 0.0, np.where(ok, n, 0.0))
    a, b = x + 0.5, np.where(ok, n - x, 0.0) + 0.5
    with np.errstate(invalid="ignore"):
        lower = np.where(x > 0, beta.ppf(alpha / 2, a, b), 0.0)
        upper = np.where(x < n, beta.ppf(1 - alpha / 2, a, b), 1.0)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def adjusted_confidence(confidence: float, k: int | np.ndarray) -> np.ndarray:
    """Per-interval level ``1 - (1 - confidence) / k`` for k simultaneous intervals."""
    return 1.0 - (1.0 - confidence) / np.maximum(np.asarray(k, dtype=np.float64), 1.0)


def _nanmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(a, axis=axis)


def _nanmin(a: np.ndarray, axis: int = -1) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmin(a, axis=axis)


def envelope_difference(
    lower: np.ndarray,
    upper: np.ndarray,
    method: str,
    *,
    ref: int | None = None,
    overall_lower: np.ndarray | None = None,
    overall_upper: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Range of a difference aggregate over the box of group intervals.

    Parameters
    ----------
    lower, upper : ndarray of shape (..., G)
        Simultaneous intervals of the group values (NaN for groups without a value, which
        take no part, as in the point estimate).
    method : {"between_groups", "to_overall", "reference"}
        max - min; max |group - overall|; max over g != ref of |group - reference|.
    ref : int, optional
        Position of the reference group (method "reference").
    overall_lower, overall_upper : ndarray of shape (...,), optional
        Interval of the overall value (method "to_overall").

    Returns
    -------
    (lower, upper) : ndarrays of shape (...,)
        NaN where the point estimate is undefined (fewer than two groups with a value, or
        no reference value).
    """
    lo, hi = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    present = np.isfinite(lo) & np.isfinite(hi)
    lo = np.where(present, lo, np.nan)
    hi = np.where(present, hi, np.nan)
    if method == "between_groups":
        enough = present.sum(axis=-1) >= 2
        out_lo = np.maximum(_nanmax(lo) - _nanmin(hi), 0.0)
        out_hi = _nanmax(hi) - _nanmin(lo)
    elif method == "to_overall":
        assert overall_lower is not None
        assert overall_upper is not None
        o_lo, o_hi = overall_lower[..., None], overall_upper[..., None]
        enough = (present.sum(axis=-1) >= 1) & np.isfinite(overall_lower)
        gap_lo = np.maximum(np.maximum(lo - o_hi, o_lo - hi), 0.0)
        gap_hi = np.maximum(hi - o_lo, o_hi - lo)
        out_lo, out_hi = _nanmax(gap_lo), _nanmax(gap_hi)
    elif method == "reference":
        assert ref is not None
        r_lo, r_hi = lo[..., ref : ref + 1], hi[..., ref : ref + 1]
        o_lo, o_hi = np.delete(lo, ref, axis=-1), np.delete(hi, ref, axis=-1)
        enough = np.isfinite(r_lo[..., 0]) & np.isfinite(o_lo).any(axis=-1)
        gap_lo = np.maximum(np.maximum(o_lo - r_hi, r_lo - o_hi), 0.0)
        gap_hi = np.maximum(o_hi - r_lo, r_hi - o_lo)
        out_lo, out_hi = _nanmax(gap_lo), _nanmax(gap_hi)
    else:
        raise ValueError(f"unknown method {method!r}")
    return np.where(enough, out_lo, np.nan), np.where(enough, out_hi, np.nan)


def _safe_div(num: np.ndarray, den: np.ndarray, zero: float) -> np.ndarray:
    """Divide non-negative values, giving ``zero`` where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    return np.where(den > 0, out, zero)


def envelope_ratio(
    lower: np.ndarray,
    upper: np.ndarray,
    method: str,
    *,
    ref: int | None = None,
    overall_lower: np.ndarray | None = None,
    overall_upper: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Range of a ratio aggregate over the box of group intervals (non-negative values).

    Same arguments as :func:`envelope_difference`. ``between_groups`` is min / max (in
    [0, 1]); ``to_overall`` the smallest min(group / overall, overall / group) (in [0, 1]);
    ``reference`` the smallest group / reference, whose upper bound is ``inf`` when the
    reference's lower bound is 0. The caller makes the result NaN where values may be
    negative (the point estimate is NaN there).
    """
    lo, hi = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    present = np.isfinite(lo) & np.isfinite(hi)
    lo = np.where(present, np.maximum(lo, 0.0), np.nan)
    hi = np.where(present, np.maximum(hi, 0.0), np.nan)
    if method == "between_groups":
        enough = present.sum(axis=-1) >= 2
        min_lo, min_hi = _nanmin(lo), _nanmin(hi)
        max_lo, max_hi = _nanmax(lo), _nanmax(hi)
        out_lo = np.where(max_hi > 0, _safe_div(min_lo, max_hi, 0.0), 0.0)
        out_hi = np.minimum(np.where(max_lo > 0, _safe_div(min_hi, max_lo, 1.0), 1.0), 1.0)
    elif method == "to_overall":
        assert overall_lower is not None
        assert overall_upper is not None
        o_lo = np.maximum(overall_lower, 0.0)[..., None]
        o_hi = np.maximum(overall_upper, 0.0)[..., None]
        enough = (present.sum(axis=-1) >= 1) & np.isfinite(overall_lower)
        # lower: the worse of g/o and o/g at the corners; upper: 1 where the intervals meet
        g_over_o = np.where(o_hi > 0, _safe_div(lo, np.broadcast_to(o_hi, lo.shape), 0.0), 0.0)
        o_over_g = np.where(hi > 0, _safe_div(np.broadcast_to(o_lo, hi.shape), hi, 0.0), 0.0)
        per_lo = np.minimum(g_over_o, o_over_g)
        below = hi < o_lo  # group surely under the overall value: best case hi / o_lo
        above = lo > o_hi  # surely over it: best case o_hi / lo
        per_hi = np.where(
            below,
            _safe_div(hi, np.broadcast_to(o_lo, hi.shape), 1.0),
            np.where(above, _safe_div(np.broadcast_to(o_hi, lo.shape), lo, 1.0), 1.0),
        )
        per_lo = np.where(present, per_lo, np.nan)
        per_hi = np.where(present, np.minimum(per_hi, 1.0), np.nan)
        out_lo, out_hi = _nanmin(per_lo), _nanmin(per_hi)
    elif method == "reference":
        assert ref is not None
        r_lo, r_hi = lo[..., ref : ref + 1], hi[..., ref : ref + 1]
        o_lo, o_hi = np.delete(lo, ref, axis=-1), np.delete(hi, ref, axis=-1)
        enough = np.isfinite(r_lo[..., 0]) & np.isfinite(o_lo).any(axis=-1)
        out_lo = _nanmin(
            np.where(r_hi > 0, _safe_div(o_lo, np.broadcast_to(r_hi, o_lo.shape), 0.0), 0.0)
        )
        out_hi = _nanmin(_safe_div(o_hi, np.broadcast_to(r_lo, o_hi.shape), np.inf))
    else:
        raise ValueError(f"unknown method {method!r}")
    return np.where(enough, out_lo, np.nan), np.where(enough, out_hi, np.nan)
