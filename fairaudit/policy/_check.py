"""Evaluation of policy rules on group metrics: one :class:`RuleResult` per rule and feature.

Rules are evaluated on a :class:`~fairaudit.metrics.GroupMetrics` through its public methods
``marginal(feature)`` (a rule about one feature of an intersectional result) and
``disparities(reference_group=..., groups=...)`` (so that groups under ``min_group_size`` are
left out of the comparison, with intervals from the same bootstrap replicates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from fairaudit._payloads import RuleResultPayload
from fairaudit._results import json_safe
from fairaudit.exceptions import PolicyError
from fairaudit.policy._rules import _EQUALIZED_ODDS, Rule, _format_label, _needed, split_class

if TYPE_CHECKING:  # pragma: no cover
    from fairaudit.metrics import GroupMetrics

__all__ = ["RuleResult", "check_rule"]


# --------------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "undefined"
    return f"{value:.3g}"


@dataclass(frozen=True)
class RuleResult:
    """The outcome of one rule on one sensitive feature (or intersection of features).

    Attributes
    ----------
    rule : Rule
        The rule.
    feature : tuple of str
        The sensitive feature(s) the rule was judged on.
    status : {"pass", "fail", "error"}
        ``"error"`` when the rule could not be judged (see ``reason``).
    value : float or None
        The judged number: the estimate, or the worse interval end with ``judge: interval``.
    estimate, lower, upper : float or None
        Point estimate and interval (None when there are no intervals).
    reference : str or None
        The reference group, when the rule has one.
    worst_group : str or None
        With ``compare: value``, the group whose value was judged (the one furthest out).
    judged_groups, excluded_groups : tuple of str
        Groups compared, and groups left out because they are smaller than
        ``min_group_size``.
    reason : str
        One plain sentence saying why the rule passed, failed or could not be judged.
    """

    rule: Rule
    feature: tuple[str, ...]
    status: str
    value: float | None
    estimate: float | None
    lower: float | None
    upper: float | None
    reference: str | None
    worst_group: str | None
    judged_groups: tuple[str, ...]
    excluded_groups: tuple[str, ...]
    reason: str

    @property
    def passed(self) -> bool:
        """True when the status is ``"pass"``."""
        return self.status == "pass"

    @property
    def name(self) -> str:
        """``"<rule id> [<feature>]"``, the JUnit test-case name."""
        return f"{self.rule.id} [{' x '.join(self.feature)}]"

    def to_dict(self) -> RuleResultPayload:
        """Return the result as a JSON-safe dict."""
        payload: RuleResultPayload = {
            "rule": self.rule.id,
            "name": self.name,
            "label": self.rule.label,
            "metric": self.rule.metric,
            "compare": self.rule.compare,
            "min": self.rule.min,
            "max": self.rule.max,
            "judge": self.rule.judge,
            "feature": list(self.feature),
            "status": self.status,
            "passed": self.passed,
            "value": self.value,
            "estimate": self.estimate,
            "lower": self.lower,
            "upper": self.upper,
            "reference": self.reference,
            "worst_group": self.worst_group,
            "judged_groups": list(self.judged_groups),
            "excluded_groups": list(self.excluded_groups),
            "reason": self.reason,
        }
        return cast(RuleResultPayload, json_safe(payload))


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _select_features(rule: Rule, result: GroupMetrics) -> list[tuple[tuple[str, ...], Any]]:
    """Return the (feature names, GroupMetrics) pairs a rule applies to."""
    names = tuple(result.sensitive_feature_names)
    if rule.sensitive_feature is None:
        if len(names) == 1:
            return [(names, result)]
        if rule.reference_group is not None:
            raise PolicyError(
                f"rule {rule.id!r}: reference_group {_format_label(rule.reference_group)!r} "
                f"needs 'sensitive_feature' because the result has several sensitive features "
                f"({', '.join(names)}); add e.g. 'sensitive_feature: {names[0]}'."
            )
        return [((name,), result.marginal(name)) for name in names]
    wanted = rule.sensitive_feature
    unknown = [f for f in wanted if f not in names]
    if unknown:
        raise PolicyError(
            f"rule {rule.id!r}: sensitive_feature {', '.join(map(repr, unknown))} is not a "
            f"sensitive feature of the result, which has {', '.join(map(repr, names))}."
        )
    if len(wanted) == 1:
        return [(wanted, result if names == wanted else result.marginal(wanted[0]))]
    if set(wanted) != set(names):
        raise PolicyError(
            f"rule {rule.id!r}: sensitive_feature {list(wanted)} must be one feature or all "
            f"features of the result ({list(names)}); compute group metrics on exactly these "
            "features to judge their intersection."
        )
    if wanted != names:
        raise PolicyError(
            f"rule {rule.id!r}: list sensitive_feature in the result's order {list(names)}."
        )
    return [(names, result)]


def _resolve_reference(rule: Rule, index: pd.Index) -> Any:
    """Match the YAML label to a group label (YAML ``1`` matches the group ``"1"`` too)."""
    ref = rule.reference_group
    labels = list(index)
    if ref in labels:
        return ref
    as_text = tuple(str(v) for v in ref) if isinstance(ref, tuple) else str(ref)
    for label in labels:
        text = tuple(str(v) for v in label) if isinstance(label, tuple) else str(label)
        if text == as_text:
            return label
    return _MISSING


_MISSING = object()


def _error(rule: Rule, feature: tuple[str, ...], reason: str, **kw: Any) -> RuleResult:
    base: dict[str, Any] = {
        "value": None,
        "estimate": None,
        "lower": None,
        "upper": None,
        "reference": None,
        "worst_group": None,
        "judged_groups": (),
        "excluded_groups": (),
    }
    base.update(kw)
    return RuleResult(rule=rule, feature=feature, status="error", reason=reason, **base)


def check_rule(rule: Rule, result: GroupMetrics) -> list[RuleResult]:
    """Return the results of one rule: one per sensitive feature it applies to."""
    judged = _per_class(rule, result)
    out = []
    for feature, gm in _select_features(rule, result):
        r = _check_one(judged, feature, gm)
        out.append(r if judged is rule else replace(r, rule=rule))
    return out


def _per_class(rule: Rule, result: Any) -> Rule:
    """Judge ``metric[cls]`` on a one-vs-rest result whose positive class is ``cls``.

    A multiclass result has the column ``metric[cls]`` itself; a binary result computed with
    ``pos_label=cls`` (``--pos-label cls``) holds the same numbers under ``metric``.
    """
    base, cls = split_class(rule.metric)
    if cls is None or rule.metric in tuple(result.metrics):
        return rule
    pos_label = getattr(result, "pos_label", None)
    if (
        getattr(result, "task", None) == "binary"
        and pos_label is not None
        and str(pos_label) == cls
    ):
        return replace(rule, metric=base)
    return rule


def _bounds_text(rule: Rule) -> str:
    parts = []
    if rule.min is not None:
        parts.append(f"minimum {rule.min:g}")
    if rule.max is not None:
        parts.append(f"maximum {rule.max:g}")
    return " and ".join(parts)


def _judged_text(
    gm: Any, lower: float | None, upper: float | None, which: str, value: float
) -> str:
    """Format " (95% CI a to b); judged on the lower bound, a" (each part only when it applies)."""
    interval = (
        f" ({gm.confidence:.0%} CI {_fmt(lower)} to {_fmt(upper)})"
        if lower is not None and upper is not None
        else ""
    )
    return interval + ("" if which == "estimate" else f"; judged on the {which}, {_fmt(value)}")


def _judge(
    rule: Rule, estimate: float, lower: float | None, upper: float | None
) -> tuple[bool, float, str]:
    """Return (passed, judged value, which number was judged)."""
    if rule.judge == "estimate":
        ok = (rule.min is None or estimate >= rule.min) and (
            rule.max is None or estimate <= rule.max
        )
        return ok, estimate, "estimate"
    assert lower is not None
    assert upper is not None
    ok_min = rule.min is None or lower >= rule.min
    ok_max = rule.max is None or upper <= rule.max
    if not ok_min:
        return False, lower, "lower bound"
    if not ok_max:
        return False, upper, "upper bound"
    # passed: report the end closest to a bound
    if rule.min is not None and (rule.max is None or lower - rule.min <= rule.max - upper):
        return True, lower, "lower bound"
    return True, upper, "upper bound"


def _check_one(rule: Rule, feature: tuple[str, ...], gm: Any) -> RuleResult:
    feat = " x ".join(feature)
    missing = [m for m in _needed(rule.metric) if m not in tuple(gm.metrics)]
    if missing:
        return _error(
            rule,
            feature,
            f"{', '.join(missing)} was not computed for this result; include it in metrics= "
            "(the command line adds every metric a policy names).",
        )
    by_group = gm.by_group
    counts = by_group["count"].astype(float)
    small = counts < rule.min_group_size
    judged = [label for label, s in zip(by_group.index, small, strict=True) if not s]
    excluded = tuple(
        _format_label(label) for label, s in zip(by_group.index, small, strict=True) if s
    )
    judged_names = tuple(_format_label(label) for label in judged)
    common: dict[str, Any] = {
        "judged_groups": judged_names,
        "excluded_groups": excluded,
        "reference": None,
    }
    note = (
        f" Not judged (fewer than {rule.min_group_size:g} samples): {', '.join(excluded)}."
        if excluded
        else ""
    )

    reference = None
    if rule.reference_group is not None:
        ref = _resolve_reference(rule, by_group.index)
        if ref is _MISSING:
            known = ", ".join(_format_label(v) for v in by_group.index[:10])
            return _error(
                rule,
                feature,
                f"reference group {_format_label(rule.reference_group)!r} is not a group of "
                f"{feat} (groups: {known}).",
                **common,
            )
        reference = ref
        common["reference"] = _format_label(ref)
        if ref not in judged:
            return _error(
                rule,
                feature,
                f"reference group {_format_label(ref)!r} has fewer than "
                f"{rule.min_group_size:g} samples, so nothing can be compared with it.",
                **common,
            )

    if rule.judge == "interval" and gm.ci is None:
        return _error(
            rule,
            feature,
            "the rule judges the confidence interval but the result has none; compute it "
            "with n_boot > 0 (command line: --n-boot 1000).",
            **common,
        )

    if rule.compare == "value":
        return _check_values(rule, feature, gm, judged, common, note)

    if len(judged) < 2:
        return _error(
            rule,
            feature,
            f"fewer than two groups of {feat} have at least {rule.min_group_size:g} samples; "
            "there is nothing to compare." + note,
            **common,
        )

    groups = judged if len(judged) < len(by_group.index) else None
    table = gm.disparities(reference_group=reference, groups=groups)
    method = "reference" if reference is not None else rule.method
    rows = table[
        (table["metric"] == rule.metric)
        & (table["compare"] == rule.compare)
        & (table["method"] == method)
    ]
    if len(rows) != 1:
        return _error(
            rule,
            feature,
            f"the result has no single {rule.compare} ({method}) of {rule.metric}.",
            **common,
        )
    row = rows.iloc[0]
    estimate, lower, upper = _num(row["value"]), _num(row["lower"]), _num(row["upper"])
    common.update(estimate=estimate, lower=lower, upper=upper)
    if estimate is None or (rule.judge == "interval" and (lower is None or upper is None)):
        return _error(
            rule,
            feature,
            f"the {rule.compare} of {rule.metric} is undefined for {feat} (a group has a zero "
            "denominator or rate)." + note,
            **common,
        )
    ok, judged_value, which = _judge(rule, estimate, lower, upper)

    spread = ""
    values = by_group.loc[judged, _needed(rule.metric)[0]].astype(float)
    if rule.metric != _EQUALIZED_ODDS and values.notna().any():
        lo_label, hi_label = values.idxmin(), values.idxmax()
        spread = (
            f" Lowest {_format_label(lo_label)} {_fmt(values[lo_label])}, "
            f"highest {_format_label(hi_label)} {_fmt(values[hi_label])}"
        )
        if reference is not None and reference not in (lo_label, hi_label):
            spread += f", reference {_format_label(reference)} {_fmt(values[reference])}"
        spread += "."
    what = f"{rule.metric} {rule.compare}"
    what += (
        f" vs {_format_label(reference)}"
        if reference is not None
        else (" between groups" if method == "between_groups" else " to overall")
    )
    verdict = "within" if ok else "outside"
    reason = (
        f"{feat}: {what} = {_fmt(estimate)}{_judged_text(gm, lower, upper, which, judged_value)}"
        f", {verdict} the {_bounds_text(rule)}.{spread}{note}"
    )
    return RuleResult(
        rule=rule,
        feature=feature,
        status="pass" if ok else "fail",
        value=judged_value,
        worst_group=None,
        reason=reason,
        **common,
    )


def _check_values(
    rule: Rule,
    feature: tuple[str, ...],
    gm: Any,
    judged: list[Any],
    common: dict[str, Any],
    note: str,
) -> RuleResult:
    feat = " x ".join(feature)
    if not judged:
        return _error(
            rule,
            feature,
            f"no group of {feat} has at least {rule.min_group_size:g} samples." + note,
            **common,
        )
    values = gm.by_group.loc[judged, rule.metric].astype(float)
    if values.isna().any():
        bad = [_format_label(v) for v in values.index[values.isna()]]
        return _error(
            rule, feature, f"{rule.metric} is undefined for {', '.join(bad)}." + note, **common
        )
    worst: tuple[float, Any, str, float, float | None, float | None] | None = None
    all_ok = True
    for label in judged:
        estimate = float(values[label])
        lower = upper = None
        if gm.ci is not None:
            lower = _num(gm.ci.loc[label, (rule.metric, "lower")])
            upper = _num(gm.ci.loc[label, (rule.metric, "upper")])
        if rule.judge == "interval" and (lower is None or upper is None):
            return _error(
                rule,
                feature,
                f"the interval of {rule.metric} is undefined for {_format_label(label)}." + note,
                **common,
            )
        ok, value, which = _judge(rule, estimate, lower, upper)
        all_ok &= ok
        # how far inside the bounds (negative = outside); the smallest is the worst group
        margin = min(
            value - rule.min if rule.min is not None else math.inf,
            rule.max - value if rule.max is not None else math.inf,
        )
        if worst is None or margin < worst[0]:
            worst = (margin, label, which, estimate, lower, upper)
    assert worst is not None
    _, label, which, estimate, lower, upper = worst
    ok, value, which = _judge(rule, estimate, lower, upper)
    verdict = "every group is within" if all_ok else "outside"
    reason = (
        f"{feat}: {rule.metric} closest to the bound is {_format_label(label)} at "
        f"{_fmt(estimate)}{_judged_text(gm, lower, upper, which, value)}; {verdict} the "
        f"{_bounds_text(rule)}.{note}"
    )
    common.update(estimate=estimate, lower=lower, upper=upper)
    return RuleResult(
        rule=rule,
        feature=feature,
        status="pass" if all_ok else "fail",
        value=value,
        worst_group=_format_label(label),
        reason=reason,
        **common,
    )


def missing_target(rule: Rule, given: tuple[str, ...]) -> RuleResult:
    """Return the error result of a rule whose kind of result was not passed to ``check``."""
    if rule.target == "flip_test":
        need = "a FlipTestResult (fairaudit.flip_test)"
    elif rule.target == "comparison":
        need = "a ComparisonResult (fairaudit.compare or fairaudit.compare_predictions)"
    elif rule.target == "data_bias":
        need = "a DataBias result (fairaudit.data_bias, or the command without --prediction)"
    else:
        need = "a GroupMetrics result (fairaudit.group_metrics or fairaudit.audit)"
    return _error(
        rule,
        rule.sensitive_feature or (),
        f"{rule.metric} needs {need}; check() got {', '.join(given) or 'nothing'}.",
    )


def check_measure_rule(rule: Rule, result: Any) -> list[RuleResult]:
    """Judge a ``measure:`` rule on a DataBias: every group's value within the bounds."""
    table = result.to_frame()
    names = tuple(result.sensitive_features)
    # the views of a DataBias: each feature alone, then (several features) their intersection
    singles = names[:-1] if len(names) > 1 else names
    views = {name: (name,) for name in singles}
    if len(names) > 1:
        views[names[-1]] = singles
    if rule.sensitive_feature is None:
        wanted = list(singles)
    else:
        match = [v for v, feats in views.items() if feats == rule.sensitive_feature]
        if not match:
            raise PolicyError(
                f"rule {rule.id!r}: sensitive_feature {list(rule.sensitive_feature)} is not in "
                f"the data-bias result, which has {', '.join(map(repr, singles))}"
                + (" and their intersection." if len(names) > 1 else ".")
            )
        wanted = match
    if rule.metric not in result.measures:
        return [
            _error(
                rule,
                views[w],
                f"{rule.metric} was not computed for this result; include it in measures=.",
            )
            for w in wanted
        ]
    out = []
    for view in wanted:
        feature = views[view]
        rows = table[(table["sensitive_feature"] == view) & (table["measure"] == rule.metric)]
        if rule.reference_group is not None:
            rows = rows[rows["reference"].map(lambda r: _same_label(r, rule.reference_group))]
            if rows.empty:
                out.append(
                    _error(
                        rule,
                        feature,
                        f"the data-bias result compares {view} with "
                        f"{_format_label(table['reference'].iloc[0]) if len(table) else 'nothing'}"
                        f", not with {_format_label(rule.reference_group)}; compute it with "
                        "reference_group= that group.",
                    )
                )
                continue
        out.append(_check_measure_rows(rule, feature, rows, result.confidence))
    return out


