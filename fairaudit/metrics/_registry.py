"""The metric registry: one place for each metric's formula, label, ideal, direction and limits.

Binary count metrics are ratios of sums of confusion-matrix cells. A cell index is
``2 * (y_true == pos_label) + (y_pred == pos_label)``, so the four cells of a group are, in
order, true negatives (TN), false positives (FP), false negatives (FN) and true positives (TP).
A rate metric is then ``cells @ numerator / cells @ denominator`` with 0/1 masks over the four
cells; the same expression evaluates a group, the pooled table, or a stack of bootstrap
replicates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

__all__ = [
    "METRIC_REGISTRY",
    "MetricDefinition",
    "get_metric",
]

# order of the four cells: TN, FP, FN, TP
_TN, _FP, _FN, _TP = 0, 1, 2, 3


def _mask(*cells: int) -> tuple[float, float, float, float]:
    out = [0.0, 0.0, 0.0, 0.0]
    for c in cells:
        out[c] = 1.0
    return (out[0], out[1], out[2], out[3])


@dataclass(frozen=True)
class MetricDefinition:
    """What a metric is: formula, label, ideal value, direction and what it does not capture.

    Parameters
    ----------
    name : str
        Registry key, snake_case (``"selection_rate"``).
    label : str
        Short human label (``"Selection rate"``).
    description : str
        One sentence: what the value measures.
    ideal : float
        The value of a perfect or neutral classifier on this metric (e.g. 1.0 for accuracy,
        0.0 for an error rate). For rates without an ideal (selection rate) it is NaN.
    direction : {"higher", "lower", "none"}
        Whether higher values are better for the people concerned or the quality of service;
        ``"none"`` when neither is (a selection rate is not good or bad in itself).
    task : {"binary", "score", "regression"}
        What inputs it needs: labels, scores (``y_score``), or continuous predictions.
    limitations : str
        What the metric does not capture.
    formula : str
        The formula in plain text, in terms of TP, FP, FN, TN (weighted counts) or per-row terms.
    numerator, denominator : tuple of 4 floats or None
        For rate metrics, 0/1 masks over the cells (TN, FP, FN, TP). ``None`` otherwise.
    value_range : tuple of 2 floats, default (0.0, 1.0)
        The smallest and largest values the metric can take; every interval fairaudit reports
        for it stays inside this range.

    Examples
    --------
    >>> from fairaudit.metrics import get_metric
    >>> m = get_metric("true_positive_rate")
    >>> m.formula
    'TP / (TP + FN)'
    >>> m.is_rate
    True
    """

    name: str
    label: str
    description: str
    ideal: float
    direction: Literal["higher", "lower", "none"]
    task: Literal["binary", "score", "regression"]
    limitations: str
    formula: str = ""
    numerator: tuple[float, float, float, float] | None = field(default=None, repr=False)
    denominator: tuple[float, float, float, float] | None = field(default=None, repr=False)
    value_range: tuple[float, float] = field(default=(0.0, 1.0), repr=False)

    @property
    def is_rate(self) -> bool:
        """Whether the metric is a proportion of counts (Wilson intervals and tests apply).

        A ratio of counts that can exceed 1 (``conditional_acceptance``, FN / FP) is not: its
        interval is bootstrapped from the cells.
        """
        return (
            self.numerator is not None
            and self.denominator is not None
            and tuple(self.value_range) == (0.0, 1.0)
        )

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-safe description used in ``GroupMetrics.to_dict()["metric_info"]``.

        Returns
        -------
        dict
            Keys ``label``, ``description``, ``ideal`` (None when NaN), ``direction``,
            ``task``, ``formula``, ``limitations``.
        """
        return {
            "label": self.label,
            "description": self.description,
            "ideal": None if np.isnan(self.ideal) else float(self.ideal),
            "direction": self.direction,
            "task": self.task,
            "formula": self.formula,
            "limitations": self.limitations,
        }


_NAN = float("nan")

_BASE_RATE_CAVEAT = (
    "It treats y_true as ground truth; when the recorded outcome is itself a biased "
    "measurement (arrests for crime, past hiring for merit) equal error rates can hide harm."
)

