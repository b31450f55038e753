"""The Report: collects result objects and renders them as HTML, JSON or Markdown."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fairaudit._files import write_text_atomic
from fairaudit._provenance import environment
from fairaudit._results import json_safe

__all__ = ["REPORT_SCHEMA_VERSION", "Report"]

logger = logging.getLogger(__name__)

REPORT_SCHEMA_VERSION = 1
_FORMATS = {".html": "html", ".htm": "html", ".json": "json", ".md": "markdown"}


def _section_dict(result: Any, title: str | None) -> dict[str, Any]:
    to_dict = getattr(result, "to_dict", None)
    if not callable(to_dict):
        raise TypeError(
            "Report.add() takes a fairaudit result (an object with to_dict(), e.g. from "
            f"fairaudit.group_metrics or Policy.check), got {type(result).__name__}."
        )
    data = json_safe(to_dict())
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise TypeError(
            f"{type(result).__name__}.to_dict() must return a dict with a 'kind' key (the "
            "common result keys of fairaudit), got "
            f"{sorted(data) if isinstance(data, dict) else type(data).__name__}."
        )
    section = dict(data)
    section.setdefault("schema_version", 1)
    section.setdefault("title", data["kind"].replace("_", " ").capitalize())
    section.setdefault("summary", [])
    section.setdefault("parameters", {})
    section.setdefault("table", [])
    if title is not None:
        section["title"] = title
    return section


class Report:
    """A self-contained audit report built from fairaudit result objects.

    Add results (group metrics, dependence audits, embedding probes, debiasing comparisons,
    policy outcomes) with :meth:`add`; render with :meth:`to_html`, :meth:`to_json`,
    :meth:`to_markdown` or :meth:`save`. The report computes nothing: it shows what each
    result's ``to_dict()`` says and draws its ``plot()``.

    Parameters
    ----------
    title : str, default "Fairness audit"
        Heading of the report.
    description : str, optional
        A paragraph under the heading (what model, what purpose).
    inputs : mapping, optional
        What was audited, shown first and stored in the provenance: e.g. ``{"data file":
        "scores.csv", "data SHA-256": "...", "rows": 16281, "target": "income"}``. Values must
        be JSON-safe scalars or lists.
    timestamp : str, optional
        Shown and stored only when given, so that identical inputs give byte-identical files.
    plots : bool, default True
        Draw each result's ``plot()`` as inline SVG in the HTML (needs matplotlib).

    Notes
    -----
    The HTML is one file: inline CSS, plots as inline SVG, no script, font or image from the
    network, readable when printed. It is rendered by Jinja2 with autoescaping, so group and
    feature names (user data) never become markup.

    Examples
    --------
    >>> import fairaudit as fa
    >>> report = fa.Report(title="Credit model audit", inputs={"rows": 4})
    >>> html = report.to_html()
    >>> html.startswith("<!DOCTYPE html>") and "Credit model audit" in html
    True
    >>> report.to_dict()["schema_version"]
    1
    """

    def __init__(
        self,
        title: str = "Fairness audit",
        *,
        description: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        timestamp: str | None = None,
        plots: bool = True,
    ) -> None:
        if not isinstance(title, str):
            raise TypeError(f"title must be a string, got {type(title).__name__}.")
        if not title.strip():
            raise ValueError("title must not be empty; pass e.g. title='Credit model audit'.")
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a string, got {type(description).__name__}.")
        if inputs is not None and not isinstance(inputs, Mapping):
            raise TypeError(f"inputs must be a mapping, got {type(inputs).__name__}.")
        if timestamp is not None and not isinstance(timestamp, str):
            raise TypeError(
                f"timestamp must be a string (e.g. an ISO date), got {type(timestamp).__name__}."
            )
        self.title = title
        self.description = description
        self.inputs: dict[str, Any] = json_safe(dict(inputs or {}))
        self.timestamp = timestamp
        self.plots = bool(plots)
        self._results: list[Any] = []
        self._sections: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        kinds = ", ".join(s["kind"] for s in self._sections) or "empty"
        return f"Report(title={self.title!r}, results=[{kinds}])"

    @property
    def results(self) -> tuple[Any, ...]:
        """The result objects added so far, in order."""
        return tuple(self._results)

    def add(self, result: Any, *, title: str | None = None) -> Report:
        """Add a result; returns the report so that calls chain.

        Parameters
        ----------
        result : fairaudit result
            Any object with ``to_dict()`` returning the common result keys (``kind``,
            ``title``, ``summary``, ``parameters``, ``table``) and optionally ``plot(ax=)``.
            A :class:`~fairaudit.policy.PolicyOutcome` goes to the checks at the top.
        title : str, optional
            Override the result's own title.

        Returns
        -------
        Report
            ``self``.
        """
        section = _section_dict(result, title)
        self._results.append(result)
        self._sections.append(section)
        return self

    # ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-safe dict (validated by the package's JSON Schema).

        Returns
        -------
        dict
            ``kind`` ("report"), ``schema_version``, ``title``, ``description``,
            ``timestamp`` (None unless given), ``passed`` (None without policy checks, else
            whether every check passed), ``summary`` (the check verdicts, then each result's
            first findings), ``checks`` (the ``to_dict()`` of each policy outcome),
            ``sections`` (the ``to_dict()`` of every other result), ``provenance``
            (``environment`` versions, ``inputs``, ``policies`` with their SHA-256, and each
            result's own provenance under ``results``).
        """
        # copies, so that callers may edit the dict without changing the report
        stored = _copy_json(self._sections)
        checks = [s for s in stored if s["kind"] == "policy_outcome"]
        sections = [s for s in stored if s["kind"] != "policy_outcome"]
        summary: list[str] = []
        for check in checks:
            summary.extend(check["summary"][:1])
        for section in sections:
            summary.extend(str(line) for line in section["summary"][:3])
        passed = None if not checks else all(bool(c.get("passed")) for c in checks)
        policies = [
            {
                "name": c["parameters"].get("name"),
                "source": c["parameters"].get("source"),
                "sha256": c["parameters"].get("sha256"),
            }
            for c in checks
        ]
        provenance = {
            "environment": environment(),
            "inputs": copy.deepcopy(self.inputs),
            "policies": policies,
            "results": [
                {"title": s["title"], "kind": s["kind"], "provenance": s.get("provenance")}
                for s in sections
            ],
        }
        return {
            "kind": "report",
            "schema_version": REPORT_SCHEMA_VERSION,
            "title": self.title,
            "description": self.description,
            "timestamp": self.timestamp,
            "passed": passed,
            "summary": summary,
            "checks": checks,
            "sections": sections,
            "provenance": provenance,
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as indented JSON with sorted keys (stable across runs)."""
        return (
            json.dumps(
                self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
            )
            + "\n"
        )

    def to_html(self) -> str:
        """Return the report as one self-contained HTML document.

        Returns
        -------
        str
            HTML5 with inline CSS and inline SVG plots; no scripts, no network references.
        """
        from fairaudit.report._html import render_html

        return render_html(self.to_dict(), self._plot_results())

    def to_markdown(self) -> str:
        """Return the report as Markdown (summary, checks, disparities, tables, provenance)."""
        from fairaudit.report._markdown import render_markdown

        return render_markdown(self.to_dict())

    def _plot_results(self) -> list[Any]:
        """Return the result objects aligned with ``to_dict()["sections"]`` (None: no plot)."""
        return [
            (r if self.plots else None)
            for r, s in zip(self._results, self._sections, strict=True)
            if s["kind"] != "policy_outcome"
        ]

    def save(
        self, path: str | Path, *, format: str | None = None, follow_symlinks: bool = False
    ) -> Path:
        """Write the report; the format follows the suffix (.html, .htm, .json, .md).

        The file is written atomically (a temporary file in the same directory, renamed over
        ``path`` once complete), and never through a symbolic link unless asked.

        Parameters
        ----------
        path : str or pathlib.Path
            Output file; its parent directory is created if missing.
        format : {"html", "json", "markdown"}, optional
            Overrides the suffix.
        follow_symlinks : bool, default False
            When ``path`` is a symbolic link: False raises ``ValueError``; True writes to the
            link's target.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        path = Path(path)
        fmt = format or _FORMATS.get(path.suffix.lower())
        if fmt not in ("html", "json", "markdown"):
            raise ValueError(
                f"cannot tell the report format from {path.name!r}; use a .html, .json or .md "
                "suffix, or pass format='html' | 'json' | 'markdown'."
            )
        if fmt == "html":
            text = self.to_html()
        elif fmt == "json":
            text = self.to_json()
        else:
            text = self.to_markdown()
        write_text_atomic(path, text, follow_symlinks=follow_symlinks)
        logger.info("wrote %s report to %s", fmt, path)
        return path


def _copy_json(value: Any) -> Any:
    """Copy JSON-safe data deeply by a JSON round trip (C speed), else by ``copy.deepcopy``.

    For a report of 10k groups the round trip takes about a second, ``deepcopy`` 15 s.
    """
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        return copy.deepcopy(value)
    copied = json.loads(text)
    return copied if copied == value or _has_nan(value) else copy.deepcopy(value)


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return value != value
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nan(v) for v in value)
    return False
