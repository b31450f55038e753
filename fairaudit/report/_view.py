"""The report's view model: a report dict -> the rows, tables and highlights a page shows.

Everything shown comes from the results' ``to_dict()``; this module only selects, orders and
formats. The HTML (:mod:`._html`) and Markdown (:mod:`._markdown`) renderers draw it.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from fairaudit.report._svg import _plot_svg

__all__ = ["format_value"]

logger = logging.getLogger("fairaudit.report._render")

_MAX_TABLE_ROWS = 200
_N_HIGHLIGHTS = 8
_HIGHLIGHTS_PER_RESULT = 3
_MAX_GROUP_COLUMNS = 6
_MAX_METRIC_COLUMNS = 6
# A report summarizes: beyond this many groups, the page shows the largest groups and those
# furthest from the overall value, and says where the rest are (the JSON report has them all).
MAX_GROUPS_SHOWN = 40
# describes the data (how often the true label is positive), not how the model treats people
_NOT_MODEL_DISPARITIES = ("count", "base_rate")


def format_value(value: Any) -> str:
    """Format one table cell for people: 3 decimals for rates, thousands separators for counts.

    Examples
    --------
    >>> [format_value(v) for v in (0.30512, 1.0, 10771.0, 12.345, 7, None, True, "Male")]
    ['0.305', '1.000', '10,771', '12.35', '7', '—', 'yes', 'Male']
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        if abs(value) < 10:  # rates, ratios, differences: three decimals, 1.000 included
            return f"{value:.3f}"
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:.4g}"
    if isinstance(value, Mapping | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _interval(lower: Any, upper: Any) -> str | None:
    if lower is None or upper is None:
        return None
    return f"[{format_value(lower)}, {format_value(upper)}]"


def _group_label(group: Any) -> str:
    if isinstance(group, Mapping):
        return " & ".join(str(v) for v in group.values())
    return str(group)


def _generic_table(records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    if not records:
        return None
    columns: list[str] = []
    for record in records:
        for key in record:
            if key not in columns:
                columns.append(key)
    shown = records[:_MAX_TABLE_ROWS]
    rows = [[format_value(r.get(c)) for c in columns] for r in shown]
    numeric = [
        all(isinstance(r.get(c), int | float) or r.get(c) is None for r in shown) for c in columns
    ]
    return {
        "columns": columns,
        "numeric": numeric,
        "rows": rows,
        "truncated": max(0, len(records) - _MAX_TABLE_ROWS),
    }


def _metric_label(section: Mapping[str, Any], metric: str) -> str:
    info = (section.get("metric_info") or {}).get(metric) or {}
    return str(info.get("label") or metric.replace("_", " "))


def _shown_groups(section: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None]:
    """Choose the groups a page lists: all, or the largest and the most distant.

    Ranked by ``count`` (support) and by the distance of the first metric from its overall
    value (the gap); listed in the result's order. Returns the groups and a note, or None.
    """
    groups = list(section.get("groups") or [])
    if len(groups) <= MAX_GROUPS_SHOWN:
        return groups, None
    metrics = [m for m in section.get("metrics") or [] if m != "count"]
    metric = metrics[0] if metrics else None
    overall = (section.get("overall") or {}).get(metric) if metric else None
    counts = [float(g.get("count") or 0) for g in groups]
    by_count = sorted(range(len(groups)), key=lambda i: -counts[i])
    keep = set(by_count[: MAX_GROUPS_SHOWN // 2])
    gap_text = ""
    if metric is not None and isinstance(overall, int | float) and math.isfinite(overall):
        ref = float(overall)

        def gap(i: int) -> float:
            value = (groups[i].get("values") or {}).get(metric)
            if not isinstance(value, int | float) or not math.isfinite(value):
                return -1.0
            return abs(float(value) - ref)

        for i in sorted(range(len(groups)), key=lambda i: (-gap(i), -counts[i])):
            if len(keep) >= MAX_GROUPS_SHOWN:
                break
            keep.add(i)
        gap_text = f" and those furthest from the overall {_metric_label(section, metric)}"
    for i in by_count:  # fill up with the next largest when no gap ranks them
        if len(keep) >= MAX_GROUPS_SHOWN:
            break
        keep.add(i)
    note = (
        f"Showing {len(keep)} of {len(groups):,} groups: the largest{gap_text}. Every group "
        "is in the JSON report (and in the result's to_frame())."
    )
    return [groups[i] for i in sorted(keep)], note


def _groups_table(section: Mapping[str, Any]) -> dict[str, Any] | None:
    """Per-group values with intervals, laid out to fit a printed page.

    Up to ``_MAX_GROUP_COLUMNS`` groups: one row per metric, one column per group. More groups:
    one row per group, metrics split into tables of at most ``_MAX_METRIC_COLUMNS`` columns.
    """
    groups, note = _shown_groups(section)
    metrics = [m for m in section.get("metrics") or [] if m != "count"]
    if not groups or not metrics:
        return None
    features = list(section.get("sensitive_features") or list(groups[0]["group"]))

    def cell(g: Mapping[str, Any], m: str) -> dict[str, Any]:
        lower = g.get("lower") or {}
        upper = g.get("upper") or {}
        return {
            "value": format_value((g.get("values") or {}).get(m)),
            "interval": _interval(lower.get(m), upper.get(m)),
        }

    labels = [_group_label(g["group"]) for g in groups]
    if len(groups) <= _MAX_GROUP_COLUMNS:
        rows = [
            {
                "label": "count",
                "cells": [
                    {"value": format_value(g.get("count")), "interval": None} for g in groups
                ],
            }
        ]
        rows += [
            {"label": _metric_label(section, m), "cells": [cell(g, m) for g in groups]}
            for m in metrics
        ]
        return {
            "layout": "by_metric",
            "header": " & ".join(features),
            "columns": labels,
            "rows": rows,
            "note": note,
        }
    chunks = []
    for start in range(0, len(metrics), _MAX_METRIC_COLUMNS):
        chunk = metrics[start : start + _MAX_METRIC_COLUMNS]
        chunks.append(
            {
                "metrics": [_metric_label(section, m) for m in chunk],
                "rows": [
                    {
                        "labels": [str(g["group"].get(f, "")) for f in features],
                        "count": format_value(g.get("count")),
                        "cells": [cell(g, m) for m in chunk],
                    }
                    for g in groups
                ],
            }
        )
    return {"layout": "by_group", "features": features, "chunks": chunks, "note": note}


_COMPARE_ORDER = {
    ("ratio", "between_groups"): 0,
    ("difference", "between_groups"): 1,
    ("ratio", "reference"): 2,
    ("difference", "reference"): 3,
    ("ratio", "to_overall"): 4,
    ("difference", "to_overall"): 5,
}


def _disparity_column(record: Mapping[str, Any]) -> str:
    compare, method = record.get("compare"), record.get("method")
    if method == "reference":
        return f"{compare} vs {record.get('reference')}"
    if method == "to_overall":
        return f"{compare} to overall"
    return f"{compare} between groups"


def _disparities_table(section: Mapping[str, Any]) -> dict[str, Any] | None:
    records = section.get("disparities")
    if not records:
        return None
    keys: dict[str, tuple[int, str]] = {}
    for r in records:
        name = _disparity_column(r)
        keys.setdefault(name, (_COMPARE_ORDER.get((r.get("compare"), r.get("method")), 9), name))
    columns = sorted(keys, key=lambda k: keys[k])
    by_metric: dict[str, dict[str, Mapping[str, Any]]] = {}
    for r in records:
        if r.get("metric") == "count":
            continue
        by_metric.setdefault(str(r.get("metric")), {})[_disparity_column(r)] = r
    rows = []
    for metric, cells in by_metric.items():
        rows.append(
            {
                "label": _metric_label(section, metric),
                "cells": [
                    {
                        "value": format_value(cells[c].get("value")) if c in cells else "—",
                        "interval": (
                            _interval(cells[c].get("lower"), cells[c].get("upper"))
                            if c in cells
                            else None
                        ),
                    }
                    for c in columns
                ],
            }
        )
    return {"columns": columns, "rows": rows}


def _glossary(sections: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Plain-language explanation of every metric shown, from the results' ``metric_info``."""
    out: dict[str, dict[str, str]] = {}
    for section in sections:
        info = section.get("metric_info") or {}
        for metric in [*(section.get("metrics") or []), *info]:
            entry = info.get(metric)
            if not entry or metric in out:
                continue
            ideal = entry.get("ideal")
            direction = entry.get("direction")
            notes = []
            if isinstance(ideal, int | float):
                notes.append(f"ideal value {ideal:g}")
            if direction in ("higher", "lower"):
                notes.append(f"{direction} is better")
            out[metric] = {
                "label": str(entry.get("label") or metric),
                "description": str(entry.get("description") or ""),
                "formula": str(entry.get("formula") or ""),
                "notes": "; ".join(notes),
                "limitations": str(entry.get("limitations") or ""),
            }
    return list(out.values())


def _highlights(sections: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pick the largest between-group disparities, worst first within each result.

    Results over one sensitive feature come before intersections (whose small groups give
    wide intervals); at most ``_HIGHLIGHTS_PER_RESULT`` per result.
    """
    ordered = sorted(
        (s for s in sections if s.get("disparities")),
        key=lambda s: len(s.get("sensitive_features") or ()),
    )
    items = []
    for section in ordered:
        records = section.get("disparities") or []
        groups = section.get("groups") or []
        features = ", ".join(section.get("sensitive_features") or [])
        ratios = {
            r["metric"]: r
            for r in records
            if r.get("compare") == "ratio" and r.get("method") == "between_groups"
        }
        diffs = {
            r["metric"]: r
            for r in records
            if r.get("compare") == "difference" and r.get("method") == "between_groups"
        }
        found = []
        for metric, ratio in ratios.items():
            if metric in _NOT_MODEL_DISPARITIES or ratio.get("value") is None:
                continue
            diff = diffs.get(metric, {})
            values = [
                (g["values"][metric], _group_label(g["group"]), g.get("count"))
                for g in groups
                if (g.get("values") or {}).get(metric) is not None
            ]
            low = min(values, key=lambda v: v[0]) if values else None
            high = max(values, key=lambda v: v[0]) if values else None
            found.append(
                {
                    "sort": ratio["value"],
                    "feature": features,
                    "metric": _metric_label(section, metric),
                    "ratio": format_value(ratio.get("value")),
                    "ratio_interval": _interval(ratio.get("lower"), ratio.get("upper")),
                    "difference": format_value(diff.get("value")),
                    "difference_interval": _interval(diff.get("lower"), diff.get("upper")),
                    "low": _extreme(low),
                    "high": _extreme(high),
                }
            )
        found.sort(key=lambda item: item["sort"])
        items.extend(found[:_HIGHLIGHTS_PER_RESULT])
    return items[:_N_HIGHLIGHTS]


def _extreme(item: tuple[Any, str, Any] | None) -> str:
    if item is None:
        return "—"
    value, label, count = item
    size = f" (n = {format_value(count)})" if count is not None else ""
    return f"{label}: {format_value(value)}{size}"


def _parameters(parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Parameters exactly as recorded (JSON), since they are for reproducing the result."""
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, sort_keys=True, ensure_ascii=False))
        for k, v in parameters.items()
    ]


def _audited(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """List what was audited: the caller's inputs, then the group-metric settings."""
    rows = [(str(k), format_value(v)) for k, v in (report["provenance"]["inputs"] or {}).items()]
    given = {k for k, _ in rows}
    features = list(
        dict.fromkeys(
            f
            for section in report["sections"]
            if section.get("kind") == "group_metrics"
            for f in section.get("sensitive_features") or []
        )
    )
    for section in report["sections"]:
        if section.get("kind") != "group_metrics":
            continue
        params = section.get("parameters") or {}
        extra = {
            "sensitive features": ", ".join(features),
            "metrics": len(section.get("metrics") or []),
            "bootstrap replicates": params.get("n_boot"),
            "confidence level": (
                f"{params['confidence']:.0%}"
                if isinstance(params.get("confidence"), float)
                else params.get("confidence")
            ),
            "seed": params.get("random_state"),
            "positive label": params.get("pos_label"),
        }
        for key, value in extra.items():
            if key not in given and value not in (None, ""):
                rows.append((key, format_value(value)))
                given.add(key)
    return rows


def _checks(report: Mapping[str, Any]) -> dict[str, Any] | None:
    if not report["checks"]:
        return None
    results = []
    lines = []
    for check in report["checks"]:
        lines.extend(check.get("summary", [])[:1])
        for r in check.get("results", []):
            bounds = []
            if r.get("min") is not None:
                bounds.append(f"≥ {r['min']:g}")
            if r.get("max") is not None:
                bounds.append(f"≤ {r['max']:g}")
            results.append(
                {
                    "status": r["status"],
                    "name": r["name"],
                    "label": r.get("label", ""),
                    "estimate": format_value(r.get("estimate")),
                    "interval": _interval(r.get("lower"), r.get("upper")),
                    "judged": format_value(r.get("value")),
                    "bounds": " and ".join(bounds),
                    "reason": r.get("reason", ""),
                }
            )
    counts = {s: sum(r["status"] == s for r in results) for s in ("pass", "fail", "error")}
    if report["passed"]:
        verdict = f"PASSED: all {len(results)} checks passed"
    else:
        parts = []
        if counts["fail"]:
            parts.append(f"{counts['fail']} of {len(results)} checks failed")
        if counts["error"]:
            parts.append(f"{counts['error']} could not be judged")
        verdict = "FAILED: " + " and ".join(parts)
    policies = [
        {"name": p.get("name"), "source": p.get("source"), "sha256": p.get("sha256")}
        for p in report["provenance"]["policies"]
    ]
    return {
        "passed": bool(report["passed"]),
        "failed": [r for r in results if r["status"] != "pass"],
        "verdict": verdict,
        "lines": lines,
        "results": results,
        "counts": counts,
        "policies": policies,
    }


def _sections_view(
    report: Mapping[str, Any], results: Sequence[Any], *, html: bool
) -> list[dict[str, Any]]:
    out = []
    for i, section in enumerate(report["sections"]):
        groups = _groups_table(section)
        svg, plot_error = (None, None)
        n_groups = len(section.get("groups") or [])
        if html and n_groups > MAX_GROUPS_SHOWN:
            # a bar per group is unreadable (and slow to draw) beyond a few dozen bars
            plot_error = f"No plot of {n_groups:,} groups; the table lists the ones to read."
        elif html and i < len(results):
            svg, plot_error = _plot_svg(results[i], i + 1)
        out.append(
            {
                "anchor": f"result-{i + 1}",
                "title": str(section["title"]),
                "kind": str(section["kind"]),
                "summary": [str(s) for s in section["summary"]],
                "parameters": _parameters(section["parameters"]),
                "groups": groups,
                "disparities": _disparities_table(section),
                "table": None if groups else _generic_table(section["table"]),
                "svg": svg,
                "plot_error": plot_error,
            }
        )
    return out