_DEFINITIONS: list[MetricDefinition] = [
    MetricDefinition(
        name="selection_rate",
        label="Selection rate",
        description="Share of the group predicted positive (pos_label).",
        ideal=_NAN,
        direction="none",
        task="binary",
        formula="(TP + FP) / (TP + FP + FN + TN)",
        numerator=_mask(_TP, _FP),
        denominator=_mask(_TN, _FP, _FN, _TP),
        limitations=(
            "Ignores y_true entirely: equal selection rates can come with very different error "
            "rates, and unequal rates may reflect different base rates. Whether a positive "
            "prediction is a benefit or a harm depends on the application."
        ),
    ),
    MetricDefinition(
        name="base_rate",
        label="Base rate",
        description="Share of the group whose true label is positive (prevalence).",
        ideal=_NAN,
        direction="none",
        task="binary",
        formula="(TP + FN) / (TP + FP + FN + TN)",
        numerator=_mask(_TP, _FN),
        denominator=_mask(_TN, _FP, _FN, _TP),
        limitations=("Describes the data, not the model. " + _BASE_RATE_CAVEAT),
    ),
    MetricDefinition(
        name="true_positive_rate",
        label="True positive rate (recall)",
        description="Share of the group's actual positives that are predicted positive.",
        ideal=1.0,
        direction="higher",
        task="binary",
        formula="TP / (TP + FN)",
        numerator=_mask(_TP),
        denominator=_mask(_TP, _FN),
        limitations=(
            "Looks only at actual positives: says nothing about false alarms among negatives. "
            + _BASE_RATE_CAVEAT
        ),
    ),
    MetricDefinition(
        name="false_positive_rate",
        label="False positive rate",
        description="Share of the group's actual negatives wrongly predicted positive.",
        ideal=0.0,
        direction="lower",
        task="binary",
        formula="FP / (FP + TN)",
        numerator=_mask(_FP),
        denominator=_mask(_FP, _TN),
        limitations=(
            "Looks only at actual negatives: says nothing about missed positives. "
            + _BASE_RATE_CAVEAT
        ),
    ),
    MetricDefinition(
        name="false_negative_rate",
        label="False negative rate",
        description="Share of the group's actual positives wrongly predicted negative.",
        ideal=0.0,
        direction="lower",
        task="binary",
        formula="FN / (TP + FN)",
        numerator=_mask(_FN),
        denominator=_mask(_TP, _FN),
        limitations="Complement of the true positive rate. " + _BASE_RATE_CAVEAT,
    ),
    MetricDefinition(
        name="true_negative_rate",
        label="True negative rate (specificity)",
        description="Share of the group's actual negatives predicted negative.",
        ideal=1.0,
        direction="higher",
        task="binary",
        formula="TN / (FP + TN)",
        numerator=_mask(_TN),
        denominator=_mask(_FP, _TN),
        limitations="Complement of the false positive rate. " + _BASE_RATE_CAVEAT,
    ),
    MetricDefinition(
        name="precision",
        label="Precision (PPV)",
        description="Share of the group's positive predictions that are actually positive.",
        ideal=1.0,
        direction="higher",
        task="binary",
        formula="TP / (TP + FP)",
        numerator=_mask(_TP),
        denominator=_mask(_TP, _FP),
        limitations=(
            "Depends on the group's base rate: with different base rates, equal precision and "
            "equal error rates cannot both hold (Chouldechova 2017; Kleinberg et al. 2016). "
            "Undefined for a group with no positive predictions."
        ),
    ),
    MetricDefinition(
        name="negative_predictive_value",
        label="Negative predictive value",
        description="Share of the group's negative predictions that are actually negative.",
        ideal=1.0,
        direction="higher",
        task="binary",
        formula="TN / (TN + FN)",
        numerator=_mask(_TN),
        denominator=_mask(_TN, _FN),
        limitations="Depends on the group's base rate, as precision does.",
    ),
    MetricDefinition(
        name="false_discovery_rate",
        label="False discovery rate",
        description="Share of the group's positive predictions that are actually negative.",
        ideal=0.0,
        direction="lower",
        task="binary",
        formula="FP / (TP + FP)",
        numerator=_mask(_FP),
        denominator=_mask(_TP, _FP),
        limitations="Complement of precision; depends on the base rate.",
    ),
    MetricDefinition(
        name="false_omission_rate",
        label="False omission rate",
        description="Share of the group's negative predictions that are actually positive.",
        ideal=0.0,
        direction="lower",
        task="binary",
        formula="FN / (TN + FN)",
        numerator=_mask(_FN),
        denominator=_mask(_TN, _FN),
        limitations="Complement of the negative predictive value; depends on the base rate.",
    ),
    MetricDefinition(
        name="conditional_acceptance",
        label="Conditional acceptance",
        description=(
            "Observed positives per predicted positive: above 1, the group is accepted less "
            "often than its labels would have it."
        ),
        ideal=1.0,
        direction="none",
        task="binary",
        formula="(TP + FN) / (TP + FP)",
        numerator=_mask(_TP, _FN),
        denominator=_mask(_TP, _FP),
        value_range=(0.0, math.inf),
        limitations=(
            "SageMaker Clarify's DCA is its difference between the rest and a group. A ratio "
            "of two counts, not a proportion: unbounded above, and undefined with no positive "
            "prediction. " + _BASE_RATE_CAVEAT
        ),
    ),
    MetricDefinition(
        name="conditional_rejection",
        label="Conditional rejection",
        description=(
            "Observed negatives per predicted negative: above 1, the group is rejected less "
            "often than its labels would have it."
        ),
        ideal=1.0,
        direction="none",
        task="binary",
        formula="(TN + FP) / (TN + FN)",
        numerator=_mask(_TN, _FP),
        denominator=_mask(_TN, _FN),
        value_range=(0.0, math.inf),
        limitations=(
            "SageMaker Clarify's DCR is its difference between the rest and a group. A ratio "
            "of two counts, not a proportion: unbounded above, and undefined with no negative "
            "prediction. " + _BASE_RATE_CAVEAT
        ),
    ),
    MetricDefinition(
        name="treatment_equality",
        label="Treatment equality (FN / FP)",
        description="False negatives per false positive: how the group's errors are split.",
        ideal=float("nan"),
        direction="none",
        task="binary",
        formula="FN / FP",
        numerator=_mask(_FN),
        denominator=_mask(_FP),
        value_range=(0.0, math.inf),
        limitations=(
            "Equal values across groups mean errors are split the same way, not that there "
            "are as many; undefined with no false positive (Clarify returns infinity there). "
            "SageMaker Clarify's TE is its difference, group minus the rest. " + _BASE_RATE_CAVEAT
        ),
    ),
    MetricDefinition(
        name="accuracy",
        label="Accuracy",
        description="Share of the group's predictions that are correct.",
        ideal=1.0,
        direction="higher",
        task="binary",
        formula="(TP + TN) / (TP + FP + FN + TN)",
        numerator=_mask(_TP, _TN),
        denominator=_mask(_TN, _FP, _FN, _TP),
        limitations=(
            "Mixes both kinds of error with weights set by the group's base rate: equal "
            "accuracy can hide opposite error profiles (many false positives in one group, "
            "many false negatives in another)."
        ),
    ),
    MetricDefinition(
        name="error_rate",
        label="Error rate",
        description="Share of the group's predictions that are wrong.",
        ideal=0.0,
        direction="lower",
        task="binary",
        formula="(FP + FN) / (TP + FP + FN + TN)",
        numerator=_mask(_FP, _FN),
        denominator=_mask(_TN, _FP, _FN, _TP),
        limitations="One minus accuracy; the same limits.",
    ),
    MetricDefinition(
        name="balanced_accuracy",
        label="Balanced accuracy",
        description="Mean of the true positive and true negative rates.",
        ideal=1.0,
        direction="higher",
        task="binary",
        formula="(TP / (TP + FN) + TN / (TN + FP)) / 2",
        limitations=(
            "Averages away which error a group suffers; undefined when a group has only "
            "one true class."
        ),
    ),
    MetricDefinition(
        name="count",
        label="Count",
        description="Number of rows in the group (unweighted).",
        ideal=_NAN,
        direction="none",
        task="binary",
        formula="number of rows",
        value_range=(0.0, math.inf),
        limitations=(
            "Says how much evidence there is, not how the group is treated; with sample "
            "weights the metrics use weighted counts while this stays the number of rows."
        ),
    ),
    MetricDefinition(
        name="roc_auc",
        label="ROC AUC",
        description=(
            "Probability that a random actual positive of the group scores higher than a "
            "random actual negative of the same group (ties count one half)."
        ),
        ideal=1.0,
        direction="higher",
        task="score",
        formula="sum over (pos i, neg j) of w_i w_j ([s_i > s_j] + [s_i = s_j] / 2) / (W_pos W_neg)",
        limitations=(
            "Within-group ranking only: equal AUCs allow scores on different scales (a threshold "
            "then treats the groups differently), and AUC ignores calibration. Undefined when "
            "a group has a single true class."
        ),
    ),
    MetricDefinition(
        name="brier_score",
        label="Brier score",
        description="Mean squared difference between the score and the 0/1 outcome.",
        ideal=0.0,
        direction="lower",
        task="score",
        formula="sum w (s - y)^2 / sum w",
        limitations=(
            "Mixes calibration and discrimination, and depends on the group's base rate; needs "
            "scores that are probabilities in [0, 1]."
        ),
    ),
    MetricDefinition(
        name="calibration_error",
        label="Expected calibration error",
        description=(
            "Weighted mean absolute gap between mean score and observed positive rate over ten "
            "equal-width score bins."
        ),
        ideal=0.0,
        direction="lower",
        task="score",
        formula="sum over bins b of (W_b / W) |mean(y)_b - mean(s)_b|, bins [0, 0.1), ..., [0.9, 1]",
        limitations=(
            "Depends on the binning, is biased upwards in small groups, and equal calibration "
            "is compatible with unequal error rates."
        ),
    ),
    MetricDefinition(
        name="mean_prediction",
        label="Mean prediction",
        description="Weighted mean of the predictions in the group.",
        ideal=_NAN,
        direction="none",
        task="regression",
        value_range=(-math.inf, math.inf),
        formula="sum w yhat / sum w",
        limitations=(
            "A regression analogue of the selection rate: it ignores y_true, and equal means "
            "allow different spreads."
        ),
    ),
    MetricDefinition(
        name="mean_absolute_error",
        label="Mean absolute error",
        description="Weighted mean of |y_true - y_pred| in the group.",
        ideal=0.0,
        direction="lower",
        task="regression",
        value_range=(0.0, math.inf),
        formula="sum w |y - yhat| / sum w",
        limitations="Ignores the sign: over- and under-prediction count the same.",
    ),
    MetricDefinition(
        name="root_mean_squared_error",
        label="Root mean squared error",
        description="Square root of the weighted mean of (y_true - y_pred)^2 in the group.",
        ideal=0.0,
        direction="lower",
        task="regression",
        value_range=(0.0, math.inf),
        formula="sqrt(sum w (y - yhat)^2 / sum w)",
        limitations="Ignores the sign and is dominated by a few large errors.",
    ),
    MetricDefinition(
        name="mean_error",
        label="Mean error (bias)",
        description="Weighted mean of y_pred - y_true: positive when the group is over-predicted.",
        ideal=0.0,
        direction="none",
        task="regression",
        value_range=(-math.inf, math.inf),
        formula="sum w (yhat - y) / sum w",
        limitations="Errors of opposite sign cancel: a zero mean error allows large errors.",
    ),
]

