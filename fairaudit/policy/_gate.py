"""Policies as release gates on a comparison of two models (``fairaudit compare --policy``).

Sits above ``_policy`` (imports it); the command line only parses, calls these and maps the
outcome to an exit status.
"""

from __future__ import annotations

from typing import Any

from fairaudit.policy._inputs import comparison_metrics
from fairaudit.policy._outcome import PolicyOutcome
from fairaudit.policy._policy import Policy

__all__ = ["check_comparison", "check_judgeable", "comparison_metrics", "require_judgeable"]


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


_KIND_WORDS = {
    "group_metrics": "'metric:' rules on group metrics",
    "data_bias": "'measure:' rules on the labels",
    "comparison": "'comparison:' rules (fairaudit compare)",
    "flip_test": "flip-test rules (fairaudit.flip_test needs the model)",
}


def require_judgeable(policy: Policy, *, kinds: tuple[str, ...], command: str) -> None:
    """Refuse a policy without any rule of the kinds a command judges (a usage error)."""
    from fairaudit.exceptions import PolicyError

    if not any(r.target in kinds for r in policy.rules):
        held = sorted({_KIND_WORDS.get(r.target, r.target) for r in policy.rules})
        raise PolicyError(
            f"{policy.source or 'policy'}: has no rule that '{command}' can judge; it holds "
            f"{', '.join(held)}, while '{command}' judges "
            f"{' and '.join(_KIND_WORDS[k] for k in kinds)}."
        )


def check_judgeable(
    policy: Policy, result: Any, *, kinds: tuple[str, ...], command: str
) -> tuple[PolicyOutcome, tuple[str, ...]]:
    """Check the rules of ``policy`` that ``result`` can judge; return the outcome and the rest.

    A policy file may hold the rules of a whole release; a command gates on the rules of the
    kinds it computes (``kinds``) and leaves the others (returned by id, for a note). A policy
    with no rule of those kinds is a usage error rather than a vacuous pass.

    Examples
    --------
    >>> import fairaudit as fa
    >>> policy = fa.Policy.from_dict({"version": 1, "rules": [
    ...     {"id": "sr", "metric": "selection_rate", "compare": "ratio", "min": 0.5},
    ...     {"id": "agree", "comparison": "agreement", "min": 0.99}]})
    >>> gm = fa.group_metrics([1, 0, 1, 0], [1, 0, 1, 0], sensitive_features=list("aabb"),
    ...                       metrics=["selection_rate"], min_group_size=1)
    >>> outcome, skipped = check_judgeable(policy, gm, kinds=("group_metrics",),
    ...                                    command="fairaudit audit")
    >>> outcome.passed, skipped
    (True, ('agree',))
    """
    require_judgeable(policy, kinds=kinds, command=command)
    outcome = policy.check(result)
    kept = tuple(r for r in outcome.results if r.rule.target in kinds)
    skipped = tuple(r.id for r in policy.rules if r.target not in kinds)
    return PolicyOutcome(policy=policy, results=kept), skipped