def _same_label(a: Any, b: Any) -> bool:
    def text(v: Any) -> Any:
        return tuple(str(x) for x in v) if isinstance(v, tuple) else str(v)

    return bool(a == b) or text(a) == text(b)


def _check_measure_rows(
    rule: Rule, feature: tuple[str, ...], rows: pd.DataFrame, confidence: float
) -> RuleResult:
    feat = " x ".join(feature)
    small = rows["count"].astype(float) < rule.min_group_size
    excluded = tuple(_format_label(g) for g in rows.loc[small, "group"])
    judged_rows = rows.loc[~small]
    has_ref = "reference" in rows and len(rows)
    reference = _format_label(rows["reference"].iloc[0]) if has_ref else None
    common: dict[str, Any] = {
        "reference": reference,
        "judged_groups": tuple(_format_label(g) for g in judged_rows["group"]),
        "excluded_groups": excluded,
    }
    if judged_rows.empty:
        return _error(
            rule,
            feature,
            f"no group of {feat} has at least {rule.min_group_size:g} rows.",
            **common,
        )
    worst = None
    all_ok = True
    for row in judged_rows.itertuples():
        estimate = _num(row.value)
        lower, upper = _num(row.lower), _num(row.upper)
        if estimate is None or (rule.judge == "interval" and (lower is None or upper is None)):
            what = "value" if estimate is None else "interval"
            return _error(
                rule,
                feature,
                f"the {what} of {rule.metric} is undefined or infinite for "
                f"{_format_label(row.group)}.",
                **common,
            )
        ok, value, which = _judge(rule, estimate, lower, upper)
        all_ok &= ok
        margin = min(
            value - rule.min if rule.min is not None else math.inf,
            rule.max - value if rule.max is not None else math.inf,
        )
        if worst is None or margin < worst[0]:
            worst = (margin, row.group, estimate, lower, upper)
    assert worst is not None
    _, label, estimate, lower, upper = worst
    ok, value, which = _judge(rule, estimate, lower, upper)
    interval = (
        f" ({confidence:.0%} CI {_fmt(lower)} to {_fmt(upper)})"
        if lower is not None and upper is not None
        else ""
    )
    judged = "" if which == "estimate" else f"; judged on the {which}, {_fmt(value)}"
    verdict = "every group is within" if all_ok else "outside"
    reason = (
        f"{feat}: {_what(rule)}{f' (vs {reference})' if has_ref else ''} closest to the bound is "
        f"{_format_label(label)} at {_fmt(estimate)}{interval}{judged}; {verdict} the "
        f"{_bounds_text(rule)}."
    )
    common.update(estimate=estimate, lower=lower, upper=upper)
    return RuleResult(
        rule=rule,
        feature=feature,
        status="pass" if all_ok else "fail",
        value=value,
        worst_group=_format_label(label),
        reason=reason,
        **common,
    )


