"""Markdown: the view model as a Markdown document (tables escaped, no HTML)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fairaudit.report._view import (
    _audited,
    _checks,
    _glossary,
    _highlights,
    _sections_view,
)

__all__ = ["render_markdown"]


# Markdown punctuation that opens a construct inside a line: links and images ([...](...),
# ![...](...)), emphasis, code spans, strikethrough, table cells. A backslash before any ASCII
# punctuation is CommonMark's escape, rendered as the character itself.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!~|{}])")
# C0 controls but tab, DEL and C1 controls: invisible, and some renderers choke on them
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _md(text: Any) -> str:
    """Escape user text for Markdown: no HTML, no links or images, no markup, one line.

    A group named ``![x](http://host/pixel.png)`` would otherwise load a remote image when the
    report is viewed, and ``[click](javascript:...)`` would be a live link.
    """
    s = _CONTROL.sub("\ufffd", str(text).replace("\r\n", " ").replace("\r", " "))
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s).replace("\n", " ")


def _md_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md(c) for c in columns) + " |"]
    lines.append("|" + "|".join("---" for _ in columns) + "|")
    lines.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in rows)
    return lines


def _with_interval(cell: Mapping[str, Any]) -> str:
    return cell["value"] + (f" {cell['interval']}" if cell.get("interval") else "")


def render_markdown(report: Mapping[str, Any]) -> str:
    """Render a report dict as Markdown (no plots).

    Parameters
    ----------
    report : dict
        ``Report.to_dict()``.

    Returns
    -------
    str
        The Markdown document.
    """
    out = [f"# {_md(report['title'])}", ""]
    if report["description"]:
        out += [_md(report["description"]), ""]
    if report["timestamp"]:
        out += [f"Generated {_md(report['timestamp'])}.", ""]
    audited = _audited(report)
    if audited:
        out += ["## What was audited", ""]
        out += [*_md_table(["", ""], audited), ""]
    checks = _checks(report)
    if checks:
        out += ["## Checks", "", f"**{checks['verdict']}**", ""]
        out += [
            *_md_table(
                ["status", "check", "rule", "estimate", "interval", "judged", "bound", "reason"],
                [
                    [
                        r["status"].upper(),
                        r["name"],
                        r["label"],
                        r["estimate"],
                        r["interval"] or "—",
                        r["judged"],
                        r["bounds"],
                        r["reason"],
                    ]
                    for r in checks["results"]
                ],
            ),
            "",
        ]
    highlights = _highlights(report["sections"])
    if highlights:
        out += ["## Largest disparities", ""]
        out += [
            *_md_table(
                ["feature", "metric", "ratio", "difference", "lowest", "highest"],
                [
                    [
                        h["feature"],
                        h["metric"],
                        h["ratio"] + (f" {h['ratio_interval']}" if h["ratio_interval"] else ""),
                        h["difference"]
                        + (f" {h['difference_interval']}" if h["difference_interval"] else ""),
                        h["low"],
                        h["high"],
                    ]
                    for h in highlights
                ],
            ),
            "",
        ]
    for s in _sections_view(report, [], html=False):
        out += [f"## {_md(s['title'])}", ""]
        out += [f"- {_md(line)}" for line in s["summary"]]
        if s["summary"]:
            out.append("")
        g = s["groups"]
        if g and g.get("note"):
            out += [g["note"], ""]
        if g and g["layout"] == "by_metric":
            out += [
                *_md_table(
                    [g["header"], *g["columns"]],
                    [
                        [row["label"], *(_with_interval(c) for c in row["cells"])]
                        for row in g["rows"]
                    ],
                ),
                "",
            ]
        elif g:
            for chunk in g["chunks"]:
                out += [
                    *_md_table(
                        [*g["features"], "count", *chunk["metrics"]],
                        [
                            [
                                *row["labels"],
                                row["count"],
                                *(_with_interval(c) for c in row["cells"]),
                            ]
                            for row in chunk["rows"]
                        ],
                    ),
                    "",
                ]
        if s["disparities"]:
            d = s["disparities"]
            out += [
                *_md_table(
                    ["metric", *d["columns"]],
                    [
                        [row["label"], *(_with_interval(c) for c in row["cells"])]
                        for row in d["rows"]
                    ],
                ),
                "",
            ]
        if s["table"]:
            t = s["table"]
            out += [*_md_table(t["columns"], t["rows"]), ""]
            if t["truncated"]:
                out += [f"({t['truncated']} more rows in the JSON report.)", ""]
        if s["parameters"]:
            out += ["Parameters:", "", *_md_table(["parameter", "value"], s["parameters"]), ""]
    glossary = _glossary(report["sections"])
    if glossary:
        out += ["## What the metrics mean", ""]
        for e in glossary:
            out.append(
                f"- **{_md(e['label'])}**: {_md(e['description'])}"
                + (f" ({_md(e['notes'])})" if e["notes"] else "")
                + (f" Does not capture: {_md(e['limitations'])}" if e["limitations"] else "")
            )
        out.append("")
    env = report["provenance"]["environment"]
    out += ["## Provenance", "", f"fairaudit {env['fairaudit']}, {env['python']}.", ""]
    out += [
        "```json",
        json.dumps(report["provenance"], indent=2, sort_keys=True, ensure_ascii=False),
        "```",
        "",
    ]
    out += [
        "This report checks thresholds chosen by its author; it does not certify "
        "compliance with any law.",
        "",
    ]
    return "\n".join(out)
