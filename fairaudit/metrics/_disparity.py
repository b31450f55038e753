"""fairlearn-compatible disparity functions: one number from a count table.

They take the same arguments as their fairlearn namesakes (data positional, the rest
keyword-only, ``method="between_groups"|"to_overall"``) and return a float. Unlike fairlearn,
a single group gives NaN with an ``UndefinedMetricWarning`` (fairlearn returns 0).

Every function here is a view of :meth:`GroupMetrics.difference` / :meth:`GroupMetrics.ratio`
on all groups (no ``min_group_size`` exclusion), so the two never disagree. Undefined rates
follow one rule everywhere: a group whose rate has a zero denominator (no actual positives for
the true positive rate) is left out of that rate's comparison; a comparison with fewer than two
groups left is NaN; and equalized odds is NaN when either of its two parts is NaN (it never
silently falls back to the part that is defined). fairlearn instead counts an undefined rate as
0, so the two agree whenever every group has both classes.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal

from fairaudit._validation import format_values
from fairaudit.exceptions import DataError
from fairaudit.metrics._group_metrics import GroupMetrics, group_metrics

__all__ = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "disparate_impact",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
]

Method = Literal["between_groups", "to_overall"]
Agg = Literal["worst_case", "mean"]


def _frame(
    y_true: Any,
    y_pred: Any,
    metrics: list[str],
    sensitive_features: Any,
    sample_weight: Any,
    pos_label: Any,
) -> GroupMetrics:
    with warnings.catch_warnings():
        # these functions return one number; small groups are the caller's business here
        from fairaudit.exceptions import SmallGroupWarning

        warnings.simplefilter("ignore", SmallGroupWarning)
        return group_metrics(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            metrics=metrics,
            sample_weight=sample_weight,
            pos_label=pos_label,
            min_group_size=0,
        )


def _check_agg(agg: Any) -> None:
    if agg not in ("worst_case", "mean"):
        raise ValueError(f"agg must be 'worst_case' or 'mean', got {agg!r}.")


def _equalized_odds(parts: Any, agg: Agg) -> float:
    """Equalized odds from a difference or ratio Series (NaN when either part is NaN)."""
    tpr, fpr = float(parts["true_positive_rate"]), float(parts["false_positive_rate"])
    if agg == "worst_case":
        # the same number GroupMetrics reports (the max of the differences, the min of ratios)
        return float(parts["equalized_odds"])
    if math.isnan(tpr) or math.isnan(fpr):
        return math.nan
    return (tpr + fpr) / 2


def demographic_parity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = 1,
) -> float:
    """Largest difference in selection rate between groups (0 means parity).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (checked, not used by the selection rate).
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sensitive_features : array-like or DataFrame
        Group membership (several columns: intersectional groups).
    method : {"between_groups", "to_overall"}, default "between_groups"
        max - min over groups, or max |group - overall|.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights.
    pos_label : object, default 1
        The positive (selected) label.

    Returns
    -------
    float
        The difference; NaN when fewer than two groups have a value.

    Examples
    --------
    >>> demographic_parity_difference([0, 1, 1, 0], [1, 0, 0, 0],
    ...                               sensitive_features=["a", "a", "b", "b"])
    0.5
    """
    gm = _frame(y_true, y_pred, ["selection_rate"], sensitive_features, sample_weight, pos_label)
    return float(gm.difference(method=method)["selection_rate"])


def demographic_parity_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = 1,
) -> float:
    """Smallest ratio of selection rates between groups (1 means parity).

    Parameters are those of :func:`demographic_parity_difference`.

    Returns
    -------
    float
        min / max over groups, or the smallest min(group / overall, overall / group).

    Examples
    --------
    >>> demographic_parity_ratio([0, 1, 1, 0], [1, 1, 1, 0],
    ...                          sensitive_features=["a", "a", "b", "b"])
    0.5
    """
    gm = _frame(y_true, y_pred, ["selection_rate"], sensitive_features, sample_weight, pos_label)
    return float(gm.ratio(method=method)["selection_rate"])


def equalized_odds_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = 1,
    agg: Agg = "worst_case",
) -> float:
    """Return the larger of the true-positive-rate and false-positive-rate differences.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, method, sample_weight, pos_label
        As in :func:`demographic_parity_difference`.
    agg : {"worst_case", "mean"}, default "worst_case"
        Combine the two differences by their maximum (fairlearn's default) or mean.

    Returns
    -------
    float
        The aggregated difference: NaN when either rate's difference is undefined (fewer than
        two groups with actual positives, or with actual negatives), whatever the other is.

    Notes
    -----
    ``max(TPR difference, FPR difference)`` as in fairlearn, with fairaudit's rule for
    undefined rates (see the module notes): a group without actual positives is left out of
    the TPR comparison, one without actual negatives out of the FPR comparison. The result
    does not depend on the order of the groups or of the two parts, and equals
    ``group_metrics(...).difference()["equalized_odds"]`` with ``min_group_size=0``.

    Examples
    --------
    >>> equalized_odds_difference([1, 0, 1, 0], [1, 0, 1, 1],
    ...                           sensitive_features=["a", "a", "b", "b"])
    1.0
    """
    _check_agg(agg)
    gm = _frame(
        y_true,
        y_pred,
        ["true_positive_rate", "false_positive_rate"],
        sensitive_features,
        sample_weight,
        pos_label,
    )
    return _equalized_odds(gm.difference(method=method), agg)


def equalized_odds_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = 1,
    agg: Agg = "worst_case",
) -> float:
    """Return the smaller of the true-positive-rate and false-positive-rate ratios.

    Parameters are those of :func:`equalized_odds_difference` (``agg`` takes the minimum or
    the mean of the two ratios).

    Returns
    -------
    float
        The aggregated ratio; NaN when either rate's ratio is undefined (the same rule as
        :func:`equalized_odds_difference`).

    Examples
    --------
    >>> equalized_odds_ratio([1, 0, 1, 0], [1, 0, 1, 1],
    ...                      sensitive_features=["a", "a", "b", "b"])
    0.0
    """
    _check_agg(agg)
    gm = _frame(
        y_true,
        y_pred,
        ["true_positive_rate", "false_positive_rate"],
        sensitive_features,
        sample_weight,
        pos_label,
    )
    return _equalized_odds(gm.ratio(method=method), agg)


def equal_opportunity_difference(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = 1,
) -> float:
    """Largest difference in true positive rate between groups.

    Parameters are those of :func:`demographic_parity_difference`.

    Returns
    -------
    float
        The difference of true positive rates.

    Examples
    --------
    >>> equal_opportunity_difference([1, 1, 1, 1], [1, 1, 1, 0],
    ...                              sensitive_features=["a", "a", "b", "b"])
    0.5
    """
    gm = _frame(
        y_true, y_pred, ["true_positive_rate"], sensitive_features, sample_weight, pos_label
    )
    return float(gm.difference(method=method)["true_positive_rate"])


def equal_opportunity_ratio(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    method: Method = "between_groups",
    sample_weight: Any = None,
    pos_label: Any = 1,
) -> float:
    """Smallest ratio of true positive rates between groups.

    Parameters are those of :func:`demographic_parity_difference`.

    Returns
    -------
    float
        The ratio of true positive rates.

    Examples
    --------
    >>> equal_opportunity_ratio([1, 1, 1, 1], [1, 1, 1, 0],
    ...                         sensitive_features=["a", "a", "b", "b"])
    0.5
    """
    gm = _frame(
        y_true, y_pred, ["true_positive_rate"], sensitive_features, sample_weight, pos_label
    )
    return float(gm.ratio(method=method)["true_positive_rate"])


def disparate_impact(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    reference_group: Any,
    sample_weight: Any = None,
    pos_label: Any = 1,
) -> float:
    """Smallest selection-rate ratio of a group to an explicitly named reference group.

    Parameters
    ----------
    y_true, y_pred, sensitive_features, sample_weight, pos_label
        As in :func:`demographic_parity_difference`.
    reference_group : label
        The group every other group is compared with (required: fairaudit never picks "the
        most selected group" for you). A tuple for intersectional groups.

    Returns
    -------
    float
        ``min over groups g != reference of selection_rate(g) / selection_rate(reference)``;
        may exceed 1. With two groups this is aif360's ``disparate_impact_ratio`` with
        ``priv_group=reference_group`` (aif360 pools all non-reference groups into one).

    Examples
    --------
    >>> disparate_impact([0, 1, 1, 0], [1, 0, 1, 1],
    ...                  sensitive_features=["a", "a", "b", "b"], reference_group="b")
    0.5
    """
    gm = _frame(y_true, y_pred, ["selection_rate"], sensitive_features, sample_weight, pos_label)
    if len(gm.by_group) < 2:
        raise DataError(
            f"disparate_impact needs at least two groups, but sensitive_features has one "
            f"({format_values(list(gm.by_group.index))}); pass data with the reference group "
            "and at least one other group."
        )
    return float(gm.ratio(reference_group=reference_group)["selection_rate"])
