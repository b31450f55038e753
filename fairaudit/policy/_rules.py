"""Policy rules: the YAML keys, their validation, and :class:`Rule` (the bottom of ``policy/``).

Imports nothing from the other policy modules (``_rules`` -> ``_check`` -> ``_outcome`` ->
``_policy``: each imports only the ones before it).
"""

from __future__ import annotations

import difflib
import math
import reprlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairaudit._results import json_safe
from fairaudit.exceptions import PolicyError
from fairaudit.metrics import METRIC_REGISTRY, resolve_measure
from fairaudit.metrics._aggregate import COMPOSITES, EQUALIZED_ODDS, parts_of

__all__ = ["Rule"]

_POLICY_VERSION = 1


_COMPARES = ("ratio", "difference", "value")


_JUDGES = ("estimate", "interval")


_METHODS = ("between_groups", "to_overall")


_RULE_KEYS = (
    "id",
    "description",
    "metric",
    "measure",
    "comparison",
    "equivalent",
    "compare",
    "min",
    "max",
    "reference_group",
    "sensitive_feature",
    "method",
    "judge",
    "min_group_size",
)


_DEFAULT_KEYS = ("compare", "judge", "min_group_size", "method")


_TOP_KEYS = ("version", "name", "description", "defaults", "rules")


# columns of FlipTestResult.by_group a ``metric:`` rule can bound (target "flip_test")
FLIP_STATISTICS = ("flip_rate", "to_positive", "to_negative", "mean_score_change")


def _shown(value: Any) -> str:
    """Return a short repr of user data for a message (bounded, whatever its size or depth)."""
    shown = reprlib.Repr()
    shown.maxstring = shown.maxother = 80
    shown.maxlevel, shown.maxlist, shown.maxdict = 2, 5, 5
    return shown.repr(value)


def _suggest(key: str, allowed: Sequence[str]) -> str:
    close = difflib.get_close_matches(key[:100], allowed, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
        and math.isfinite(float(value))
    )


# equalized odds is not a per-group metric but an aggregate of two (fairlearn's definition:
# the larger of the TPR and FPR differences, the smaller of their ratios); GroupMetrics reports
# it among its disparities when both are computed. Defined once, in metrics/_aggregate.py.
_EQUALIZED_ODDS = EQUALIZED_ODDS


def _known_metrics() -> list[str]:
    return [*METRIC_REGISTRY, *COMPOSITES]


def _needed(metric: str) -> tuple[str, ...]:
    return parts_of(metric)


def split_class(metric: str) -> tuple[str, str | None]:
    """Split a per-class metric name, ``"true_positive_rate[Private]"`` -> (base, class).

    A name without a ``[class]`` suffix gives ``(metric, None)``. The class is kept as text:
    it is matched to the result's classes by their text (as ``--pos-label`` is).
    """
    if metric.endswith("]") and "[" in metric:
        base, _, cls = metric[:-1].partition("[")
        return base, cls
    return metric, None


def _is_known(metric: Any, known: Sequence[str]) -> bool:
    """Tell a registry metric or composite, or a per-class classification metric (``tpr[A]``)."""
    if not isinstance(metric, str):
        return False
    if metric in known:
        return True
    base, cls = split_class(metric)
    entry = METRIC_REGISTRY.get(base)
    return bool(cls) and entry is not None and entry.task == "binary"


