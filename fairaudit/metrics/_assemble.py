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
from fairaudit.metrics._intervals import (
    BOOTSTRAP,
    JEFFREYS,
    WILSON,
    GroupIntervals,
    adjusted_confidence,
)
from fairaudit.metrics._registry import METRIC_REGISTRY
from fairaudit.metrics._uncertainty import bootstrap_bounds, effective_counts

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
    intervals = None
    ci = None
    if ci_method is not None:
        intervals = _intervals(
            table, pooled, columns, ci_method, n_boot, confidence, random_state, stratify
        )
        lower, upper, _, _ = intervals.bounds(confidence)
        ci = _ci_frame(by_group.index, names, lower, upper)
        if intervals.boot is not None and intervals.boot.notes:
            provenance = {**provenance, "notes": list(intervals.boot.notes)}
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
        _intervals=intervals,
    )


def _intervals(
    table: CountTable,
    pooled: CountTable,
    columns: list[Column],
    ci_method: str,
    n_boot: int,
    confidence: float,
    random_state: Any,
    stratify: bool,
) -> GroupIntervals:
    """Collect the counts (rates) and bootstrap bounds (scores, regression) of every interval."""
    rate_method = WILSON if ci_method == "wilson" else JEFFREYS
    g, m = table.n_groups, len(columns)
    x, n = np.full((g, m), np.nan), np.full((g, m), np.nan)
    x2, n2 = np.full((g, m), np.nan), np.full((g, m), np.nan)
    ox, on = np.full(m, np.nan), np.full(m, np.nan)
    ox2, on2 = np.full(m, np.nan), np.full(m, np.nan)
    methods: list[str] = []
    for j, col in enumerate(columns):
        definition = METRIC_REGISTRY[col.metric]
        if definition.is_rate:
            x[:, j], n[:, j] = effective_counts(table, col.metric, col.class_index)
            ox[j], on[j] = (v[0] for v in effective_counts(pooled, col.metric, col.class_index))
            methods.append(rate_method)
        elif col.metric == "balanced_accuracy":
            x[:, j], n[:, j] = effective_counts(table, "true_positive_rate", col.class_index)
            x2[:, j], n2[:, j] = effective_counts(table, "true_negative_rate", col.class_index)
            ox[j], on[j] = (
                v[0] for v in effective_counts(pooled, "true_positive_rate", col.class_index)
            )
            ox2[j], on2[j] = (
                v[0] for v in effective_counts(pooled, "true_negative_rate", col.class_index)
            )
            methods.append(rate_method)
        elif ci_method == "bootstrap" and (
            definition.task in ("score", "regression") or definition.numerator is not None
        ):
            # scores, regression, and ratios of counts that are not proportions
            methods.append(BOOTSTRAP)
        else:
            methods.append("none")
    boot = None
    if BOOTSTRAP in methods:
        levels = tuple(sorted({confidence, float(adjusted_confidence(confidence, g + 1))}))
        boot = bootstrap_bounds(
            table,
            pooled,
            columns,
            n_boot=n_boot,
            rng=as_generator(random_state),
            levels=levels,
            stratify=stratify,
        )
    return GroupIntervals(
        rate_method=rate_method,
        methods=tuple(methods),
        value_ranges=tuple(METRIC_REGISTRY[c.metric].value_range for c in columns),
        successes=x,
        trials=n,
        overall_successes=ox,
        overall_trials=on,
        successes2=x2,
        trials2=n2,
        overall_successes2=ox2,
        overall_trials2=on2,
        boot=boot,
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
