"""``group_metrics``: check the inputs, encode the groups, count, and build a ``GroupMetrics``."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._provenance import core_versions, sha256_array
from fairaudit._validation import (
    align_on_index,
    as_1d,
    check_confidence,
    check_consistent_length,
    check_min_group_size,
    check_n_boot,
    check_random_state,
)
from fairaudit._validation import check_sample_weight as _check_sample_weight
from fairaudit.exceptions import DataError
from fairaudit.metrics._assemble import _build
from fairaudit.metrics._compute import Column
from fairaudit.metrics._counts import (
    CountTable,
    ScoreAtoms,
    binary_cells,
    multiclass_cells,
    regression_atoms,
    regression_sums,
)
from fairaudit.metrics._encode import (
    GroupEncoding,
    as_values,
    binary_labels,
    encode_groups,
    multiclass_labels,
)
from fairaudit.metrics._registry import DEFAULT_METRICS, METRIC_REGISTRY, get_metric
from fairaudit.metrics._result import GroupMetrics

__all__ = ["group_metrics"]

logger = logging.getLogger(__name__)


# cells x replicates drawn for the regression bootstrap, at most
_REGRESSION_BOOT_BUDGET = 10_000_000


class _DefaultPosLabel(int):
    """The integer 1 as ``pos_label``'s default: tells "not given" from an explicit 1.

    Labels with more than two classes and a ``pos_label`` that was given give one-vs-rest
    metrics of that class; with the default they are refused (they may be anything).
    """

    def __repr__(self) -> str:
        return "1"


_POS_LABEL_NOT_GIVEN = _DefaultPosLabel(1)


# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------


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


def _infer_task(
    y_true: np.ndarray, y_pred: np.ndarray, metrics: Any, pos_label: Any, task: str
) -> str:
    if task != "auto":
        if task not in ("binary", "multiclass", "regression"):
            raise ValueError(
                f"task must be 'auto', 'binary', 'multiclass' or 'regression', got {task!r}."
            )
        return task
    names = [metrics] if isinstance(metrics, str) else list(metrics or [])
    known = [METRIC_REGISTRY[n].task for n in names if n in METRIC_REGISTRY]
    if "regression" in known:
        return "regression"
    if y_pred.dtype.kind == "f":
        if not np.all(np.mod(y_pred, 1) == 0):
            return "regression"
        joint = np.unique(y_pred)
        if y_true.dtype.kind in "iuf":
            joint = np.union1d(joint, y_true)
        if not names and pos_label is not None and joint.size > 2:
            return "regression"  # whole-number values, but more than two: not labels
    return "multiclass" if pos_label is None else "binary"


def group_metrics(
    y_true: Any,
    y_pred: Any = None,
    *,
    sensitive_features: Any = None,
    y_score: Any = None,
    metrics: list[str] | str | None = None,
    sample_weight: Any = None,
    pos_label: Any = _POS_LABEL_NOT_GIVEN,
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
    pos_label : object, default 1
        The positive label. With more than two labels, a ``pos_label`` that is given gives
        binary metrics of that class against the rest (as the command's ``--pos-label``);
        left at its default, more than two labels are refused. ``None`` computes one-vs-rest
        metrics for every class (multiclass); columns are then named ``"metric[class]"``.
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
        Record SHA-256 digests of the inputs in ``provenance["fingerprints"]``.
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
    one_vs_rest = pos_label is not _POS_LABEL_NOT_GIVEN
    if not one_vs_rest:
        pos_label = 1
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
        )  # fmt: skip
    if y_pred is None:
        raise TypeError("y_pred is required (or pass a CountTable as the first argument).")

    # pandas inputs pair on their index labels; arrays and lists by position
    aligned = align_on_index(
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive_features,
        y_score=y_score,
        sample_weight=sample_weight,
    )
    y_true, y_pred = aligned["y_true"], aligned["y_pred"]
    sensitive_features, y_score = aligned["sensitive_features"], aligned["y_score"]
    sample_weight = aligned["sample_weight"]
    t_values = as_values(y_true, name="y_true")
    p_values = as_values(y_pred, name="y_pred")
    n = check_consistent_length(y_true=t_values, y_pred=p_values)
    if n == 0:
        raise DataError("y_true and y_pred are empty; pass at least one sample.")
    encoding = encode_groups(sensitive_features, n_rows=n, missing_groups=missing_groups)
    check_consistent_length(y_true=t_values, sensitive_features=encoding.codes)
    score = None
    if y_score is not None:
        score_s = as_1d(y_score, name="y_score")
        check_consistent_length(y_true=t_values, y_score=score_s)
        if not pd.api.types.is_numeric_dtype(score_s.dtype) or pd.api.types.is_bool_dtype(
            score_s.dtype
        ):
            raise TypeError(f"y_score must be numeric, got dtype {score_s.dtype}.")
        score = as_values(score_s, name="y_score").astype(np.float64, copy=False)
    weight = _check_sample_weight(sample_weight, n)
    if reference_group is not None:
        pass  # validated on the built object (it needs the group labels)

    resolved = _infer_task(t_values, p_values, metrics, pos_label, task)
    classes: list[Any] | None = None
    reg_atoms = None
    codes = encoding.codes
    g = encoding.n_codes
    if resolved == "regression":
        for arr, name in ((t_values, "y_true"), (p_values, "y_pred")):
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{name} must be numeric for regression metrics, got {arr.dtype}.")
        t_float, p_float = t_values.astype(np.float64), p_values.astype(np.float64)
        cells, cell_n, w2 = regression_sums(codes, t_float, p_float, weight, g)
        pos_label_out = None
    elif resolved == "multiclass":
        t_code, p_code, classes = multiclass_labels(t_values, p_values)
        cells, cell_n, w2 = multiclass_cells(codes, t_code, p_code, weight, g, len(classes))
        pos_label_out = None
    else:
        if pos_label is None:
            raise DataError("task='binary' needs a pos_label; pass the positive class.")
        t_pos, p_pos = binary_labels(
            t_values, p_values, pos_label=pos_label, one_vs_rest=one_vs_rest
        )
        cells, cell_n, w2 = binary_cells(codes, t_pos, p_pos, weight, g)
        pos_label_out = pos_label
    # drop the combinations of sensitive values that no row has
    rows = cell_n.reshape(g, -1).sum(axis=1)
    keep = np.flatnonzero(rows)
    lookup = np.full(g, -1, dtype=np.intp)
    lookup[keep] = np.arange(keep.size)
    if keep.size < g:
        cells, cell_n = cells[keep], cell_n[keep]
        w2 = None if w2 is None else w2[keep]
    index, feature_codes = encoding.labels(keep)
    if resolved == "regression" and ci_method == "bootstrap":
        per_group = max(_REGRESSION_BOOT_BUDGET // (int(n_boot) * keep.size), 50)
        reg_atoms = regression_atoms(codes, t_float, p_float, weight, g, per_group)
        for a in reg_atoms.values():
            a[:, 0] = lookup[a[:, 0].astype(np.intp)]
    atoms = None
    scores_01 = False
    if score is not None:
        if resolved != "binary":
            raise DataError(f"y_score is only supported for binary labels, not {resolved}.")
        atoms = ScoreAtoms.from_rows(codes, score, t_pos, weight, g)
        atoms = replace(atoms, group=lookup[atoms.group])
        scores_01 = bool(score.min() >= 0.0 and score.max() <= 1.0)
    columns = _resolve_columns(metrics, resolved, score is not None, classes, scores_01)

    table = CountTable(
        task=resolved,
        index=index,
        feature_names=encoding.feature_names,
        feature_codes=feature_codes,
        feature_levels=encoding.feature_levels,
        cells=cells,
        cell_n=cell_n,
        cell_w2=w2,
        classes=None if classes is None else tuple(classes),
        scores=atoms,
        weighted=weight is not None,
        reg_atoms=reg_atoms,
        pos_label=pos_label_out,
    )
    parameters = {
        "metrics": [c.name for c in columns],
        "pos_label": pos_label_out,
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "ci_method": ci_method,
        "stratify": bool(stratify),
        "reference_group": reference_group,
        "min_group_size": int(min_group_size),
        "missing_groups": missing_groups,
        "task": resolved,
        "random_state": random_state if isinstance(random_state, int | None) else None,
        "weighted": weight is not None,
        "n_samples": int(n),
    }
    provenance: dict[str, Any] = {"parameters": parameters, "versions": core_versions()}
    if fingerprint:
        provenance["fingerprints"] = _fingerprints(
            t_values, p_values, score, sensitive_features, encoding, weight
        )
    gm = GroupMetrics(
        **_build(
            table,
            columns,
            pos_label=pos_label_out,
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
    source: str,
) -> GroupMetrics:
    """Derive a GroupMetrics from a count table (everything after the pass over the rows)."""
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
        "source": source,
    }
    provenance: dict[str, Any] = {"parameters": parameters, "versions": core_versions()}
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


def _fingerprints(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None,
    sensitive_features: Any,
    encoding: GroupEncoding,
    weight: np.ndarray | None,
) -> dict[str, Any]:
    del sensitive_features
    per_row = encoding.feature_codes_of(encoding.codes)
    per_feature = {
        name: sha256_array(np.asarray(encoding.feature_levels[j], dtype=object).take(per_row[:, j]))
        for j, name in enumerate(encoding.feature_names)
    }
    return {
        "algorithm": "sha256",
        "y_true": sha256_array(y_true),
        "y_pred": sha256_array(y_pred),
        "y_score": None if y_score is None else sha256_array(y_score),
        "sensitive_features": per_feature,
        "sample_weight": None if weight is None else sha256_array(weight),
    }