@dataclass(frozen=True)
class Rule:
    """One threshold of a policy.

    Build rules with :meth:`Policy.from_dict` or :meth:`Policy.from_yaml`, which validate them;
    the fields mirror the YAML keys.

    Attributes
    ----------
    id : str
        Name of the rule in reports and JUnit output (default ``"rule-<n>"``).
    metric : str
        A metric name from :data:`fairaudit.metrics.METRIC_REGISTRY`.
    compare : {"ratio", "difference", "value"}
        ``ratio`` and ``difference`` compare groups (as ``GroupMetrics.disparities``);
        ``value`` bounds the metric of every judged group.
    min, max : float or None
        Inclusive bounds; at least one is set.
    reference_group : label, list of labels or None
        Compare every group with this group instead of between all groups.
    sensitive_feature : tuple of str or None
        The feature(s) the rule applies to; ``None`` means each sensitive feature of the result
        separately. Several names mean their intersection (all features of the result).
    method : {"between_groups", "to_overall"}
        Aggregation when there is no reference group (fairlearn's semantics).
    judge : {"estimate", "interval"}
        Judge the point estimate, or the end of the confidence interval that is worse for the
        bound (the lower end against ``min``, the upper end against ``max``).
    min_group_size : float
        Groups with fewer samples (weighted count) are reported but not judged.
    description : str or None
        Free text shown in reports.
    """

    id: str
    metric: str
    compare: str = "ratio"
    min: float | None = None
    max: float | None = None
    reference_group: Any = None
    sensitive_feature: tuple[str, ...] | None = None
    method: str = "between_groups"
    judge: str = "estimate"
    min_group_size: float = 0
    description: str | None = None
    target: str = "group_metrics"
    equivalent: bool = False

    @property
    def label(self) -> str:
        """Short human description, e.g. ``"selection_rate ratio >= 0.8 vs Male"``."""
        bounds = []
        if self.min is not None:
            bounds.append(f">= {self.min:g}")
        if self.max is not None:
            bounds.append(f"<= {self.max:g}")
        what = self.metric if self.compare == "value" else f"{self.metric} {self.compare}"
        if self.target == "comparison":
            return _comparison_label(self, bounds)
        text = f"{what} {' and '.join(bounds)}"
        if self.target == "data_bias":
            text += " for every group"
        elif self.compare == "value":
            text += " in every group"
        if self.reference_group is not None:
            text += f" vs {_format_label(self.reference_group)}"
        if self.judge == "interval":
            text += " (interval)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as a JSON-safe dict (the normalized YAML keys)."""
        key = {"data_bias": "measure", "comparison": "comparison"}.get(self.target, "metric")
        extra = {"equivalent": self.equivalent} if self.target == "comparison" else {}
        # flip-test and comparison rules refuse the group-comparison keys: leave them out
        dropped = {
            "flip_test": ("reference_group", "sensitive_feature", "method"),
            "comparison": ("compare", "reference_group", "sensitive_feature", "method"),
        }.get(self.target, ())
        body = {
            "id": self.id,
            key: self.metric,
            **extra,
            "compare": self.compare,
            "min": self.min,
            "max": self.max,
            "reference_group": self.reference_group,
            "sensitive_feature": (list(self.sensitive_feature) if self.sensitive_feature else None),
            "method": self.method,
            "judge": self.judge,
            "min_group_size": self.min_group_size,
            "description": self.description,
        }
        return json_safe({k: v for k, v in body.items() if k not in dropped})


# metrics whose per-group values lie in [0, 1]: rates, AUC, Brier score, calibration error
_UNIT_INTERVAL = frozenset(
    name
    for name, definition in METRIC_REGISTRY.items()
    if definition.is_rate or name in ("roc_auc", "brier_score", "calibration_error")
)


def _check_bounds_possible(
    where: str, metric: str, compare: str, lo: float | None, hi: float | None, reference: Any
) -> None:
    """Refuse bounds no value can meet (or that every value meets) for this comparison.

    Differences are distances (``|a - b|`` or max - min), never negative; ratios are
    min / max (or group / reference) of values that are never negative, and between groups
    or to the overall value never above 1; per-group values of rates lie in [0, 1]. A bound
    outside the possible range is a typo (``-0.1`` for ``0.1``, ``80`` for ``0.8``): the rule
    could only fail, or never fail, whatever the model does.
    """
    bounds = [(key, v) for key, v in (("min", lo), ("max", hi)) if v is not None]
    if compare == "difference":
        for key, v in bounds:
            if v < 0:
                fix = (
                    f"write the size of the gap (e.g. max: {abs(v):g})"
                    if key == "max"
                    else "every difference passes it; remove it"
                )
                raise PolicyError(
                    f"{where}: impossible rule, a difference between groups is never negative "
                    f"but {_shown(key)} is {v:g}; {fix}."
                )
    elif compare == "ratio":
        for key, v in bounds:
            if v < 0:
                raise PolicyError(
                    f"{where}: impossible rule, a ratio of metric values is never negative but "
                    f"{_shown(key)} is {v:g}."
                )
        if reference is None and lo is not None and lo > 1:
            # min/max ratios never exceed 1, so such a rule can only fail
            raise PolicyError(
                f"{where}: impossible rule, a ratio of the smaller to the larger value is at "
                f"most 1 but 'min' is {lo:g} (a ratio above 1 needs a reference_group)."
            )
    elif metric in _UNIT_INTERVAL and ((lo is not None and lo > 1) or (hi is not None and hi < 0)):
        key, bad = ("min", lo) if lo is not None and lo > 1 else ("max", hi)
        raise PolicyError(
            f"{where}: impossible rule, {metric} lies between 0 and 1 but {key!r} is "
            f"{float(bad or 0.0):g}; write proportions (e.g. 0.8, not 80)."
        )


