"""The results a policy needs, computed from columns (``Policy.check(data=...)``).

A policy knows which results its rules read: the registry metrics of its ``metric:`` rules
(:attr:`Policy.metrics`), the measures of its ``measure:`` rules, and the comparison metrics
of its ``comparison:`` rules. Given the columns (names with ``data=``, or arrays), this
module computes just those through the same functions a user would call (``group_metrics``
over a count table, ``data_bias``, ``compare_predictions``), so that checking them equals
checking the results computed by hand. Flip tests need a model and are never computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fairaudit.exceptions import PolicyError

if TYPE_CHECKING:  # pragma: no cover
    from fairaudit.policy._policy import Policy

__all__ = ["comparison_metrics", "results_from_inputs"]


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


def results_from_inputs(
    policy: Policy,
    given: tuple[str, ...],
    *,
    data: Any,
    y_true: Any,
    y_pred: Any,
    sensitive_features: Any,
    y_score: Any,
    sample_weight: Any,
    strata: Any,
    pred_a: Any,
    pred_b: Any,
    score_a: Any,
    score_b: Any,
    pos_label: Any,
    n_boot: int,
    confidence: float,
    tolerance: float | None,
    min_group_size: int,
    missing_groups: Any,
    random_state: Any,
    engine: Any,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
) -> dict[str, Any]:
    """Compute the results of the kinds the policy's rules need, from what was given.

    Returns a mapping kind -> result; a kind whose inputs were not given is left out (its
    rules then get status "error", as when its result is not passed).
    """
    if y_true is None:
        if data is not None or y_pred is not None or pred_b is not None:
            raise TypeError(
                "Policy.check(data=...) needs y_true (the true labels: a column name with "
                "data=, or the labels themselves)."
            )
        return {}
    if sensitive_features is None:
        raise TypeError("Policy.check(y_true=...) needs sensitive_features as well.")
    kinds = {r.target for r in policy.rules}
    wanted = []
    if "group_metrics" in kinds and y_pred is not None:
        wanted.append("group_metrics")
    if "data_bias" in kinds:
        wanted.append("data_bias")
    if "comparison" in kinds and pred_b is not None:
        wanted.append("comparison")
    if strata is not None and "data_bias" not in wanted:
        raise TypeError(
            "strata= is for the policy's measure: rules (data_bias), and this policy has none."
        )
    if pred_b is None and (pred_a is not None or score_a is not None or score_b is not None):
        raise TypeError("pred_a, score_a and score_b are for a comparison: pass pred_b as well.")
    clash = [k for k in wanted if k in given]
    if clash:
        raise PolicyError(
            f"Policy.check() got a {clash[0]} result and the inputs to compute one (y_true=, "
            "data=, ...); pass one or the other."
        )
    out: dict[str, Any] = {}
    if "group_metrics" in wanted:
        from fairaudit.metrics import group_metrics

        out["group_metrics"] = group_metrics(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            y_score=y_score,
            sample_weight=sample_weight,
            metrics=list(policy.metrics),
            pos_label=pos_label,
            n_boot=n_boot,
            confidence=confidence,
            min_group_size=min_group_size,
            missing_groups=missing_groups,
            random_state=random_state,
            fingerprint=False,  # the result stays inside the outcome
            data=data,
            engine=engine,
            memory_limit=memory_limit,
            threads=threads,
            progress=progress,
        )
    if "data_bias" in wanted:
        from fairaudit.metrics import data_bias

        out["data_bias"] = data_bias(
            y_true,
            sensitive_features=sensitive_features,
            strata=strata,
            sample_weight=sample_weight,
            pos_label=pos_label,
            measures=list(policy.measures),
            n_boot=n_boot,
            confidence=confidence,
            random_state=random_state,
            min_group_size=min_group_size,
            missing_groups=missing_groups,
            data=data,
            memory_limit=memory_limit,
            threads=threads,
        )
    if "comparison" in wanted:
        from fairaudit._compare import compare_predictions

        out["comparison"] = compare_predictions(
            y_true,
            y_pred if pred_a is None else pred_a,
            pred_b,
            sensitive_features=sensitive_features,
            score_a=y_score if score_a is None and score_b is not None else score_a,
            score_b=score_b,
            metrics=comparison_metrics(policy, None),
            pos_label=pos_label,
            n_boot=n_boot,
            tolerance=tolerance,
            confidence=confidence,
            random_state=random_state,
            missing_groups=missing_groups,
            data=data,
            engine=engine,
            memory_limit=memory_limit,
            threads=threads,
            progress=progress,
        )
    return out