def _what(rule: Rule) -> str:
    if rule.target == "comparison" and rule.metric != "agreement":
        return f"|{rule.metric} b - a|"
    return rule.metric


def _index_names(index: pd.Index, fallback: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(str(n) for n in index.names if n is not None)
    return names or fallback


def check_flip_rule(rule: Rule, result: Any) -> list[RuleResult]:
    """Judge a flip-test ``metric:`` rule: every group's statistic in ``by_group`` in bounds."""
    frame = result.by_group
    feature = _index_names(frame.index, tuple(result.feature))
    rows = pd.DataFrame(
        {
            "group": list(frame.index),
            "count": frame["count"].to_numpy(dtype=float),
            "value": frame[rule.metric].to_numpy(dtype=float),
            "lower": frame[f"{rule.metric}_lower"].to_numpy(dtype=float),
            "upper": frame[f"{rule.metric}_upper"].to_numpy(dtype=float),
        }
    )
    return [_check_measure_rows(rule, feature, rows, result.confidence)]


def check_comparison_rule(rule: Rule, result: Any) -> list[RuleResult]:
    """Judge a ``comparison:`` rule on a ComparisonResult (model b against model a).

    ``comparison: agreement`` bounds the share of identical labels overall (the group
    ``"(all rows)"``) and in every group; ``comparison: <metric>`` bounds |difference b - a|
    in every group and overall (with ``judge: interval`` the end of the paired interval
    furthest from 0) and/or, with ``equivalent: true``, needs the TOST verdict of every group.
    """
    feature = _index_names(result.by_group.index, ("group",))
    if rule.metric == "agreement":
        groups = result.by_group
        rows = pd.DataFrame(
            {
                "group": [*groups.index, "(all rows)"],
                "count": [*groups["count"].to_numpy(dtype=float), float(result.n_samples)],
                "value": [*groups["agreement"].to_numpy(dtype=float), float(result.agreement)],
                "lower": math.nan,
                "upper": math.nan,
            }
        )
        return [_check_measure_rows(rule, feature, rows, result.confidence)]
    if rule.metric not in result.metrics:
        return [
            _error(
                rule,
                feature,
                f"{rule.metric} was not compared in this result (it has "
                f"{', '.join(result.metrics)}); include it in metrics=.",
            )
        ]
    table = result.differences
    table = table[table["metric"] == rule.metric]
    diff = table["difference"].to_numpy(dtype=float)
    lo, hi = table["lower"].to_numpy(dtype=float), table["upper"].to_numpy(dtype=float)
    # the interval of |d|: from 0 (or the end nearer 0 when 0 is outside) to the end furthest
    # from 0; judged against 'max' it is the upper end, the worse one
    abs_hi = np.fmax(np.abs(lo), np.abs(hi))
    abs_lo = np.where((lo <= 0) & (hi >= 0), 0.0, np.fmin(np.abs(lo), np.abs(hi)))
    abs_lo[np.isnan(lo) | np.isnan(hi)] = np.nan
    abs_hi[np.isnan(lo) | np.isnan(hi)] = np.nan
    rows = pd.DataFrame(
        {
            "group": table["group"].to_numpy(),
            "count": table["count"].to_numpy(dtype=float),
            "value": abs(diff),
            "lower": abs_lo,
            "upper": abs_hi,
        }
    )
    if rule.max is not None:
        out = _check_measure_rows(rule, feature, rows, result.confidence)
        if not rule.equivalent or out.status == "error":
            return [out]
    else:
        out = None
    return [_check_equivalence(rule, feature, result, table, rows, out)]


def _check_equivalence(
    rule: Rule,
    feature: tuple[str, ...],
    result: Any,
    table: pd.DataFrame,
    rows: pd.DataFrame,
    bound: RuleResult | None,
) -> RuleResult:
    """Judge ``equivalent: true``: every judged group shown within the tolerance (TOST)."""
    small = rows["count"].to_numpy(dtype=float) < rule.min_group_size
    groups = [_format_label(g) for g in rows["group"]]
    judged = tuple(g for g, s in zip(groups, small, strict=True) if not s)
    excluded = tuple(g for g, s in zip(groups, small, strict=True) if s)
    common: dict[str, Any] = {"judged_groups": judged, "excluded_groups": excluded}
    if result.tolerance is None or "equivalent" not in table:
        return _error(
            rule,
            feature,
            "the rule needs the equivalence verdict but the comparison has no tolerance; "
            "compute it with tolerance= (command line: --tolerance).",
            **common,
        )
    if not judged:
        return _error(
            rule, feature, f"no group has at least {rule.min_group_size:g} rows.", **common
        )
    verdict = table["equivalent"].to_numpy()
    failing = [g for g, s, ok in zip(groups, small, verdict, strict=True) if not s and not bool(ok)]
    tol = f"±{result.tolerance:g} (TOST at {result.confidence:.0%})"
    if failing:
        text = f"{rule.metric} b - a not shown within {tol} for {', '.join(failing)}."
    else:
        text = f"{rule.metric} b - a shown within {tol} in every group."
    if bound is not None:
        status = "pass" if bound.passed and not failing else "fail"
        return replace(bound, status=status, reason=f"{bound.reason} {text}")
    values = rows["value"].to_numpy(dtype=float)
    keep = ~small
    i = int(pd.Series(values[keep]).fillna(math.inf).to_numpy().argmax())
    idx = [j for j in range(len(rows)) if keep[j]][i]
    return RuleResult(
        rule=rule,
        feature=feature,
        status="fail" if failing else "pass",
        value=_num(values[idx]),
        estimate=_num(values[idx]),
        lower=_num(rows["lower"].iloc[idx]),
        upper=_num(rows["upper"].iloc[idx]),
        reference=None,
        worst_group=failing[0] if failing else groups[idx],
        reason=f"{' x '.join(feature)}: {text}",
        **common,
    )
