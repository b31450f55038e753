"""Definitions of the bias measures of data (pre-training) and of individual fairness.

The group-metric registry (:mod:`fairaudit.metrics._registry`) holds per-group rates; the
measures here compare a group's *label distribution* with a comparator's (SageMaker Clarify's
pre-training measures) or measure inequality across individuals. Each has its formula, ideal
value, direction and limitations, and the code Clarify uses for it, so that users can name a
measure either way (``"class_imbalance"`` or ``"CI"``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["BIAS_MEASURES", "CLARIFY_CODES", "BiasMeasure", "resolve_measure"]


@dataclass(frozen=True)
class BiasMeasure:
    """What a bias measure is: formula, ideal, range, direction and what it does not capture.

    Parameters
    ----------
    name : str
        snake_case name (``"class_imbalance"``).
    code : str
        SageMaker Clarify's code (``"CI"``), or ``""`` when Clarify has none.
    label : str
        Short human label.
    description : str
        One sentence: what the value measures.
    formula : str
        The formula in plain text; ``d`` is the group, ``a`` the comparator.
    ideal : float
        The value when the group and the comparator do not differ.
    lower, upper : float
        The range of the measure (``inf`` when unbounded).
    direction : {"signed", "lower"}
        ``"signed"``: the sign says which side is favoured, 0 is ideal; ``"lower"``: a
        non-negative distance, 0 is ideal.
    limitations : str
        What the measure does not capture.

    Examples
    --------
    >>> from fairaudit.metrics import BIAS_MEASURES
    >>> BIAS_MEASURES["class_imbalance"].formula
    '(n_a - n_d) / (n_a + n_d)'
    """

    name: str
    code: str
    label: str
    description: str
    formula: str
    ideal: float
    lower: float
    upper: float
    direction: Literal["signed", "lower"]
    limitations: str

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-safe description (infinite bounds become ``None``).

        Returns
        -------
        dict
            Keys ``code``, ``label``, ``description``, ``formula``, ``ideal``, ``lower``,
            ``upper``, ``direction``, ``limitations``.
        """

        def finite(v: float) -> float | None:
            return None if v in (float("inf"), float("-inf")) else float(v)

        return {
            "code": self.code,
            "label": self.label,
            "description": self.description,
            "formula": self.formula,
            "ideal": float(self.ideal),
            "lower": finite(self.lower),
            "upper": finite(self.upper),
            "direction": self.direction,
            "limitations": self.limitations,
        }


_INF = float("inf")
_LABELS_AS_TRUTH = (
    "It describes the recorded labels: when the labels themselves are a biased measurement "
    "(past decisions, arrests), a balanced label distribution can still encode that bias."
)

