"""`import fairaudit` stays light: no heavy optional dependency is imported at import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = [
    "torch",
    "matplotlib",
    "shap",
    "jinja2",
    "duckdb",
    "httpx",
    "pyspark",
    "prometheus_client",
    "fairlearn",
    "aif360",
    "tensorflow",
    "httpx",
]


def _imported_after(statement: str) -> set[str]:
    code = (
        f"import sys; {statement}; "
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()
    return set(out.split(","))


def test_import_fairaudit_is_light():
    loaded = _imported_after("import fairaudit")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_import_fairaudit_metrics_is_light():
    pytest.importorskip("fairaudit.metrics")
    loaded = _imported_after("import fairaudit.metrics")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
