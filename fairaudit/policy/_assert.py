"""``assert_policy``: a policy check as a pytest assertion (public in :mod:`fairaudit.testing`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fairaudit.policy._outcome import PolicyOutcome
from fairaudit.policy._policy import Policy

__all__ = ["assert_policy"]


def assert_policy(
    policy: Policy | str | Path | Mapping[str, Any],
    result: Any = None,
    *more: Any,
    **inputs: Any,
) -> PolicyOutcome:
    """Check ``result`` against ``policy`` and raise ``AssertionError`` if any rule fails.

    Meant for pytest suites that gate a model: ``assert_policy("policy.yaml",
    fa.audit(model, X_test, y_test, sensitive_features=S, n_boot=500, random_state=0))``.

    Parameters
    ----------
    policy : Policy, path to a YAML file, or mapping
        The policy (a path is read with :meth:`Policy.from_yaml`, a mapping with
        :meth:`Policy.from_dict`).
    result, *more : GroupMetrics, DataBias, FlipTestResult or ComparisonResult
        The results to check, at most one of each kind (as :meth:`Policy.check`).
    **inputs
        Or the inputs to compute them, as :meth:`Policy.check` takes them: ``data=`` (a
        table, files, a DuckDB relation, a Spark DataFrame) with the column names
        ``y_true=``, ``y_pred=``, ``sensitive_features=`` (``y_score``, ``sample_weight``,
        ``pred_b`` for a comparison, ...), and ``n_boot``, ``random_state``, ``engine``...

    Returns
    -------
    PolicyOutcome
        The outcome, when every rule passed.

    Raises
    ------
    AssertionError
        A rule failed or could not be judged; the message lists every such rule with its
        reason, one per line.
    PolicyError
        The policy is invalid or does not apply to the result.

    Examples
    --------
    >>> import fairaudit as fa
    >>> gm = fa.group_metrics([1, 0, 1, 0], [1, 0, 0, 0], metrics=["selection_rate"],
    ...                       sensitive_features=["a", "a", "b", "b"], min_group_size=1)
    >>> assert_policy({"version": 1, "rules": [
    ...     {"id": "parity", "metric": "selection_rate", "compare": "difference", "max": 0.2}]},
    ...     gm)
    Traceback (most recent call last):
    ...
    AssertionError: policy 'policy' failed 1 of 1 checks:
      FAIL parity [sensitive_feature_0] (selection_rate difference <= 0.2): ...

    The same check on a file, a glob or a table of columns:

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"y": [1, 0, 1, 0], "p": [1, 0, 1, 0], "s": ["a", "a", "b", "b"]})
    >>> assert_policy({"version": 1, "rules": [
    ...     {"id": "parity", "metric": "selection_rate", "compare": "difference", "max": 0.2}]},
    ...     data=frame, y_true="y", y_pred="p", sensitive_features="s", min_group_size=1).passed
    True
    """
    if isinstance(policy, str | Path):
        policy = Policy.from_yaml(policy)
    elif isinstance(policy, Mapping):
        policy = Policy.from_dict(policy)
    elif not isinstance(policy, Policy):
        raise TypeError(
            "policy must be a fairaudit.Policy, a path to a YAML file or a mapping, "
            f"got {type(policy).__name__}."
        )
    outcome = policy.check(result, *more, **inputs)
    if not outcome.passed:
        failures = outcome.failures
        lines = [f"policy {policy.name!r} failed {len(failures)} of {len(outcome.results)} checks:"]
        lines += [f"  {r.status.upper()} {r.name} ({r.rule.label}): {r.reason}" for r in failures]
        raise AssertionError("\n".join(lines))
    return outcome
