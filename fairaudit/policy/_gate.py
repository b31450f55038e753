"""Policies as release gates on a comparison of two models (``fairaudit compare --policy``).

Sits above ``_policy`` (imports it); the command line only parses, calls these and maps the
outcome to an exit status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fairaudit.policy._outcome import PolicyOutcome
from fairaudit.policy._policy import Policy

__all__ = ["check_comparison", "comparison_metrics"]


def comparison_metrics(policy: Policy, metrics: Sequence[str] | None) -> list[str] | None:
    """Return ``metrics`` plus every metric a ``comparison:`` rule of ``policy`` bounds.

    ``None`` stays ``None`` (the defaults of :func:`fairaudit.compare_predictions`) when the
    defaults already hold every metric the rules name.
    """
    from fairaudit.metrics._paired import PAIRED_METRICS

    needed = [
        r.metric for r in policy.rules if r.target == "comparison" and r.metric != "agreement"
    ]
    base = list(PAIRED_METRICS) if metrics is None else list(metrics)
    missing = [m for m in dict.fromkeys(needed) if m not in base]
    if metrics is None and not missing:
        return None
    return [*base, *missing]


def check_comparison(policy: Policy, result: Any) -> PolicyOutcome:
    """Check the ``comparison:`` rules of ``policy`` on ``result``; other rules are left out.

    A policy file may hold the rules of a whole release (group metrics, flip tests, the
    comparison); ``fairaudit compare`` gates on the rules it can judge. A policy without any
    ``comparison:`` rule is a usage error rather than a vacuous pass.
    """
    from fairaudit.exceptions import PolicyError

    if not any(r.target == "comparison" for r in policy.rules):
        raise PolicyError(
            f"{policy.source or 'policy'}: has no 'comparison:' rule, so there is nothing for "
            "'fairaudit compare' to check (e.g. '- {comparison: agreement, min: 0.99}')."
        )
    outcome = policy.check(result)
    kept = tuple(r for r in outcome.results if r.rule.target == "comparison")
    return PolicyOutcome(policy=policy, results=kept)
