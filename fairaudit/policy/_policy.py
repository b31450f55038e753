"""YAML policies: explicit, versioned thresholds on group metrics, checked rule by rule.

A policy is a list of rules. Each rule names a metric from the registry
(:data:`fairaudit.metrics.METRIC_REGISTRY`), how groups are compared (``ratio``,
``difference`` or each group's ``value``), the bounds (``min`` and/or ``max``), optionally a
reference group and the sensitive feature it applies to, whether the point estimate or the
worse end of the confidence interval is judged, and a minimum group size below which groups
are reported but not judged::

    version: 1
    name: Release gate for the credit model
    defaults:                     # optional: applied to every rule that does not set the key
      judge: estimate
      min_group_size: 30
    rules:
      - id: four-fifths-sex
        metric: selection_rate      # any registry metric
        compare: ratio              # ratio | difference | value
        min: 0.8                    # min and/or max
        reference_group: Male       # optional: vs this group; default between groups
        sensitive_feature: sex      # optional; default each sensitive feature separately
        judge: interval             # estimate | interval (the bound that is worse)
        min_group_size: 30          # optional: smaller groups reported, not judged

Rules can also bound a flip test (``metric: flip_rate`` and the other columns of
``FlipTestResult.by_group``, every group's value) and a comparison of two models
(``comparison: agreement`` or ``comparison: <metric>`` with ``max`` on |b - a| and/or
``equivalent: true``); see ``docs/policy.md``.

Nothing here is a default that fairaudit imposes: the four-fifths rule is a rule a user writes
down. A policy checks thresholds; it does not certify compliance with any law.

Rules are evaluated on a :class:`~fairaudit.metrics.GroupMetrics` through its public methods
``marginal(feature)`` (a rule about one feature of an intersectional result) and
``disparities(reference_group=..., groups=...)`` (so that groups under ``min_group_size`` are
left out of the comparison, with intervals from the same bootstrap replicates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from fairaudit._optional import import_optional
from fairaudit._provenance import sha256_json
from fairaudit.exceptions import PolicyError
from fairaudit.policy._check import (
    check_comparison_rule,
    check_flip_rule,
    check_measure_rule,
    check_rule,
    missing_target,
)
from fairaudit.policy._inputs import results_from_inputs
from fairaudit.policy._outcome import PolicyOutcome
from fairaudit.policy._rules import (
    _DEFAULT_KEYS,
    _POLICY_VERSION,
    _TOP_KEYS,
    Rule,
    _known_metrics,
    _needed,
    _parse_rule,
    _shown,
    _suggest,
    split_class,
)
from fairaudit.policy._yaml import PolicyYAMLError, load_policy_yaml

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = ["Policy"]

# error messages echo parts of the file: never more than this many characters
_MAX_MESSAGE = 1_000


def _clip(message: str) -> str:
    if len(message) <= _MAX_MESSAGE:
        return message
    return f"{message[:_MAX_MESSAGE]}... ({len(message):,} characters in all)"


@dataclass(frozen=True)
class Policy:
    """A versioned set of rules, loaded from YAML or a dict, checked against group metrics.

    Parameters
    ----------
    rules : tuple of Rule
        The rules, in file order.
    name : str
        Shown in reports and used as the JUnit test-suite name.
    description : str or None
        Free text shown in reports.
    source : str or None
        The file the policy was read from.
    sha256 : str
        SHA-256 of the normalized policy (canonical JSON of :meth:`to_dict` without
        ``source``), so two files with the same rules have the same hash.

    Examples
    --------
    >>> import fairaudit as fa
    >>> policy = fa.Policy.from_dict({
    ...     "version": 1,
    ...     "rules": [{"metric": "selection_rate", "compare": "ratio", "min": 0.8}],
    ... })
    >>> [rule.label for rule in policy.rules]
    ['selection_rate ratio >= 0.8']
    >>> fa.Policy.from_dict({"version": 1, "rules": [{"metric": "selection_rate", "mni": 0.8}]})
    Traceback (most recent call last):
    ...
    fairaudit.exceptions.PolicyError: policy: rule 1: unknown key 'mni'. Did you mean 'min'? Allowed keys: ...
    """

    rules: tuple[Rule, ...]
    name: str = "policy"
    description: str | None = None
    source: str | None = None
    sha256: str = field(default="", compare=False)

    # ---------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Policy:
        """Build and validate a policy from a mapping (the parsed YAML).

        Parameters
        ----------
        data : mapping
            Keys ``version`` (must be 1), ``rules`` (a non-empty list), optional ``name``,
            ``description`` and ``defaults`` (values for ``compare``, ``judge``,
            ``min_group_size`` and ``method`` used by rules that do not set them).
        source : str, optional
            Where the data came from, for messages.

        Returns
        -------
        Policy

        Raises
        ------
        PolicyError
            On any unknown key, missing key or bad value; the message names the rule and key.
        """
        where = source or "policy"
        try:
            return cls._from_dict(data, source=source)
        except PolicyError as exc:
            raise PolicyError(f"{where}: {_clip(str(exc))}") from None

    @classmethod
    def _from_dict(cls, data: Any, *, source: str | None) -> Policy:
        if not isinstance(data, Mapping):
            raise PolicyError(
                f"a policy is a mapping with keys 'version' and 'rules', got {type(data).__name__}."
            )
        for key in data:
            if key not in _TOP_KEYS:
                raise PolicyError(
                    f"unknown top-level key {_shown(key)}.{_suggest(str(key), _TOP_KEYS)} "
                    f"Allowed keys: {', '.join(_TOP_KEYS)}."
                )
        version = data.get("version")
        if version != _POLICY_VERSION or isinstance(version, bool):
            raise PolicyError(
                f"key 'version' must be {_POLICY_VERSION} (the policy format this fairaudit "
                f"reads), got {_shown(version)}; add 'version: 1' at the top of the file."
            )
        name = data.get("name", "policy")
        if not isinstance(name, str) or not name:
            raise PolicyError(f"key 'name' must be a non-empty string, got {_shown(name)}.")
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            raise PolicyError(f"key 'description' must be text, got {_shown(description)}.")
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            raise PolicyError(f"key 'defaults' must be a mapping, got {_shown(defaults)}.")
        for key in defaults:
            if key not in _DEFAULT_KEYS:
                raise PolicyError(
                    f"defaults: unknown key {_shown(key)}.{_suggest(str(key), _DEFAULT_KEYS)} "
                    f"Allowed keys: {', '.join(_DEFAULT_KEYS)}."
                )
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            raise PolicyError(
                f"key 'rules' must be a non-empty list of rules, got {_shown(raw_rules)}."
            )
        known = _known_metrics()
        rules = tuple(_parse_rule(r, i, defaults, known) for i, r in enumerate(raw_rules))
        ids = [r.id for r in rules]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise PolicyError(f"rule ids must be unique, repeated: {', '.join(duplicated)}.")
        policy = cls(rules=rules, name=name, description=description, source=source)
        digest = sha256_json(policy._body())
        object.__setattr__(policy, "sha256", digest)
        return policy

    @classmethod
    def from_yaml(cls, path: str | Path) -> Policy:
        """Read a policy from a YAML file (``yaml.safe_load`` with stricter checks).

        Beyond ``safe_load``: a key repeated in a mapping is refused (it would silently replace
        the first), floats are read as YAML 1.2 writes them (``8e-1``), and a file over 1 MiB
        or standing for more than 100,000 values once its aliases are expanded (a "billion
        laughs" file) is refused before it is built. Error messages are clipped.

        Parameters
        ----------
        path : str or pathlib.Path
            The YAML file.

        Returns
        -------
        Policy

        Raises
        ------
        PolicyError
            The file is missing, unreadable, not valid YAML, or not a valid policy.
        """
        yaml = import_optional("yaml", purpose="Policy.from_yaml()")
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError(f"policy file not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc}") from None
        return cls.from_yaml_text(text, source=str(path), _yaml=yaml)

    @classmethod
    def from_yaml_text(cls, text: str, *, source: str | None = None, _yaml: Any = None) -> Policy:
        """Parse a policy from YAML text with the checks of :meth:`from_yaml`.

        Examples
        --------
        >>> policy = Policy.from_yaml_text('''
        ... version: 1
        ... rules:
        ...   - {metric: selection_rate, compare: ratio, min: 0.8, max: 0.5}
        ... ''')
        Traceback (most recent call last):
        ...
        fairaudit.exceptions.PolicyError: policy: rule 1: impossible rule, 'min' (0.8) is greater than 'max' (0.5); no value can pass.
        """
        if _yaml is None:
            _yaml = import_optional("yaml", purpose="Policy.from_yaml_text()")
        where = source or "policy"
        try:
            data = load_policy_yaml(_yaml, text)
        except _yaml.YAMLError as exc:
            detail = _clip(" ".join(str(exc).split()))
            raise PolicyError(f"{where}: not valid YAML: {detail}") from None
        except PolicyYAMLError as exc:
            raise PolicyError(f"{where}: refused: {exc}") from None
        if data is None:
            raise PolicyError(f"{where}: the policy is empty; it needs 'version: 1' and 'rules'.")
        return cls.from_dict(data, source=source)

    # ---------------------------------------------------------------------------------------
    def _body(self) -> dict[str, Any]:
        return {
            "version": _POLICY_VERSION,
            "name": self.name,
            "description": self.description,
            "rules": [r.to_dict() for r in self.rules],
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the normalized policy with its ``sha256`` and ``source`` (JSON-safe)."""
        return {**self._body(), "sha256": self.sha256, "source": self.source}

    @property
    def metrics(self) -> tuple[str, ...]:
        """The registry metrics the rules need, in rule order without repeats.

        ``equalized_odds`` needs ``true_positive_rate`` and ``false_positive_rate``; a
        per-class rule (``true_positive_rate[Private]``) needs ``true_positive_rate``,
        computed per class (``pos_label=None``) or for that class (``pos_label="Private"``).
        """
        return tuple(
            dict.fromkeys(
                split_class(m)[0]
                for r in self.rules
                if r.target == "group_metrics"
                for m in _needed(r.metric)
            )
        )

    @property
    def measures(self) -> tuple[str, ...]:
        """The data-bias measures the rules bound (``measure:`` rules), without repeats."""
        return tuple(dict.fromkeys(r.metric for r in self.rules if r.target == "data_bias"))

    def check(
        self,
        result: Any = None,
        *more: Any,
        data: Any = None,
        y_true: Any = None,
        y_pred: Any = None,
        sensitive_features: Any = None,
        y_score: Any = None,
        sample_weight: Any = None,
        strata: Any = None,
        pred_a: Any = None,
        pred_b: Any = None,
        score_a: Any = None,
        score_b: Any = None,
        pos_label: Any = 1,
        n_boot: int = 0,
        confidence: float = 0.95,
        tolerance: float | None = None,
        min_group_size: int = 30,
        missing_groups: Literal["error", "separate"] = "error",
        random_state: int | np.random.Generator | None = None,
        engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto",
        memory_limit: str | None = None,
        threads: int | None = None,
        progress: bool | None = None,
    ) -> PolicyOutcome:
        """Check every rule against the results it applies to, given or computed from data.

        Parameters
        ----------
        result, *more : GroupMetrics, DataBias, FlipTestResult or ComparisonResult
            A :class:`~fairaudit.metrics.GroupMetrics` (from :func:`fairaudit.group_metrics` or
            :func:`fairaudit.audit`) for ``metric:`` rules, a
            :class:`~fairaudit.metrics.DataBias` (from :func:`fairaudit.data_bias`) for
            ``measure:`` rules, a :class:`~fairaudit.FlipTestResult` (from
            :func:`fairaudit.flip_test`) for ``metric: flip_rate`` (``to_positive``,
            ``to_negative``, ``mean_score_change``) rules and a
            :class:`~fairaudit.ComparisonResult` (from :func:`fairaudit.compare`) for
            ``comparison:`` rules; at most one of each kind. Rules with ``judge: interval``
            need intervals (``n_boot > 0`` where the result has no exact ones).
        data : optional
            Instead of results, where the columns live (anything
            :func:`fairaudit.metrics.count_table` accepts: a table, files, a DuckDB relation,
            a Spark DataFrame); then the arguments below are column names. Without ``data``
            they may be the values themselves.
        y_true, y_pred, sensitive_features, y_score, sample_weight
            With ``y_pred``, the group metrics the ``metric:`` rules need
            (:attr:`metrics`) are computed by :func:`fairaudit.group_metrics`; with
            ``y_true`` alone, the measures of the ``measure:`` rules by
            :func:`fairaudit.data_bias` (when the policy has such rules).
        strata : optional
            The strata of :func:`fairaudit.data_bias` (column names with ``data``), which
            conditional demographic disparity (``measure: CDDL``) needs.
        pred_a, pred_b, score_a, score_b
            With ``pred_b``, the comparison the ``comparison:`` rules need is computed by
            :func:`fairaudit.compare_predictions` (``pred_a`` defaults to ``y_pred``,
            ``score_a`` to ``y_score``).
        pos_label, n_boot, confidence, tolerance, min_group_size, missing_groups, \
random_state
            Passed to those functions (``tolerance`` to the comparison).
        engine, memory_limit, threads, progress
            Who scans ``data``, as in :func:`fairaudit.metrics.count_table`.

        Returns
        -------
        PolicyOutcome
            ``passed`` is True only when every rule passed on every feature it applies to.
            A rule that cannot be judged (the metric was not computed, no intervals, the
            reference group missing or too small, a value undefined, a flip test that needs
            a model) gets status ``"error"`` and counts as not passed: a release gate must not
            pass by default.

        Raises
        ------
        PolicyError
            The result is not a GroupMetrics, a rule names a sensitive feature the result
            does not have, or a result was given together with the inputs to compute one of
            the same kind.

        Examples
        --------
        >>> import pandas as pd
        >>> import fairaudit as fa
        >>> frame = pd.DataFrame({"y": [1, 0, 1, 0, 1, 0], "p": [1, 0, 1, 1, 0, 0],
        ...                       "sex": ["f", "f", "f", "m", "m", "m"]})
        >>> policy = fa.Policy.from_dict({"version": 1, "rules": [
        ...     {"metric": "selection_rate", "compare": "ratio", "min": 0.8,
        ...      "min_group_size": 1}]})
        >>> policy.check(data=frame, y_true="y", y_pred="p", sensitive_features="sex",
        ...              min_group_size=1).passed
        False
        """
        from fairaudit._compare import ComparisonResult
        from fairaudit._flip import FlipTestResult

        targets: dict[str, Any] = {}
        given = tuple(r for r in (result, *more) if r is not None)
        if result is None and more:
            raise TypeError("Policy.check(): the first result is None.")
        for r in given:
            if hasattr(r, "disparities") and hasattr(r, "by_group"):
                kind = "group_metrics"
            elif getattr(r, "_kind", None) == "data_bias":
                kind = "data_bias"
            elif isinstance(r, FlipTestResult):
                kind = "flip_test"
            elif isinstance(r, ComparisonResult):
                kind = "comparison"
            else:
                raise PolicyError(
                    "Policy.check() needs a GroupMetrics (from fairaudit.group_metrics or "
                    "fairaudit.audit) and/or a DataBias (from fairaudit.data_bias), "
                    "FlipTestResult (from fairaudit.flip_test), ComparisonResult (from "
                    f"fairaudit.compare), got {type(r).__name__}."
                )
            if kind in targets:
                raise PolicyError(f"Policy.check() got two {kind} results; pass one of each.")
            targets[kind] = r
        targets.update(
            results_from_inputs(
                self, tuple(targets), data=data, y_true=y_true, y_pred=y_pred,
                sensitive_features=sensitive_features, y_score=y_score,
                sample_weight=sample_weight, strata=strata, pred_a=pred_a, pred_b=pred_b,
                score_a=score_a,
                score_b=score_b, pos_label=pos_label, n_boot=n_boot, confidence=confidence,
                tolerance=tolerance, min_group_size=min_group_size,
                missing_groups=missing_groups, random_state=random_state, engine=engine,
                memory_limit=memory_limit, threads=threads, progress=progress,
            )
        )  # fmt: skip
        # one order whatever the order of the arguments (messages name the kinds given)
        order = ("group_metrics", "data_bias", "flip_test", "comparison")
        targets = {k: targets[k] for k in sorted(targets, key=order.index)}
        if not targets:
            raise TypeError(
                "Policy.check() needs results (a GroupMetrics, ...) or the inputs to compute "
                "them (data=, y_true=, y_pred=, sensitive_features=)."
            )
        results = []
        for rule in self.rules:
            target = targets.get(rule.target)
            if target is None:
                results.append(missing_target(rule, tuple(targets)))
            elif rule.target == "data_bias":
                results.extend(check_measure_rule(rule, target))
            elif rule.target == "flip_test":
                results.extend(check_flip_rule(rule, target))
            elif rule.target == "comparison":
                results.extend(check_comparison_rule(rule, target))
            else:
                results.extend(check_rule(rule, target))
        return PolicyOutcome(policy=self, results=tuple(results))
