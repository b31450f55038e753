"""The outcome of a policy check: reasons, a table, a plot and JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, json_safe
from fairaudit.policy._check import RuleResult

# characters XML 1.0 cannot hold at all (even as &#...;): C0 controls but tab, newline and
# carriage return, lone surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(root: ET.Element) -> None:
    """Replace characters XML cannot hold by a visible backslash-x code, in texts and attributes.

    A group or rule named with an ESC, NUL or form feed would otherwise make the JUnit file
    unparseable, and the CI step that reads it would fail without saying why.
    """

    def clean(text: str) -> str:
        return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)

    for element in root.iter():
        if element.text:
            element.text = clean(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = clean(value)


if TYPE_CHECKING:  # pragma: no cover - the policy module imports this one, not the reverse
    from fairaudit.policy._policy import Policy

__all__ = ["PolicyOutcome"]


# --------------------------------------------------------------------------------------------
# the outcome
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyOutcome(ResultMixin):
    """The result of :meth:`Policy.check`: one :class:`RuleResult` per rule and feature.

    Attributes
    ----------
    policy : Policy
        The policy that was checked.
    results : tuple of RuleResult
        In rule order; a rule without ``sensitive_feature`` has one result per feature.
    """

    policy: Policy
    results: tuple[RuleResult, ...]

    @property
    def passed(self) -> bool:
        """True when every rule passed (an un-judgeable rule counts as not passed)."""
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[RuleResult, ...]:
        """The results with status ``"fail"`` or ``"error"``."""
        return tuple(r for r in self.results if not r.passed)

    def summary(self) -> list[str]:
        """Plain-language lines: the verdict first, then each failed rule with its reason."""
        n = len(self.results)
        failed = [r for r in self.results if r.status == "fail"]
        errors = [r for r in self.results if r.status == "error"]
        if self.passed:
            head = f"Policy {self.policy.name!r}: all {n} checks passed."
        else:
            parts = []
            if failed:
                parts.append(f"{len(failed)} of {n} checks failed")
            if errors:
                parts.append(f"{len(errors)} could not be judged")
            head = f"Policy {self.policy.name!r}: {' and '.join(parts)}."
        lines = [head]
        for r in self.failures:
            lines.append(f"{r.status.upper()} {r.name} ({r.rule.label}): {r.reason}")
        return lines

    def to_frame(self) -> pd.DataFrame:
        """One row per rule result.

        Returns
        -------
        pandas.DataFrame
            Columns ``rule, feature, metric, compare, judge, min, max, reference, status,
            value, estimate, lower, upper, worst_group, reason``; ``feature`` joins several
            features with ``" x "``.
        """
        records = []
        for r in self.results:
            d = r.to_dict()
            records.append(
                {
                    "rule": r.rule.id,
                    "feature": " x ".join(r.feature),
                    "metric": r.rule.metric,
                    "compare": r.rule.compare,
                    "judge": r.rule.judge,
                    "min": r.rule.min,
                    "max": r.rule.max,
                    "reference": d["reference"],
                    "status": r.status,
                    "value": r.value,
                    "estimate": r.estimate,
                    "lower": r.lower,
                    "upper": r.upper,
                    "worst_group": r.worst_group,
                    "reason": r.reason,
                }
            )
        columns = [
            "rule", "feature", "metric", "compare", "judge", "min", "max", "reference",
            "status", "value", "estimate", "lower", "upper", "worst_group", "reason",
        ]  # fmt: skip
        return pd.DataFrame.from_records(records, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome with the common result keys (``kind: "policy_outcome"``).

        Returns
        -------
        dict
            ``kind, schema_version, title, summary, parameters`` (the normalized policy with
            its SHA-256), ``table`` (records of :meth:`to_frame`), ``passed``, ``counts``
            (``pass``/``fail``/``error``), ``results`` (each :meth:`RuleResult.to_dict`).
        """
        counts = {s: sum(r.status == s for r in self.results) for s in ("pass", "fail", "error")}
        return json_safe(
            {
                "kind": "policy_outcome",
                "schema_version": 1,
                "title": f"Policy checks: {self.policy.name}",
                "summary": self.summary(),
                "parameters": self.policy.to_dict(),
                "table": self.to_frame().to_dict(orient="records"),
                "passed": self.passed,
                "counts": counts,
                "results": [r.to_dict() for r in self.results],
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Judged value per rule against its bounds (a dot per rule, bars for intervals)."""
        from fairaudit._results import get_axes, plot_text

        ax = get_axes(ax)
        names = [r.name for r in self.results]
        ys = np.arange(len(names))[::-1]
        for y, r in zip(ys, self.results, strict=True):
            color = {"pass": "#2e7d32", "fail": "#c62828", "error": "#777777"}[r.status]
            if r.lower is not None and r.upper is not None:
                ax.plot([r.lower, r.upper], [y, y], color=color, lw=2)
            if r.estimate is not None:
                ax.plot([r.estimate], [y], "o", color=color)
            for bound in (r.rule.min, r.rule.max):
                if bound is not None:
                    ax.plot([bound, bound], [y - 0.35, y + 0.35], color="black", lw=1)
        ax.set_yticks(ys)
        ax.set_yticklabels([plot_text(n) for n in names])
        ax.set_xlabel("value (black ticks: bounds)")
        ax.set_title(plot_text(f"Policy {self.policy.name}"))
        return ax

    def to_junit(self) -> str:
        """Return the outcome as JUnit XML, one test case per rule and feature.

        Failed rules are ``<failure>``; rules that could not be judged are ``<error>``. CI
        systems (GitHub Actions test reporters, GitLab, Jenkins) display the file.

        Returns
        -------
        str
            The XML document (UTF-8 declaration, no timestamps, so identical inputs give
            identical files).
        """
        counts = {s: sum(r.status == s for r in self.results) for s in ("fail", "error")}
        suites = ET.Element(
            "testsuites",
            name="fairaudit",
            tests=str(len(self.results)),
            failures=str(counts["fail"]),
            errors=str(counts["error"]),
        )
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=self.policy.name,
            tests=str(len(self.results)),
            failures=str(counts["fail"]),
            errors=str(counts["error"]),
            skipped="0",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="policy_sha256", value=self.policy.sha256)
        if self.policy.source:
            ET.SubElement(props, "property", name="policy_source", value=self.policy.source)
        for r in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_junit_classname(self.policy.name),
                name=f"{r.name}: {r.rule.label}",
            )
            if r.status == "fail":
                node = ET.SubElement(case, "failure", message=r.reason, type="PolicyViolation")
                node.text = r.reason
            elif r.status == "error":
                node = ET.SubElement(case, "error", message=r.reason, type="PolicyNotJudged")
                node.text = r.reason
            else:
                out = ET.SubElement(case, "system-out")
                out.text = r.reason
        _xml_safe(suites)
        ET.indent(suites)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(suites, encoding="unicode")
            + "\n"
        )


def _junit_classname(policy_name: str) -> str:
    """``fairaudit.policy.<name>`` with the name made a dotted-path segment.

    JUnit reporters split ``classname`` on dots into packages and classes and some break on
    spaces: every run of characters other than letters, digits, ``_`` and ``-`` becomes one
    ``_`` (``"four-fifths rule (v2)"`` -> ``four-fifths_rule_v2``).
    """
    segment = re.sub(r"[^A-Za-z0-9_-]+", "_", policy_name).strip("_") or "policy"
    return f"fairaudit.policy.{segment}"