def _parse_rule(raw: Any, index: int, defaults: Mapping[str, Any], known: Sequence[str]) -> Rule:
    where = f"rule {index + 1}"
    if not isinstance(raw, Mapping):
        raise PolicyError(
            f"{where}: expected a mapping of keys (metric, compare, min, ...), "
            f"got {type(raw).__name__} {_shown(raw)}."
        )
    if "id" in raw:
        where = f"rule {index + 1} ({_shown(raw['id'])})"
    for key in raw:
        if key not in _RULE_KEYS:
            raise PolicyError(
                f"{where}: unknown key {_shown(key)}.{_suggest(str(key), _RULE_KEYS)} "
                f"Allowed keys: {', '.join(_RULE_KEYS)}."
            )
    merged = {**defaults, **raw}

    rule_id = merged.get("id", f"rule-{index + 1}")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise PolicyError(f"{where}: key 'id' must be a non-empty string, got {_shown(rule_id)}.")

    if "measure" in raw:
        return _parse_measure_rule(raw, merged, where, rule_id)
    if "comparison" in raw:
        return _parse_comparison_rule(raw, merged, where, rule_id)
    if "equivalent" in raw:
        raise PolicyError(
            f"{where}: key 'equivalent' belongs to a 'comparison:' rule (e.g. comparison: "
            "selection_rate, equivalent: true)."
        )
    if raw.get("metric") in FLIP_STATISTICS:
        return _parse_flip_rule(raw, merged, where, rule_id)
    if "measure" in merged:
        raise PolicyError(f"{where}: 'measure' cannot be a default; set it in each rule.")
    if "metric" not in merged:
        raise PolicyError(
            f"{where}: key 'metric' is required (e.g. metric: selection_rate), or 'measure' "
            "for a data-bias measure (e.g. measure: DPL)."
        )
    metric = merged["metric"]
    if not _is_known(metric, known):
        names = sorted([*known, *FLIP_STATISTICS])
        raise PolicyError(
            f"{where}: key 'metric': unknown metric {_shown(metric)}.{_suggest(str(metric), names)} "
            f"Known metrics: {', '.join(names)}."
        )

    def choice(key: str, allowed: Sequence[str], default: str) -> str:
        value = merged.get(key, default)
        if value not in allowed:
            raise PolicyError(
                f"{where}: key {_shown(key)} must be one of {', '.join(map(repr, allowed))}, "
                f"got {_shown(value)}."
            )
        return str(value)

    compare = choice("compare", _COMPARES, "ratio")
    if metric == _EQUALIZED_ODDS and compare == "value":
        raise PolicyError(
            f"{where}: equalized_odds compares groups; use compare: ratio or difference "
            "(or bound true_positive_rate and false_positive_rate with compare: value)."
        )
    judge = choice("judge", _JUDGES, "estimate")
    method = choice("method", _METHODS, "between_groups")

    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        value = merged.get(key)
        if value is not None and not _is_number(value):
            raise PolicyError(
                f"{where}: key {_shown(key)} must be a finite number, got {_shown(value)}."
            )
        bounds[key] = None if value is None else float(value)
    lo, hi = bounds["min"], bounds["max"]
    if lo is None and hi is None:
        raise PolicyError(f"{where}: set 'min' and/or 'max'; the rule has no bound to check.")
    if lo is not None and hi is not None and lo > hi:
        raise PolicyError(
            f"{where}: impossible rule, 'min' ({lo:g}) is greater than 'max' ({hi:g}); "
            "no value can pass."
        )
    _check_bounds_possible(where, metric, compare, lo, hi, merged.get("reference_group"))

    min_group_size = merged.get("min_group_size", 0)
    if not _is_number(min_group_size) or float(min_group_size) < 0:
        raise PolicyError(
            f"{where}: key 'min_group_size' must be a number >= 0, got {_shown(min_group_size)}."
        )

    feature = merged.get("sensitive_feature")
    features: tuple[str, ...] | None
    if feature is None:
        features = None
    elif isinstance(feature, str) and feature:
        features = (feature,)
    elif (
        isinstance(feature, list)
        and feature
        and all(isinstance(f, str) and f for f in feature)
        and len(set(feature)) == len(feature)
    ):
        features = tuple(feature)
    else:
        raise PolicyError(
            f"{where}: key 'sensitive_feature' must be a column name or a list of distinct "
            f"column names, got {_shown(feature)}."
        )

    reference = merged.get("reference_group")
    if reference is not None:
        if "method" in raw and raw["method"] != "between_groups":
            raise PolicyError(
                f"{where}: set either 'reference_group' or 'method', not both; a reference "
                "group already says what every group is compared with."
            )
        if compare == "value":
            raise PolicyError(
                f"{where}: 'reference_group' has no meaning with compare: value; use ratio or "
                "difference to compare with a reference group."
            )
        if isinstance(reference, list):
            if features is None or len(features) != len(reference):
                raise PolicyError(
                    f"{where}: a list 'reference_group' names one label per feature of "
                    "'sensitive_feature'; give both with the same length."
                )
            reference = tuple(reference)
        elif isinstance(reference, Mapping | float) and not _is_number(reference):
            raise PolicyError(
                f"{where}: key 'reference_group' must be a group label, got {_shown(reference)}."
            )
        elif features is not None and len(features) > 1:
            raise PolicyError(
                f"{where}: 'sensitive_feature' names {len(features)} features, so "
                "'reference_group' must be a list with one label per feature."
            )

    description = merged.get("description")
    if description is not None and not isinstance(description, str):
        raise PolicyError(f"{where}: key 'description' must be text, got {_shown(description)}.")

    return Rule(
        id=rule_id,
        metric=metric,
        compare=compare,
        min=lo,
        max=hi,
        reference_group=reference,
        sensitive_feature=features,
        method=method,
        judge=judge,
        min_group_size=float(min_group_size),
        description=description,
    )


