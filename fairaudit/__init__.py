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

import importlib as _importlib
import typing as _typing

from fairaudit import (
    datasets,
    embeddings,
    exceptions,
    importance,
    metrics,
    models,
    monitor,
)
from fairaudit._audit import audit
from fairaudit._compare import ComparisonResult, compare, compare_predictions
from fairaudit._flip import FlipTestResult, flip_test
from fairaudit._version import __version__
from fairaudit.importance import orthogonal_importance
from fairaudit.metrics import DataBias, GroupMetrics, data_bias, group_metrics
from fairaudit.models import WrappedModel, wrap
from fairaudit.policy import Policy
from fairaudit.report import Report

if _typing.TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from fairaudit import debias

# Subpackages loaded on first access (PEP 562), so that ``import fairaudit`` (and the
# command line) does not pay for what they import: debias subclasses scikit-learn's estimators.
_LAZY_SUBPACKAGES = ("debias",)


def __getattr__(name: str) -> _typing.Any:
    if name in _LAZY_SUBPACKAGES:
        module = _importlib.import_module(f"fairaudit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'fairaudit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "ComparisonResult",
    "DataBias",
    "FlipTestResult",
    "GroupMetrics",
    "Policy",
    "Report",
    "WrappedModel",
    "__version__",
    "audit",
    "compare",
    "compare_predictions",
    "data_bias",
    "datasets",
    "debias",
    "embeddings",
    "exceptions",
    "flip_test",
    "group_metrics",
    "importance",
    "metrics",
    "models",
    "monitor",
    "orthogonal_importance",
    "wrap",
]