_MEASURES = [
    BiasMeasure(
        name="class_imbalance",
        code="CI",
        label="Class imbalance",
        description="How much smaller the group is than its comparator.",
        formula="(n_a - n_d) / (n_a + n_d)",
        ideal=0.0,
        lower=-1.0,
        upper=1.0,
        direction="signed",
        limitations=(
            "Counts people, not outcomes: a group can be well represented and still receive "
            "few positive labels. With the rest of the data as comparator, every minority is "
            "'imbalanced' by construction; read it with the group's share of the population."
        ),
    ),
    BiasMeasure(
        name="label_proportion_difference",
        code="DPL",
        label="Difference in proportions of labels",
        description="Positive-label rate of the comparator minus that of the group.",
        formula="n_a(+) / n_a - n_d(+) / n_d",
        ideal=0.0,
        lower=-1.0,
        upper=1.0,
        direction="signed",
        limitations="Positive means the group has fewer positive labels. " + _LABELS_AS_TRUTH,
    ),
    BiasMeasure(
        name="kl_divergence",
        code="KL",
        label="Kullback-Leibler divergence",
        description="How far the comparator's label distribution is from the group's (nats).",
        formula="sum_y P_a(y) * ln(P_a(y) / P_d(y))",
        ideal=0.0,
        lower=0.0,
        upper=_INF,
        direction="lower",
        limitations=(
            "Asymmetric, unbounded, and infinite when the group lacks a label the comparator "
            "has (SageMaker Clarify instead drops such labels, see the docs). " + _LABELS_AS_TRUTH
        ),
    ),
    BiasMeasure(
        name="js_divergence",
        code="JS",
        label="Jensen-Shannon divergence",
        description="Symmetric divergence of the two label distributions (nats, at most ln 2).",
        formula="(KL(P_a, M) + KL(P_d, M)) / 2 with M = (P_a + P_d) / 2",
        ideal=0.0,
        lower=0.0,
        upper=0.6931471805599453,
        direction="lower",
        limitations="Has no sign: says how much, not in whose favour. " + _LABELS_AS_TRUTH,
    ),
    BiasMeasure(
        name="lp_norm",
        code="LP",
        label="Lp norm (p = 2)",
        description="Euclidean distance between the two label distributions.",
        formula="sqrt(sum_y (P_a(y) - P_d(y))^2)",
        ideal=0.0,
        lower=0.0,
        upper=1.4142135623730951,
        direction="lower",
        limitations="Has no sign: says how much, not in whose favour. " + _LABELS_AS_TRUTH,
    ),
    BiasMeasure(
        name="total_variation_distance",
        code="TVD",
        label="Total variation distance",
        description="Half the L1 distance between the two label distributions.",
        formula="sum_y |P_a(y) - P_d(y)| / 2",
        ideal=0.0,
        lower=0.0,
        upper=1.0,
        direction="lower",
        limitations="Has no sign: says how much, not in whose favour. " + _LABELS_AS_TRUTH,
    ),
    BiasMeasure(
        name="ks_distance",
        code="KS",
        label="Kolmogorov-Smirnov distance (Clarify's)",
        description="Largest difference in the share of any one label between the two.",
        formula="max_y |P_a(y) - P_d(y)|",
        ideal=0.0,
        lower=0.0,
        upper=1.0,
        direction="lower",
        limitations=(
            "As SageMaker Clarify defines it: the largest difference of the label "
            "*probabilities*, not of cumulative distributions, so it ignores any order of the "
            "labels; for two labels it equals |DPL|. " + _LABELS_AS_TRUTH
        ),
    ),
    BiasMeasure(
        name="conditional_demographic_disparity",
        code="CDDL",
        label="Conditional demographic disparity",
        description=(
            "Share of the group among the rejected minus its share among the accepted, "
            "averaged over strata weighted by their size."
        ),
        formula="sum_i n_i * (n_d,i(-) / n_i(-) - n_d,i(+) / n_i(+)) / sum_i n_i",
        ideal=0.0,
        lower=-1.0,
        upper=1.0,
        direction="signed",
        limitations=(
            "Positive means the group is over-represented among the rejected within strata. "
            "A stratum with no accepted (or no rejected) rows contributes 0 for that share, as "
            "in Clarify; the result depends on the choice of strata (Simpson's paradox is the "
            "reason to condition, and also the reason to choose strata with care)."
        ),
    ),
]

BIAS_MEASURES: Mapping[str, BiasMeasure] = MappingProxyType({m.name: m for m in _MEASURES})

# Clarify's codes of every measure fairaudit has, pre- and post-training. Post-training codes
# name the per-group metric of GroupMetrics whose difference (or value) Clarify reports.
CLARIFY_CODES: Mapping[str, str] = MappingProxyType(
    {
        **{m.code: m.name for m in _MEASURES},
        "CDDPL": "conditional_demographic_disparity",
        "DPPL": "selection_rate",
        "DI": "selection_rate",
        "DCA": "conditional_acceptance",
        "DCR": "conditional_rejection",
        "TE": "treatment_equality",
        "RD": "true_positive_rate",
        "DAR": "precision",
        "DRR": "negative_predictive_value",
        "AD": "accuracy",
        "GE": "generalized_entropy_index",
    }
)


def resolve_measure(name: str, *, argument: str = "measures") -> str:
    """Return the measure's snake_case name for a name or a Clarify code.

    Parameters
    ----------
    name : str
        A name of :data:`BIAS_MEASURES` (``"class_imbalance"``) or a Clarify code (``"CI"``,
        case-insensitive).
    argument : str, default="measures"
        The argument named in the error message.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For an unknown name, with the closest known names.

    Examples
    --------
    >>> resolve_measure("DPL")
    'label_proportion_difference'
    >>> resolve_measure("js_divergence")
    'js_divergence'
    """
    if not isinstance(name, str):
        raise TypeError(f"{argument} must hold measure names (str), got {type(name).__name__}.")
    if name in BIAS_MEASURES:
        return name
    code = name.upper()
    if code in CLARIFY_CODES and CLARIFY_CODES[code] in BIAS_MEASURES:
        return CLARIFY_CODES[code]
    known = [*BIAS_MEASURES, *(m.code for m in _MEASURES)]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    if code in CLARIFY_CODES:
        hint = (
            f" {code} is a post-training measure: it is the per-group metric "
            f"{CLARIFY_CODES[code]!r} of fa.group_metrics (its difference or ratio)."
        )
    raise ValueError(
        f"{argument} got an unknown data-bias measure {name!r}.{hint} "
        f"Known: {', '.join(BIAS_MEASURES)} (or Clarify's codes "
        f"{', '.join(m.code for m in _MEASURES)})."
    )
