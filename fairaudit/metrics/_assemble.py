"""From a count table to the fields of a ``GroupMetrics``: values, intervals and warnings.

Shared by the builder (:func:`fairaudit.metrics.group_metrics`) and by
``GroupMetrics.marginal`` (a re-aggregated table), so the result class never imports the
builder.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._validation import as_generator, format_values
from fairaudit.exceptions import SmallGroupWarning, UndefinedMetricWarning
from fairaudit.metrics._compute import Column, table_values
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._registry import METRIC_REGISTRY
from fairaudit.metrics._uncertainty import (
    bootstrap,
    effective_counts,
    percentile_interval,
    wilson_interval,
)

__all__ = ["build_fields", "label_text"]


def _label_text(label: Any) -> str:
    if isinstance(label, tuple):
        return " & ".join(str(v) for v in label)
    return str(label)


def _warn_undefined(values: np.ndarray, columns: list[Column], index: pd.Index) -> None:
    for j, col in enumerate(columns):
        bad = np.flatnonzero(np.isnan(values[:, j]))
        if bad.size:
            labels = [_label_text(index[b]) for b in bad[:6]]
            warnings.warn(
                f"{col.name} is undefined (zero denominator) for {bad.size} group(s) "
                f"{format_values(labels + [''] * (bad.size - len(labels)))}; its value there "
                "is NaN.",
                UndefinedMetricWarning,
                stacklevel=4,
            )


def _build(
    table: CountTable,
    columns: list[Column],
    *,
    pos_label: Any,
    n_boot: int,
    confidence: float,
    random_state: Any,
    reference_group: Any,
    min_group_size: int,
    ci_method: str | None,
    provenance: dict[str, Any],
    stratify: bool,
) -> dict[str, Any]:
    """Compute every field of a GroupMetrics from a count table (values, intervals, warnings)."""
    names = [c.name for c in columns]
    values = table_values(table, columns)
    pooled = table.pooled()
    overall_values = table_values(pooled, columns)[0]
    rows = table.group_rows
    by_group = pd.DataFrame(values, index=table.index.copy(), columns=names)
    by_group["count"] = rows
    overall = pd.Series([*overall_values, int(rows.sum())], index=[*names, "count"], dtype=object)
    overall = overall.astype(float)
    small = np.flatnonzero(rows < min_group_size)
    if small.size:
        shown = [f"{_label_text(table.index[i])} ({rows[i]})" for i in small[:6]]
        warnings.warn(
            f"{small.size} group(s) have fewer than min_group_size={min_group_size} rows: "
            f"{format_values(shown + [''] * (small.size - len(shown)))}; their estimates "
            "and intervals are unreliable (merge groups, or lower min_group_size to silence).",
            SmallGroupWarning,
            stacklevel=3,
        )
    _warn_undefined(values, columns, table.index)
    if table.n_groups < 2:
        warnings.warn(
            "there is a single group; per-group values are reported, but differences and "
            "ratios between groups are undefined (NaN).",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    replicates = None
    ci = None
    if ci_method == "bootstrap":
        rng = as_generator(random_state)
        replicates = bootstrap(table, pooled, columns, n_boot=n_boot, rng=rng, stratify=stratify)
        lower, upper = percentile_interval(replicates.groups, confidence)
        ci = _ci_frame(by_group.index, names, lower, upper)
        if replicates.notes:
            provenance = {**provenance, "notes": list(replicates.notes)}
    elif ci_method == "wilson":
        lower = np.full(values.shape, np.nan)
        upper = np.full(values.shape, np.nan)
        for j, col in enumerate(columns):
            if METRIC_REGISTRY[col.metric].is_rate:
                x, n = effective_counts(table, col.metric, col.class_index)
                lower[:, j], upper[:, j] = wilson_interval(x, n, confidence)
        ci = _ci_frame(by_group.index, names, lower, upper)
    return dict(
        by_group=by_group,
        overall=overall,
        ci=ci,
        metrics=tuple(names),
        sensitive_feature_names=table.feature_names,
        pos_label=pos_label,
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state if isinstance(random_state, int | None) else None,
        reference_group=reference_group,
        min_group_size=min_group_size,
        provenance=provenance,
        ci_method=ci_method,
        task=table.task,
        _table=table,
        _columns=tuple(columns),
        _replicates=replicates,
    )


def _ci_frame(
    index: pd.Index, names: list[str], lower: np.ndarray, upper: np.ndarray
) -> pd.DataFrame:
    m = len(names)
    data = np.empty((lower.shape[0], 2 * m))
    data[:, 0::2] = lower
    data[:, 1::2] = upper
    columns = pd.MultiIndex(
        levels=[pd.Index(names, dtype=object), pd.Index(["lower", "upper"], dtype=object)],  # type: ignore[list-item]
        codes=[list(np.repeat(np.arange(m), 2)), [0, 1] * m],
        names=["metric", "bound"],
    )
    return pd.DataFrame(data, index=index.copy(), columns=columns)


build_fields = _build
label_text = _label_text
