"""``group_metrics``: check the inputs, encode the groups, count, and build a ``GroupMetrics``."""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np

from fairaudit._provenance import core_versions
from fairaudit._validation import (
    NOT_GIVEN,
    check_confidence,
    check_min_group_size,
    check_n_boot,
    check_random_state,
)
from fairaudit.exceptions import DataError
from fairaudit.metrics._assemble import _build
from fairaudit.metrics._compute import Column
from fairaudit.metrics._count_table import numpy_table
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._registry import DEFAULT_METRICS, get_metric
from fairaudit.metrics._result import GroupMetrics

__all__ = ["group_metrics"]

logger = logging.getLogger(__name__)


def _resolve_columns(
    metrics: Any, task: str, has_scores: bool, classes: list[Any] | None, scores_01: bool
) -> list[Column]:
    if metrics is None:
        names = list(DEFAULT_METRICS["regression" if task == "regression" else "binary"])
        if has_scores:
            names += ["roc_auc"] + (["brier_score", "calibration_error"] if scores_01 else [])
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        names = list(metrics)
        if not names:
            raise DataError("metrics is empty; pass None for the defaults or a list of names.")
    defs = [get_metric(n) for n in names]
    if len(set(names)) != len(names):
        raise DataError(f"metrics has duplicates: {names}.")
    names = [n for n in names if n != "count"]  # "count" is always a column
    for d in defs:
        if d.name == "count":
            continue
        if task == "regression" and d.task != "regression":
            raise DataError(
                f"metric {d.name!r} needs class labels, but the predictions are continuous "
                "(regression); choose from mean_prediction, mean_error, mean_absolute_error, "
                "root_mean_squared_error."
            )
        if task != "regression" and d.task == "regression":
            raise DataError(
                f"metric {d.name!r} is a regression metric, but the predictions are class "
                "labels; pass task='regression' if they are numbers."
            )
        if d.task == "score" and not has_scores:
            raise DataError(f"metric {d.name!r} needs y_score; pass the model's scores.")
        if d.task == "score" and task == "multiclass":
            raise DataError(f"metric {d.name!r} is only available for binary labels.")
        if d.name in ("brier_score", "calibration_error") and not scores_01:
            raise DataError(
                f"metric {d.name!r} needs y_score to be probabilities in [0, 1]; "
                "pass predict_proba scores, or ask for roc_auc only."
            )
    if task == "multiclass":
        assert classes is not None
        return [Column(f"{n}[{c}]", n, k) for n in names for k, c in enumerate(classes)]
    return [Column(n, n) for n in names]


