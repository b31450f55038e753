"""HTML: the view model through the Jinja2 template, one self-contained page.

The HTML goes through Jinja2 with autoescaping on; the only markup that bypasses it is the SVG
that matplotlib writes (which escapes text itself).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from fairaudit._optional import import_optional
from fairaudit._resources import package_file
from fairaudit.report._view import (
    _audited,
    _checks,
    _glossary,
    _highlights,
    _sections_view,
)

__all__ = ["render_html"]


def _template_source(name: str) -> str | None:
    """Read a template shipped in ``fairaudit/report/templates`` (None when there is none)."""
    path = package_file("report", "templates", name)
    return path.read_text(encoding="utf-8") if path.is_file() else None


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    """Build the Jinja2 environment once (compiling the template takes tenths of a second)."""
    jinja2 = import_optional("jinja2", purpose="Report.to_html()")
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env, jinja2


def render_html(report: Mapping[str, Any], results: Sequence[Any]) -> str:
    """Render a report dict as a self-contained HTML page.

    Parameters
    ----------
    report : dict
        ``Report.to_dict()``.
    results : sequence
        The result objects of ``report["sections"]`` in the same order (None for no plot).

    Returns
    -------
    str
        The HTML document.
    """
    env, jinja2 = _environment()
    sections = _sections_view(report, results, html=True)
    for s in sections:
        if s["svg"] is not None:
            s["svg"] = jinja2.utils.markupsafe.Markup(s["svg"])
    provenance = report["provenance"]
    context = {
        "title": report["title"],
        "description": report["description"],
        "timestamp": report["timestamp"],
        "audited": _audited(report),
        "checks": _checks(report),
        "highlights": _highlights(report["sections"]),
        "findings": [
            {"title": s["title"], "anchor": s["anchor"], "lines": s["summary"][:3]}
            for s in sections
            if s["summary"]
        ],
        "sections": sections,
        "glossary": _glossary(report["sections"]),
        "environment": provenance["environment"],
        "provenance_json": json.dumps(
            {
                "inputs": provenance["inputs"],
                "policies": provenance["policies"],
                "results": provenance["results"],
            },
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        ),
        "css": env.loader.get_source(env, "report.css")[0],
    }
    return env.get_template("report.html.j2").render(**context)
