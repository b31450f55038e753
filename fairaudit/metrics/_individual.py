"""Individual-level fairness: generalized entropy of benefits, and kNN consistency.

The generalized entropy index (Speicher et al. 2018) measures how unequally a classifier's
"benefit" ``b = y_pred - y_true + 1`` is spread over individuals; it decomposes exactly into
a between-group and a within-group term. Consistency (Zemel et al. 2013) measures whether
similar individuals get similar predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import (
    align_on_index,
    as_frame,
    check_consistent_length,
    check_sample_weight,
)
from fairaudit.exceptions import DataError
from fairaudit.metrics._encode import as_values, binary_labels, encode_groups

__all__ = ["GeneralizedEntropy", "consistency", "generalized_entropy_index"]


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.integer | np.floating):
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__} ({alpha!r}).")
    a = float(alpha)
    if not math.isfinite(a) or a < 0:
        raise ValueError(
            f"alpha must be a finite number >= 0, got {alpha!r}; 0 is the mean log deviation, "
            "1 the Theil index, 2 (the default) half the squared coefficient of variation."
        )
    return a


def _ge(ratio: np.ndarray, weight: np.ndarray, alpha: float) -> float:
    """Weighted generalized entropy of values already divided by their (weighted) mean."""
    total = weight.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        if alpha == 0:
            terms = -np.log(ratio)
        elif alpha == 1:
            terms = np.where(ratio > 0, ratio * np.log(np.where(ratio > 0, ratio, 1)), 0.0)
        else:
            terms = (ratio**alpha - 1) / (alpha * (alpha - 1))
    return float((weight * terms).sum() / total)


@dataclass(frozen=True, eq=False)
class GeneralizedEntropy(ResultMixin):
    """The generalized entropy index of benefits and its between/within-group decomposition.

    Attributes
    ----------
    total : float
        The index over all individuals.
    between_group : float
        The index when every individual gets its group's mean benefit.
    within_group : float
        ``sum_g w_g * GE_g`` with ``w_g = (n_g / n) * (mu_g / mu) ** alpha``; equals
        ``total - between_group``.
    alpha : float
        The parameter (1: Theil index).
    by_group : pandas.DataFrame
        Per group: ``count``, ``mean_benefit``, ``index`` (the group's own GE) and ``weight``
        (its ``w_g`` in the within-group term).
    sensitive_features : tuple of str
        The features whose combinations are the groups.

    Examples
    --------
    >>> import fairaudit as fa
    >>> ge = fa.metrics.generalized_entropy_index(
    ...     [1, 0, 1, 0], [1, 1, 1, 0], sensitive_features=["a", "a", "b", "b"])
    >>> round(ge.total, 4), round(ge.between_group, 4), round(ge.within_group, 4)
    (0.06, 0.02, 0.04)
    """

    total: float
    between_group: float
    within_group: float
    alpha: float
    by_group: pd.DataFrame
    sensitive_features: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per component.

        Returns
        -------
        pandas.DataFrame
            Columns ``component`` (``total``, ``between_group``, ``within_group``) and
            ``value``.
        """
        return pd.DataFrame(
            {
                "component": ["total", "between_group", "within_group"],
                "value": [self.total, self.between_group, self.within_group],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict.

        Returns
        -------
        dict
            Keys ``kind``, ``schema_version``, ``alpha``, ``total``, ``between_group``,
            ``within_group``, ``sensitive_features`` and ``by_group`` (records).
        """
        groups = self.by_group.reset_index()
        first = groups.columns[0]
        groups[first] = groups[first].map(str)
        return json_safe(
            {
                "kind": "generalized_entropy",
                "schema_version": 1,
                "alpha": self.alpha,
                "total": self.total,
                "between_group": self.between_group,
                "within_group": self.within_group,
                "sensitive_features": list(self.sensitive_features),
                "by_group": groups.to_dict("records"),
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Stacked bar of the between- and within-group parts of the index.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        matplotlib Axes
        """
        ax = get_axes(ax)
        ax.bar([0], [self.between_group], label="between groups", color="#c44e52")
        ax.bar([0], [self.within_group], bottom=[self.between_group], label="within groups")
        ax.set_xticks([0], [f"GE(alpha={self.alpha:g})"])
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return (
            f"GeneralizedEntropy(alpha={self.alpha:g}, total={self.total:.4g}, "
            f"between_group={self.between_group:.4g}, within_group={self.within_group:.4g}, "
            f"groups={len(self.by_group)})"
        )


@overload
def generalized_entropy_index(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = ...,
    sensitive_features: None = ...,
    pos_label: Any = ...,
    sample_weight: Any = ...,
) -> float: ...


@overload
def generalized_entropy_index(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = ...,
    sensitive_features: Any,
    pos_label: Any = ...,
    sample_weight: Any = ...,
) -> GeneralizedEntropy: ...


def generalized_entropy_index(
    y_true: Any,
    y_pred: Any,
    *,
    alpha: float = 2,
    sensitive_features: Any = None,
    pos_label: Any = 1,
    sample_weight: Any = None,
) -> float | GeneralizedEntropy:
    """Generalized entropy index of the benefits ``b = y_pred - y_true + 1``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary labels and predictions.
    alpha : float, default=2
        ``>= 0``: 0 is the mean log deviation, 1 the Theil index, 2 half the squared
        coefficient of variation.
    sensitive_features : array-like, DataFrame or dict, optional
        With groups, the result is a :class:`GeneralizedEntropy` holding ``total``,
        ``between_group`` and ``within_group``; without, the total as a float.
    pos_label : object, default=1
        The positive label.
    sample_weight : array-like of shape (n_samples,), optional
        Row weights (every mean and sum is weighted).

    Returns
    -------
    float or GeneralizedEntropy

    Notes
    -----
    ``GE(alpha) = 1 / (n alpha (alpha - 1)) * sum_i ((b_i / mu)^alpha - 1)``, with the limits
    ``mean((b/mu) ln(b/mu))`` at alpha = 1 and ``-mean(ln(b/mu))`` at alpha = 0 (infinite as soon
    as one benefit is 0, a false negative). The benefit (Speicher et al. 2018, as aif360) is 2
    for a false positive, 0 for a false negative and 1 for a correct prediction, so the index
    measures how unequally errors fall on individuals, treating a false positive as a gain.
    aif360 0.6's ``generalized_entropy_index`` divides the alpha = 0 case once more by the mean
    benefit; fairaudit uses the textbook formula above.

    References
    ----------
    Speicher, Heidari, Grgic-Hlaca et al., "A Unified Approach to Quantifying Algorithmic
    Unfairness", KDD 2018.

    Examples
    --------
    >>> import fairaudit as fa
    >>> # benefits 1, 2, 1, 1: mean 1.25; GE(2) = mean((b/mu)^2 - 1) / 2 = 0.12 / 2
    >>> round(fa.metrics.generalized_entropy_index([1, 0, 1, 0], [1, 1, 1, 0]), 6)
    0.06
    """
    a = _check_alpha(alpha)
    aligned = align_on_index(
        y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features,
        sample_weight=sample_weight,
    )  # fmt: skip
    y_true, y_pred = aligned["y_true"], aligned["y_pred"]
    sensitive_features, sample_weight = aligned["sensitive_features"], aligned["sample_weight"]
    t = as_values(y_true, name="y_true")
    p = as_values(y_pred, name="y_pred")
    n = check_consistent_length(y_true=t, y_pred=p)
    if n == 0:
        raise DataError("y_true is empty; pass at least one sample.")
    t_pos, p_pos = binary_labels(t, p, pos_label=pos_label)
    b = 1.0 + p_pos.astype(np.float64) - t_pos.astype(np.float64)
    w = check_sample_weight(sample_weight, n)
    weight = np.ones(n) if w is None else w
    mu = float((weight * b).sum() / weight.sum())
    total = _ge(b / mu, weight, a)
    if sensitive_features is None:
        return total
    enc = encode_groups(sensitive_features, n_rows=n)
    check_consistent_length(y_true=t, sensitive_features=enc.codes)
    used, g = np.unique(enc.codes, return_inverse=True)
    index, _ = enc.labels(used)
    n_g = np.bincount(g, weights=weight, minlength=len(used))
    mu_g = np.bincount(g, weights=weight * b, minlength=len(used)) / n_g
    between = _ge(mu_g[g] / mu, weight, a)
    ge_g = np.array(
        [
            _ge(b[g == k] / mu_g[k], weight[g == k], a) if mu_g[k] > 0 else np.nan
            for k in range(len(used))
        ]
    )
    share = n_g / n_g.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        w_g = share * (mu_g / mu) ** a
    within = float(np.nansum(w_g * ge_g))
    by_group = pd.DataFrame(
        {"count": n_g, "mean_benefit": mu_g, "index": ge_g, "weight": w_g}, index=index
    )
    return GeneralizedEntropy(
        total=total,
        between_group=between,
        within_group=within,
        alpha=a,
        by_group=by_group,
        sensitive_features=tuple(enc.feature_names),
    )


def consistency(
    X: Any,
    y_pred: Any,
    *,
    n_neighbors: int = 5,
    algorithm: str = "ball_tree",
) -> float:
    """Consistency of predictions among nearest neighbours (Zemel et al. 2013).

    ``1 - mean_i |y_pred_i - mean(y_pred of the n_neighbors nearest rows of x_i)|``, with
    neighbours by Euclidean distance on ``X`` (scikit-learn's ``NearestNeighbors``).

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Numeric features, already encoded and scaled: distances mix their units.
    y_pred : array-like of shape (n_samples,)
        Numeric predictions (0/1 labels, or scores).
    n_neighbors : int, default=5
        Neighbours per row. As in aif360, the row itself is among them (``kneighbors`` on the
        fitted data), so consistency is 1 minus ``(k - 1) / k`` times the mean distance of a
        prediction to its k - 1 other neighbours' mean.
    algorithm : str, default="ball_tree"
        Passed to ``NearestNeighbors`` (aif360 uses the ball tree; the choice only decides
        which of several equidistant neighbours is taken).

    Returns
    -------
    float
        In [0, 1] for 0/1 predictions; 1 when neighbours always agree.

    Raises
    ------
    TypeError
        When X has non-numeric columns (say which, and how to encode them).
    ValueError
        When X or y_pred has missing values, or n_neighbors is not in [1, n_samples].

    Examples
    --------
    >>> import fairaudit as fa
    >>> X = [[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]]
    >>> fa.metrics.consistency(X, [1, 1, 1, 0, 0, 0], n_neighbors=3)
    1.0
    """
    from sklearn.neighbors import NearestNeighbors

    frame = as_frame(X, name="X")
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c].dtype)]
    if bad:
        raise TypeError(
            f"X has non-numeric column(s) {bad[:5]}; consistency needs distances: encode them "
            "(e.g. sklearn.preprocessing.OneHotEncoder) and scale the numeric ones "
            "(StandardScaler) before calling."
        )
    arr = frame.to_numpy(dtype=np.float64)
    if not np.isfinite(arr).all():
        rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        raise DataError(
            f"X has missing or infinite values in {rows.size} row(s), first {rows[:5].tolist()}; "
            "impute or drop them before calling."
        )
    y = as_values(y_pred, name="y_pred")
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"y_pred must be numeric (0/1 labels or scores), got dtype {y.dtype}; pass "
            "(y_pred == positive_label).astype(int)."
        )
    n = check_consistent_length(X=arr, y_pred=y)
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int | np.integer):
        raise TypeError(f"n_neighbors must be an int, got {type(n_neighbors).__name__}.")
    if not 1 <= n_neighbors <= n:
        raise ValueError(f"n_neighbors must be between 1 and n_samples={n}, got {n_neighbors}.")
    yf = y.astype(np.float64)
    idx = (
        NearestNeighbors(n_neighbors=n_neighbors, algorithm=algorithm)
        .fit(arr)
        .kneighbors(arr, return_distance=False)
    )
    return float(1 - np.abs(yf - yf[idx].mean(axis=1)).mean())