def _parse_measure_rule(
    raw: Mapping[str, Any], merged: Mapping[str, Any], where: str, rule_id: str
) -> Rule:
    """Parse a rule on a data-bias measure: every group's value (vs its comparator) in bounds."""
    if "metric" in raw:
        raise PolicyError(
            f"{where}: set either 'metric' (group metrics of a model) or 'measure' (bias in the "
            "data, from fairaudit.data_bias), not both."
        )
    try:
        measure = resolve_measure(raw["measure"], argument=f"{where}: key 'measure'")
    except (TypeError, ValueError) as exc:
        raise PolicyError(str(exc)) from exc
    _refuse(
        raw,
        ("method",),
        where,
        "a data-bias measure (it already compares each group with its comparator)",
    )
    compare = raw.get("compare", "value")
    if compare != "value":
        raise PolicyError(
            f"{where}: a data-bias measure already compares each group with its comparator; "
            f"bound its value (compare: value, the default), got compare: {compare!r}."
        )
    lo, hi = _bounds(merged, where)
    if lo is None and hi is None:
        raise PolicyError(f"{where}: set 'min' and/or 'max'; the rule has no bound to check.")
    from fairaudit.metrics import BIAS_MEASURES

    d = BIAS_MEASURES[measure]
    if (lo is not None and lo > d.upper) or (hi is not None and hi < d.lower):
        shown = " ".join(f"{k} {v:g}" for k, v in (("min", lo), ("max", hi)) if v is not None)
        raise PolicyError(
            f"{where}: impossible rule, {measure} lies in [{d.lower:g}, {d.upper:g}] but the "
            f"bounds are {shown}."
        )
    judge, min_group_size, description = _common_keys(merged, where)
    feature = merged.get("sensitive_feature")
    features: tuple[str, ...] | None
    if feature is None:
        features = None
    elif isinstance(feature, str) and feature:
        features = (feature,)
    elif isinstance(feature, list) and feature and all(isinstance(f, str) and f for f in feature):
        features = tuple(feature)
    else:
        raise PolicyError(
            f"{where}: key 'sensitive_feature' must be a column name or a list of column "
            f"names, got {feature!r}."
        )
    reference = merged.get("reference_group")
    if isinstance(reference, list):
        reference = tuple(reference)
    return Rule(
        id=rule_id,
        metric=measure,
        compare="value",
        min=lo,
        max=hi,
        reference_group=reference,
        sensitive_feature=features,
        judge=judge,
        min_group_size=min_group_size,
        description=description,
        target="data_bias",
    )


