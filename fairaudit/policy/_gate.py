"""Policies as release gates on a comparison of two models (``fairaudit compare --policy``).

Sits above ``_policy`` (imports it); the command line only parses, calls these and maps the
outcome to an exit status.
"""

from __future__ import annotations

from typing import Any

from fairaudit.policy._inputs import comparison_metrics
from fairaudit.policy._outcome import PolicyOutcome
from fairaudit.policy._policy import Policy

__all__ = ["check_comparison", "comparison_metrics"]


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