def group_metrics(
    y_true: Any,
    y_pred: Any = None,
    *,
    sensitive_features: Any = None,
    y_score: Any = None,
    metrics: list[str] | str | None = None,
    sample_weight: Any = None,
    pos_label: Any = NOT_GIVEN,
    n_boot: int = 0,
    confidence: float = 0.95,
    ci_method: Literal["bootstrap", "jeffreys", "wilson"] | None = None,
    stratify: bool = True,
    reference_group: Any = None,
    min_group_size: int = 30,
    missing_groups: Literal["error", "separate"] = "error",
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto",
    fingerprint: bool = False,
    random_state: int | np.random.Generator | None = None,
    data: Any = None,
    engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto",
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> GroupMetrics:
    """Compute metrics per group from one pass over the data, with intervals and tests.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (or values, for regression). Lists, numpy arrays, pandas Series
        (categorical, nullable Int64/boolean/string), polars and pyarrow arrays. pandas
        inputs (``y_true``, ``y_pred``, ``sensitive_features``, ``y_score``,
        ``sample_weight``) are paired on their index labels, reordered to the first one's row
        order when needed; indexes holding different or repeated labels are refused, and
        arrays and lists pair by position (refused beside pandas inputs that need reordering).
    y_pred : array-like of shape (n_samples,)
        Predicted labels (or values).
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_features)
        Group membership: a 1-D array-like, a DataFrame (several columns give intersectional
        groups), a dict of columns, or a 2-D array. Column names become the index names.
    y_score : array-like of shape (n_samples,), optional
        Score of the positive class, for ``roc_auc``, ``brier_score`` (probabilities) and
        ``calibration_error`` (probabilities).
    metrics : list of str, optional
        Names from :data:`fairaudit.metrics.METRIC_REGISTRY`. Default: the eight main binary
        rates (plus score metrics when ``y_score`` is given), or the regression metrics.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative, finite weights. Metrics use weighted counts; ``count`` stays the number of
        rows.
    pos_label : object, default <not given>
        The positive label; left out, 1. With more than two labels, a ``pos_label`` that is
        given (1 included) gives binary metrics of that class against the rest (as the
        command's ``--pos-label``); left out, more than two labels are refused. ``None``
        computes one-vs-rest metrics for every class (multiclass); columns are then named
        ``"metric[class]"``. The default is a sentinel (``repr`` ``<not given>``), not 1:
        wrappers that forward an argument should leave it out rather than pass 1.
    n_boot : int, default 0
        Bootstrap replicates of the score and regression metrics. With ``n_boot > 0`` and
        ``ci_method=None``, ``ci_method`` is ``"bootstrap"``.
    confidence : float, default 0.95
        Confidence level of the intervals.
    ci_method : {"bootstrap", "jeffreys", "wilson"}, optional
        ``"bootstrap"``: Jeffreys intervals for rate metrics (closed form, never zero-width)
        and percentile bootstrap intervals for score and regression metrics;
        ``"jeffreys"`` / ``"wilson"``: analytic intervals for rate metrics only (NaN for the
        others, no bootstrap). ``interval_methods`` names the method of every column;
        comparisons (``disparities()``) get Bonferroni envelopes of these intervals.
    stratify : bool, default True
        Resample within each group (group sizes fixed), or the whole table.
    reference_group : label, optional
        Default reference for ``difference``/``ratio``/``disparities``/``tests``; a tuple of
        labels for intersectional groups. Must be an observed group.
    min_group_size : int, default 30
        Groups with fewer rows raise a ``SmallGroupWarning``.
    missing_groups : {"error", "separate"}, default "error"
        Missing sensitive values are refused, or made an explicit ``"missing"`` group.
    task : {"auto", "binary", "multiclass", "regression"}, default "auto"
        Inferred: regression when a regression metric is asked for, or when ``y_pred`` is
        float with non-integer values (or, with ``metrics=None``, more than two distinct
        values); multiclass when ``pos_label=None``; binary otherwise.
    fingerprint : bool, default False
        Record digests of the inputs in ``provenance["fingerprints"]``: SHA-256 of each input
        in row order for arrays and in-memory tables; with ``data`` scanned by DuckDB or
        Spark, order-independent sums of per-row MD5 digests computed in the engine (see
        :func:`fairaudit.metrics.count_table`). ``provenance["sources"]`` says where the rows
        of a ``data`` source or a count table came from (files, rows).
    random_state : int, numpy.random.Generator or None
        Seed of the bootstrap.
    data : optional
        With ``data``, ``y_true``, ``y_pred``, ``y_score``, ``sample_weight`` and
        ``sensitive_features`` are column names in it: a pandas, polars or pyarrow table, a
        path, glob or list of Parquet/CSV files, a DuckDB relation or ``(connection, query)``,
        or a Spark DataFrame (see :func:`fairaudit.metrics.count_table` and
        ``docs/scale.md``). ``y_true`` may also be a :class:`fairaudit.metrics.CountTable`.
    engine, memory_limit, threads, progress
        Which engine scans ``data`` and its settings; see
        :func:`fairaudit.metrics.count_table`.

    Returns
    -------
    GroupMetrics
        See :class:`fairaudit.metrics.GroupMetrics`.

    Notes
    -----
    One ``np.bincount`` over ``4 * group + 2 * (y_true == pos_label) + (y_pred ==
    pos_label)`` gives every group's confusion cells; all metrics, intervals and tests derive
    from that table. A rate's interval is the Jeffreys interval of its (Kish effective, when
    weighted) counts: a percentile bootstrap of the count table cannot vary a zero cell or a
    one-row group and gives zero-width intervals there. ROC AUC, Brier score and calibration
    error are computed exactly from the distinct (group, score) values; their bootstrap
    resamples those values (ROC AUC exactly, on runs of one-class values; Brier score and
    calibration error binned first when there are too many to resample within budget;
    ``provenance["notes"]`` says so), drawn one chunk of groups at a time. Regression metrics
    are bootstrapped by resampling rows within each group (groups of more than a budget of
    rows are cut into equal-size chunks of neighbouring values first). Every interval stays
    inside the metric's ``value_range``. Comparisons between groups get Bonferroni envelopes
    (see ``GroupMetrics.disparities``); their measured coverage is in
    ``docs/group_metrics.md``.

    Examples
    --------
    >>> import fairaudit as fa
    >>> y_true = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    >>> y_pred = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    >>> sf = ['b', 'b', 'a', 'b', 'b', 'c', 'c', 'c', 'a',
    ...       'a', 'c', 'a', 'b', 'c', 'c', 'b', 'c', 'c']
    >>> gm = fa.group_metrics(y_true, y_pred, sensitive_features=sf,
    ...                       metrics=["selection_rate", "true_positive_rate"],
    ...                       min_group_size=1)
    >>> gm.by_group.round(3)
                         selection_rate  true_positive_rate  count
    sensitive_feature_0
    a                              0.75                 0.5      4
    b                              0.50                 0.6      6
    c                              0.50                 0.5      8
    >>> round(float(gm.difference()["selection_rate"]), 4)
    0.25
    """
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    min_group_size = check_min_group_size(min_group_size)
    random_state = check_random_state(random_state)
    if ci_method is None:
        ci_method = "bootstrap" if n_boot > 0 else None
    if ci_method not in (None, "bootstrap", "jeffreys", "wilson"):
        raise ValueError(
            f"ci_method must be 'bootstrap', 'jeffreys', 'wilson' or None, got {ci_method!r}."
        )
    if ci_method == "bootstrap" and n_boot < 1:
        raise ValueError("ci_method='bootstrap' needs n_boot > 0 (e.g. n_boot=1000).")
    if data is not None and engine in ("auto", "numpy"):
        from fairaudit.metrics._scan import frame_arguments

        arrays = frame_arguments(data, y_true, y_pred, sensitive_features, y_score, sample_weight)
        if arrays is not None:  # an in-memory table: the numpy path below, on its columns
            y_true, y_pred, sensitive_features = (
                arrays["y_true"],
                arrays["y_pred"],
                arrays["sensitive_features"],
            )
            y_score, sample_weight, data = arrays["y_score"], arrays["sample_weight"], None
    if data is not None or isinstance(y_true, CountTable | str) or isinstance(y_pred, str):
        from fairaudit.metrics._scan import table_for_group_metrics

        table = table_for_group_metrics(
            y_true, y_pred, sensitive_features=sensitive_features, y_score=y_score,
            sample_weight=sample_weight, pos_label=pos_label, task=task, metrics=metrics,
            missing_groups=missing_groups, fingerprint=fingerprint, n_boot=n_boot,
            ci_method=ci_method, data=data, engine=engine, memory_limit=memory_limit,
            threads=threads, progress=progress,
        )  # fmt: skip
        return _from_table(
            table, metrics=metrics, n_boot=n_boot, confidence=confidence, ci_method=ci_method,
            stratify=stratify, reference_group=reference_group, min_group_size=min_group_size,
            missing_groups=missing_groups, random_state=random_state,
            source="count_table" if table is y_true else "data",
            fingerprints=_source_fingerprints(table) if fingerprint else None,
        )  # fmt: skip
    if y_pred is None:
        raise TypeError("y_pred is required (or pass a CountTable as the first argument).")
    # arrays: the one numpy pass of count_table (pandas inputs paired on their index labels)
    table = numpy_table(
        y_true, y_pred, sensitive_features=sensitive_features, y_score=y_score,
        sample_weight=sample_weight, pos_label=pos_label, task=task, metrics=metrics,
        missing_groups=missing_groups, fingerprint=fingerprint,
        regression_n_boot=int(n_boot) if ci_method == "bootstrap" else 0,
    )  # fmt: skip
    return _from_table(
        table, metrics=metrics, n_boot=n_boot, confidence=confidence, ci_method=ci_method,
        stratify=stratify, reference_group=reference_group, min_group_size=min_group_size,
        missing_groups=missing_groups, random_state=random_state, source=None,
        fingerprints=table.source[0].get("fingerprints") if fingerprint else None,
    )  # fmt: skip


def _from_table(
    table: CountTable,
    *,
    metrics: Any,
    n_boot: int,
    confidence: float,
    ci_method: str | None,
    stratify: bool,
    reference_group: Any,
    min_group_size: int,
    missing_groups: Any,
    random_state: Any,
    source: str | None,
    fingerprints: dict[str, Any] | None = None,
) -> GroupMetrics:
    """Derive a GroupMetrics from a count table (everything after the pass over the rows).

    ``source`` (``"data"`` or ``"count_table"``) is recorded in the parameters, and the
    table's sources in ``provenance["sources"]``; ``None`` for arrays (the in-memory path).
    """
    from fairaudit.metrics._count_table import scores_in_unit_interval

    columns = _resolve_columns(
        metrics,
        table.task,
        table.scores is not None,
        None if table.classes is None else list(table.classes),
        scores_in_unit_interval(table),
    )
    if table.task == "regression" and ci_method == "bootstrap" and table.reg_atoms is None:
        raise DataError(
            "this regression count table has no bootstrap atoms; rebuild it with count_table()."
        )
    parameters = {
        "metrics": [c.name for c in columns],
        "pos_label": table.pos_label,
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "ci_method": ci_method,
        "stratify": bool(stratify),
        "reference_group": reference_group,
        "min_group_size": int(min_group_size),
        "missing_groups": missing_groups,
        "task": table.task,
        "random_state": random_state if isinstance(random_state, int | None) else None,
        "weighted": table.weighted,
        "n_samples": table.n_rows,
    }
    provenance: dict[str, Any] = {"parameters": parameters, "versions": core_versions()}
    if source is not None:
        parameters["source"] = source
        provenance["sources"] = [dict(entry) for entry in table.source]
    if fingerprints is not None:
        provenance["fingerprints"] = fingerprints
    gm = GroupMetrics(
        **_build(
            table,
            columns,
            pos_label=table.pos_label,
            n_boot=int(n_boot),
            confidence=float(confidence),
            random_state=random_state,
            reference_group=reference_group,
            min_group_size=int(min_group_size),
            ci_method=ci_method,
            provenance=provenance,
            stratify=stratify,
        )
    )
    if reference_group is not None:
        gm._group_position(reference_group)
    return gm


def _source_fingerprints(table: CountTable) -> dict[str, Any] | None:
    """Return the fingerprints of the one source an engine scanned (None otherwise)."""
    if len(table.source) != 1:
        return None
    found = table.source[0].get("fingerprints")
    return None if found is None else dict(found)
