"""Reports: render result objects as one self-contained HTML file, JSON or Markdown.

The report computes nothing; it shows what each result's ``to_dict()`` says and draws its
``plot()``. Every report carries provenance (versions, fingerprints, seeds, parameters, the
policy and its hash) and no timestamp unless one is given, so identical inputs give identical
files. The JSON follows the JSON Schema returned by :func:`report_schema`.
"""

from __future__ import annotations

from fairaudit._provenance import environment, sha256_file
from fairaudit.report._report import REPORT_SCHEMA_VERSION, Report
from fairaudit.report._schema import report_schema, validate_report

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "Report",
    "environment",
    "report_schema",
    "sha256_file",
    "validate_report",
]
