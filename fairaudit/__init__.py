"""fairaudit: audit machine-learning models for unequal treatment of groups.

Group metrics with intervals from one pass over the data, FairML-style dependence audits,
word-embedding bias probes, adversarial debiasing in torch, and self-contained reports with
YAML policies for release checks.

Examples
--------
>>> import fairaudit as fa
>>> isinstance(fa.__version__, str)
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fairaudit import (
    datasets,
    debias,
    embeddings,
    exceptions,
    importance,
    metrics,
    models,
    monitor,
)
from fairaudit._audit import audit
from fairaudit.importance import orthogonal_importance
from fairaudit.metrics import GroupMetrics, group_metrics
from fairaudit.models import WrappedModel, wrap
from fairaudit.policy import Policy
from fairaudit.report import Report

try:
    __version__ = version("fairaudit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "GroupMetrics",
    "Policy",
    "Report",
    "WrappedModel",
    "__version__",
    "audit",
    "datasets",
    "debias",
    "embeddings",
    "exceptions",
    "group_metrics",
    "importance",
    "metrics",
    "models",
    "monitor",
    "orthogonal_importance",
    "wrap",
]