def _bounds(merged: Mapping[str, Any], where: str) -> tuple[float | None, float | None]:
    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        value = merged.get(key)
        if value is not None and not _is_number(value):
            raise PolicyError(f"{where}: key {key!r} must be a finite number, got {value!r}.")
        bounds[key] = None if value is None else float(value)
    lo, hi = bounds["min"], bounds["max"]
    if lo is not None and hi is not None and lo > hi:
        raise PolicyError(
            f"{where}: impossible rule, 'min' ({lo:g}) is greater than 'max' ({hi:g}); "
            "no value can pass."
        )
    return lo, hi


def _common_keys(merged: Mapping[str, Any], where: str) -> tuple[str, float, str | None]:
    judge = merged.get("judge", "estimate")
    if judge not in _JUDGES:
        raise PolicyError(
            f"{where}: key 'judge' must be one of {', '.join(map(repr, _JUDGES))}, got {judge!r}."
        )
    min_group_size = merged.get("min_group_size", 0)
    if not _is_number(min_group_size) or float(min_group_size) < 0:
        raise PolicyError(
            f"{where}: key 'min_group_size' must be a number >= 0, got {min_group_size!r}."
        )
    description = merged.get("description")
    if description is not None and not isinstance(description, str):
        raise PolicyError(f"{where}: key 'description' must be text, got {description!r}.")
    return str(judge), float(min_group_size), description


def _refuse(raw: Mapping[str, Any], keys: Sequence[str], where: str, why: str) -> None:
    for key in keys:
        if key in raw:
            raise PolicyError(f"{where}: key {key!r} does not apply to {why}.")


def _parse_flip_rule(
    raw: Mapping[str, Any], merged: Mapping[str, Any], where: str, rule_id: str
) -> Rule:
    """Parse a rule on a FlipTestResult: every group's statistic (``by_group``) within bounds."""
    metric = raw["metric"]
    why = f"a flip-test rule (metric: {metric} bounds each group's value)"
    _refuse(raw, ("reference_group", "method", "sensitive_feature"), where, why)
    compare = raw.get("compare", "value")
    if compare != "value":
        raise PolicyError(
            f"{where}: {metric} is a statistic of a flip test, bounded in every group; use "
            f"compare: value (the default for it), got compare: {compare!r}."
        )
    lo, hi = _bounds(merged, where)
    if lo is None and hi is None:
        raise PolicyError(f"{where}: set 'min' and/or 'max'; the rule has no bound to check.")
    if metric != "mean_score_change" and (
        (lo is not None and lo > 1) or (hi is not None and hi < 0)
    ):
        raise PolicyError(f"{where}: impossible rule, {metric} is a share in [0, 1].")
    judge, min_group_size, description = _common_keys(merged, where)
    return Rule(
        id=rule_id,
        metric=str(metric),
        compare="value",
        min=lo,
        max=hi,
        judge=judge,
        min_group_size=min_group_size,
        description=description,
        target="flip_test",
    )


