"""The JSON Schema of the report JSON, shipped in the package."""

from __future__ import annotations

import json
from typing import Any

from fairaudit._optional import import_optional
from fairaudit._resources import package_file

__all__ = ["report_schema", "validate_report"]


def report_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) that every report JSON follows.

    Returns
    -------
    dict
        The schema, read from ``fairaudit/report/schema/report.schema.json``.

    Examples
    --------
    >>> report_schema()["properties"]["schema_version"]
    {'const': 1}
    """
    text = package_file("report", "schema", "report.schema.json").read_text("utf-8")
    return json.loads(text)


def validate_report(data: Any) -> None:
    """Validate a report dict (``Report.to_dict()`` or a loaded JSON file) against the schema.

    Parameters
    ----------
    data : dict
        The report as JSON-safe Python objects.

    Raises
    ------
    jsonschema.ValidationError
        The first violation, with the path to the offending value.
    ImportError
        jsonschema is not installed.

    Examples
    --------
    >>> import fairaudit as fa
    >>> validate_report(fa.Report(title="empty").to_dict())
    """
    jsonschema = import_optional("jsonschema", purpose="validate_report()")
    jsonschema.Draft202012Validator(report_schema()).validate(data)