METRIC_REGISTRY: Mapping[str, MetricDefinition] = MappingProxyType(
    {d.name: d for d in _DEFINITIONS}
)
"""Every metric fairaudit computes per group, by name (read-only mapping)."""

#: Metrics computed when ``metrics=None``, by task.
DEFAULT_METRICS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "binary": (
            "selection_rate",
            "base_rate",
            "true_positive_rate",
            "false_positive_rate",
            "false_negative_rate",
            "true_negative_rate",
            "precision",
            "accuracy",
        ),
        "score": ("roc_auc", "brier_score"),
        "regression": (
            "mean_prediction",
            "mean_error",
            "mean_absolute_error",
            "root_mean_squared_error",
        ),
    }
)


def get_metric(name: str) -> MetricDefinition:
    """Return the definition of a metric, or raise ValueError listing the known names.

    Parameters
    ----------
    name : str
        A key of :data:`METRIC_REGISTRY`.

    Returns
    -------
    MetricDefinition
        The metric's definition.

    Examples
    --------
    >>> get_metric("selection_rate").label
    'Selection rate'
    >>> get_metric("fairness")
    Traceback (most recent call last):
    ...
    ValueError: unknown metric 'fairness'; known metrics: accuracy, balanced_accuracy, base_rate, ...
    """
    if not isinstance(name, str):
        raise TypeError(f"metric names must be str, got {type(name).__name__}.")
    try:
        return METRIC_REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(METRIC_REGISTRY))
        raise ValueError(f"unknown metric {name!r}; known metrics: {known}.") from None
