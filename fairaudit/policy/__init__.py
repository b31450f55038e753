"""YAML policies: explicit, versioned thresholds on group metrics, checked rule by rule.

See :class:`Policy` for the format. A policy checks thresholds its author wrote down; it does
not certify compliance with any law, and fairaudit imposes no default threshold.

Examples
--------
>>> from fairaudit.policy import Policy
>>> Policy.from_yaml_text('''
... version: 1
... rules:
...   - {id: four-fifths, metric: selection_rate, compare: ratio, min: 0.8}
... ''').rules[0].label
'selection_rate ratio >= 0.8'
"""

from __future__ import annotations

from fairaudit.policy._check import RuleResult
from fairaudit.policy._outcome import PolicyOutcome
from fairaudit.policy._policy import Policy
from fairaudit.policy._rules import Rule

__all__ = ["Policy", "PolicyOutcome", "Rule", "RuleResult"]