def _parse_comparison_rule(
    raw: Mapping[str, Any], merged: Mapping[str, Any], where: str, rule_id: str
) -> Rule:
    """Parse a rule on a ComparisonResult (``comparison: agreement`` or a registry metric)."""
    if "metric" in raw or "measure" in raw:
        raise PolicyError(
            f"{where}: set one of 'metric' (group metrics of a model), 'measure' (bias in the "
            "data) or 'comparison' (model b against model a), not several."
        )
    name = raw["comparison"]
    # the metrics a comparison can hold: those with a numerator and denominator of counts
    known = [
        "agreement",
        *(
            m
            for m, d in METRIC_REGISTRY.items()
            if getattr(d, "numerator", None) is not None
            and getattr(d, "denominator", None) is not None
        ),
    ]
    if not isinstance(name, str) or name not in known:
        raise PolicyError(
            f"{where}: key 'comparison': {name!r} is not 'agreement' or a metric a comparison "
            f"computes.{_suggest(str(name), known)} Choose one of: {', '.join(known)}."
        )
    why = "a comparison rule (it compares model b with model a in every group)"
    _refuse(raw, ("reference_group", "method", "sensitive_feature", "compare"), where, why)
    equivalent = merged.get("equivalent", False)
    if not isinstance(equivalent, bool):
        raise PolicyError(f"{where}: key 'equivalent' must be true or false, got {equivalent!r}.")
    lo, hi = _bounds(merged, where)
    if name == "agreement":
        if equivalent:
            raise PolicyError(
                f"{where}: 'equivalent' applies to a metric's difference, not to agreement; "
                "bound agreement with 'min'."
            )
        if hi is not None:
            raise PolicyError(f"{where}: comparison: agreement takes 'min' only, not 'max'.")
        if lo is None:
            raise PolicyError(
                f"{where}: comparison: agreement needs 'min' (the least share of identical "
                "labels, e.g. min: 0.99)."
            )
        if lo > 1:
            raise PolicyError(f"{where}: impossible rule, agreement is a share in [0, 1].")
    else:
        if lo is not None:
            raise PolicyError(
                f"{where}: comparison: {name} bounds |difference b - a| with 'max' (and/or "
                "'equivalent: true'); 'min' has no meaning for it."
            )
        if hi is None and not equivalent:
            raise PolicyError(
                f"{where}: comparison: {name} needs 'max' (a bound on |difference b - a|) "
                "and/or 'equivalent: true' (the TOST verdict at the result's tolerance)."
            )
        if hi is not None and hi < 0:
            raise PolicyError(f"{where}: impossible rule, |difference| is never below 0.")
    judge, min_group_size, description = _common_keys(merged, where)
    if name == "agreement":
        if raw.get("judge", "estimate") != "estimate":
            raise PolicyError(
                f"{where}: agreement has no interval in a comparison; use judge: estimate."
            )
        judge = "estimate"  # a default 'judge: interval' is for the rules that have intervals
    return Rule(
        id=rule_id,
        metric=name,
        compare="value",
        min=lo,
        max=hi,
        judge=judge,
        min_group_size=min_group_size,
        description=description,
        target="comparison",
        equivalent=equivalent,
    )


def _comparison_label(rule: Rule, bounds: list[str]) -> str:
    if rule.metric == "agreement":
        text = f"agreement {' and '.join(bounds)} overall and in every group"
    else:
        parts = []
        if rule.max is not None:
            parts.append(f"|{rule.metric} b - a| <= {rule.max:g}")
        if rule.equivalent:
            parts.append(f"{rule.metric} equivalent within tolerance")
        text = " and ".join(parts) + " in every group"
    return text + (" (interval)" if rule.judge == "interval" else "")


def _format_label(label: Any) -> str:
    if isinstance(label, tuple):
        return " & ".join(str(v) for v in label)
    return str(label)
