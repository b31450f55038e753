"""Typed payloads of the results' ``to_dict()``: what the report and the CLI read.

Every result's ``to_dict()`` carries the common keys of :class:`ResultPayload`; the results
whose own keys another layer reads (``GroupMetrics`` by the report's tables, highlights and
glossary; ``PolicyOutcome`` by the report's checks and the CLI) return the TypedDicts below, so
that mypy checks the writer and the readers against one definition. The payloads are JSON-safe
(NaN is ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, TypeGuard

__all__ = [
    "DisparityPayload",
    "GroupEntryPayload",
    "GroupMetricsPayload",
    "MetricInfoPayload",
    "PolicyOutcomePayload",
    "ReportPayload",
    "ReportProvenancePayload",
    "ResultPayload",
    "RuleResultPayload",
    "is_group_metrics",
    "is_policy_outcome",
]


class ResultPayload(TypedDict):
    """The common keys of every result's ``to_dict()`` (the report's sections)."""

    kind: str
    schema_version: int
    title: str
    summary: list[str]
    parameters: dict[str, Any]
    table: list[dict[str, Any]]


class MetricInfoPayload(TypedDict, total=False):
    """A metric's description (``MetricDefinition.to_dict()``); composites give fewer keys."""

    label: str
    description: str
    ideal: float | None
    direction: str
    task: str
    formula: str
    limitations: str


class GroupEntryPayload(TypedDict):
    """One group of ``GroupMetrics.to_dict()["groups"]``."""

    group: dict[str, Any]
    count: int
    values: dict[str, float | None]
    lower: dict[str, float | None] | None
    upper: dict[str, float | None] | None


class DisparityPayload(TypedDict):
    """One record of ``GroupMetrics.disparities()`` (a row of that frame)."""

    metric: str
    compare: str
    method: str
    reference: Any
    value: float | None
    lower: float | None
    upper: float | None


class GroupMetricsPayload(ResultPayload):
    """``GroupMetrics.to_dict()`` (``kind == "group_metrics"``)."""

    sensitive_features: list[str]
    metrics: list[str]
    overall: dict[str, float | None]
    groups: list[GroupEntryPayload]
    disparities: list[DisparityPayload]
    metric_info: dict[str, MetricInfoPayload]
    interval_methods: dict[str, str]
    interval_coverage: str | None
    excluded_groups: list[dict[str, Any]]
    provenance: dict[str, Any]


class RuleResultPayload(TypedDict):
    """``RuleResult.to_dict()``: one rule judged on one feature."""

    rule: str
    name: str
    label: str
    metric: str
    compare: str
    min: float | None
    max: float | None
    judge: str
    feature: list[str]
    status: str
    passed: bool
    value: float | None
    estimate: float | None
    lower: float | None
    upper: float | None
    reference: Any
    worst_group: str | None
    judged_groups: list[Any]
    excluded_groups: list[Any]
    reason: str


class PolicyOutcomePayload(ResultPayload):
    """``PolicyOutcome.to_dict()`` (``kind == "policy_outcome"``)."""

    passed: bool
    counts: dict[str, int]
    results: list[RuleResultPayload]


class ReportProvenancePayload(TypedDict):
    """``Report.to_dict()["provenance"]``."""

    environment: dict[str, Any]
    inputs: dict[str, Any]
    policies: list[dict[str, Any]]
    results: list[dict[str, Any]]


class ReportPayload(TypedDict):
    """``Report.to_dict()``: the policy outcomes (``checks``) and every other result."""

    kind: str
    schema_version: int
    title: str
    description: str | None
    timestamp: str | None
    passed: bool | None
    summary: list[str]
    checks: list[PolicyOutcomePayload]
    sections: list[ResultPayload]
    provenance: ReportProvenancePayload


def is_group_metrics(section: Mapping[str, Any]) -> TypeGuard[GroupMetricsPayload]:
    """Whether a report section is a ``GroupMetrics`` payload.

    Examples
    --------
    >>> is_group_metrics({"kind": "group_metrics"}), is_group_metrics({"kind": "weat"})
    (True, False)
    """
    return section.get("kind") == "group_metrics"


def is_policy_outcome(section: Mapping[str, Any]) -> TypeGuard[PolicyOutcomePayload]:
    """Whether a report section is a ``PolicyOutcome`` payload.

    Examples
    --------
    >>> is_policy_outcome({"kind": "policy_outcome"})
    True
    """
    return section.get("kind") == "policy_outcome"
