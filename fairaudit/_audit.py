"""``audit``: wrap a model, predict, and compute group metrics in one call."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._provenance import sha256_frame
from fairaudit._validation import (
    align_on_index,
    as_frame,
    check_batch_size,
    check_confidence,
    check_min_group_size,
    check_n_boot,
    check_random_state,
    format_values,
)
from fairaudit.exceptions import DataError
from fairaudit.metrics import GroupMetrics, group_metrics

__all__ = ["audit"]


def audit(
    model: Any,
    X: Any = None,
    y_true: Any = None,
    *,
    sensitive_features: Any = None,
    metrics: list[str] | str | None = None,
    sample_weight: Any = None,
    pos_label: Any = None,
    task: Literal["binary", "multiclass", "regression"] | None = None,
    use_scores: bool = True,
    response_method: Literal["auto", "predict", "predict_proba", "decision_function"] = "auto",
    batch_size: int | None = None,
    n_boot: int = 0,
    confidence: float = 0.95,
    ci_method: Literal["bootstrap", "wilson"] | None = None,
    reference_group: Any = None,
    min_group_size: int = 30,
    missing_groups: Literal["error", "separate"] = "error",
    fingerprint: bool = True,
    random_state: int | np.random.Generator | None = None,
    data: Any = None,
    features: list[str] | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> GroupMetrics:
    """Predict with ``model`` on ``X`` and compute group metrics against ``y_true``.

    Parameters
    ----------
    model : object
        A fitted sklearn estimator or pipeline, a torch module, a callable, or anything
        :func:`fairaudit.wrap` accepts (an already wrapped model too).
    X : array-like or DataFrame of shape (n_samples, n_features)
        The inputs, passed to the model unchanged.
    y_true : array-like of shape (n_samples,)
        True labels. pandas inputs (``X``, ``y_true``, ``sensitive_features``,
        ``sample_weight``) are paired on their index labels, in ``X``'s row order; an index
        holding other labels is refused, and arrays and lists pair by position (see
        "Inputs" in the group metrics guide).
    sensitive_features : str, list of str, array-like or DataFrame
        Group membership. A column name or a list of column names selects those columns of
        ``X`` (when ``X`` is a DataFrame; the model still sees them); anything else is used as
        in :func:`fairaudit.group_metrics`.
    metrics, sample_weight, n_boot, confidence, ci_method, reference_group, \
min_group_size, missing_groups, random_state
        As in :func:`fairaudit.group_metrics`.
    pos_label : object, optional
        The positive (favourable) class of a binary classifier. Not given: 1 when the model's
        classes are 0/1 (or False/True); the ``pos_label`` a :class:`~fairaudit.WrappedModel`
        was wrapped with; none for a regressor or a multiclass model (per-class metrics).
        Other classes (``["<=50K", ">50K"]``) are ambiguous and must be named. For a multiclass
        model, a ``pos_label`` gives one-vs-rest metrics of that class.
    task : {"binary", "multiclass", "regression"}, optional
        Passed to :func:`fairaudit.wrap`; default: from the model. A model that returns only
        labels, wrapped without ``task``, is taken as binary when its labels are 0/1 and as a
        regressor when they are non-integer numbers; anything else needs ``pos_label`` or
        ``task``.
    use_scores : bool, default True
        Also compute score metrics (ROC AUC, ...) when the model gives scores for a binary
        task.
    response_method : str, default "auto"
        Passed to :func:`fairaudit.wrap`.
    batch_size : int, optional
        Rows per model call, passed to :func:`fairaudit.wrap`; with ``data`` from files, rows
        per batch read (default 100,000).
    fingerprint : bool, default True
        Record SHA-256 digests of ``X``, the labels, predictions, scores, sensitive features and
        weights in ``provenance["fingerprints"]``.
    data : optional
        With ``data``, ``y_true``, ``sensitive_features`` and ``sample_weight`` are column
        names and the model sees the ``features`` columns: a pandas, polars or pyarrow table,
        or a path, glob or list of Parquet/CSV files, a DuckDB relation or ``(connection,
        query)``, or a Spark DataFrame. Files and relations are read ``batch_size`` rows at
        a time; each batch is predicted and counted, and the count tables add up (memory
        stays bounded by a batch; fingerprints are not recorded then). A Spark DataFrame is
        predicted on the executors (``mapInPandas``; the model is pickled with cloudpickle)
        and counted by Spark; only the counts reach the driver, and the fingerprints are
        computed by Spark, independent of row order (see ``docs/scale.md``).
        ``provenance["sources"]`` says where the rows came from.
    features : list of str, optional
        The model's input columns (default: every column but ``y_true`` and
        ``sample_weight``).
    memory_limit, threads
        DuckDB's settings, for file and DuckDB sources.

    Returns
    -------
    GroupMetrics
        With ``provenance["model"]`` describing the wrapped model.

    Notes
    -----
    The model is called once for labels and scores where its labels derive from its scores
    (torch modules, callables, predictor objects), twice for a scikit-learn classifier
    (``predict``, then ``predict_proba``), whose labels are its own rule; see
    :meth:`fairaudit.WrappedModel.predict_and_score`.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> import fairaudit as fa
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "g": [0, 1, 0, 1]})
    >>> y = [0.0, 1.1, 1.9, 3.2]
    >>> gm = fa.audit(LinearRegression().fit(X, y), X, y, sensitive_features="g",
    ...               metrics=["mean_absolute_error"], min_group_size=1)
    >>> gm.by_group.round(3)
       mean_absolute_error  count
    g
    0                 0.05      2
    1                 0.05      2
    """
    from fairaudit.models import wrap

    # checked before the model runs, in the words of group_metrics
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    min_group_size = check_min_group_size(min_group_size)
    random_state = check_random_state(random_state)
    batch_size = check_batch_size(batch_size)

    if data is not None:
        return _audit_data(
            model, X, y_true, data=data, features=features, sensitive_features=sensitive_features,
            task=task, metrics=metrics, sample_weight=sample_weight, pos_label=pos_label,
            use_scores=use_scores, response_method=response_method, n_boot=n_boot,
            confidence=confidence, ci_method=ci_method, reference_group=reference_group,
            min_group_size=min_group_size, missing_groups=missing_groups,
            fingerprint=fingerprint, random_state=random_state,
            batch_size=100_000 if batch_size is None else batch_size,
            memory_limit=memory_limit, threads=threads,
        )  # fmt: skip
    if X is None or y_true is None:
        raise TypeError("audit needs X and y_true (or column names with data=).")
    if isinstance(sensitive_features, str) or (
        isinstance(sensitive_features, list)
        and sensitive_features
        and all(isinstance(c, str) for c in sensitive_features)
    ):
        names = [sensitive_features] if isinstance(sensitive_features, str) else sensitive_features
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "sensitive_features given as column names needs X to be a DataFrame, got "
                f"{type(X).__name__}; pass the sensitive values themselves instead."
            )
        absent = [c for c in names if c not in X.columns]
        if absent:
            raise DataError(
                f"sensitive_features names columns {absent} that X does not have; X has "
                f"{list(X.columns)[:10]}."
            )
        sensitive_features = X[names]
    # pandas inputs are paired on their index labels (in X's row order), arrays by position
    aligned = align_on_index(
        X=X, y_true=y_true, sensitive_features=sensitive_features, sample_weight=sample_weight
    )
    y_true, sensitive_features = aligned["y_true"], aligned["sensitive_features"]
    sample_weight = aligned["sample_weight"]
    wrapped = wrap(
        model,
        response_method=response_method,
        pos_label=pos_label,
        task=task,
        batch_size=batch_size,
    )
    y_score = None
    if use_scores and wrapped.task == "binary" and wrapped.output_kind == "score":
        y_pred, y_score = wrapped.predict_and_score(X)
    else:
        y_pred = wrapped.predict(X)
    resolved_task, pos_label = _resolve_target(wrapped, pos_label, task, y_pred)
    gm = group_metrics(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        y_score=y_score,
        metrics=metrics,
        sample_weight=sample_weight,
        pos_label=pos_label,
        task=resolved_task,
        n_boot=n_boot,
        confidence=confidence,
        ci_method=ci_method,
        reference_group=reference_group,
        min_group_size=min_group_size,
        missing_groups=missing_groups,
        fingerprint=fingerprint,
        random_state=random_state,
    )
    gm.provenance["model"] = wrapped.describe()
    if fingerprint:
        gm.provenance["fingerprints"]["X"] = sha256_frame(as_frame(X))
    return gm


def _audit_data(
    model: Any,
    X: Any,
    y_true: Any,
    *,
    data: Any,
    features: list[str] | None,
    sensitive_features: Any,
    sample_weight: Any,
    batch_size: int,
    memory_limit: str | None,
    threads: int | None,
    task: Literal["binary", "multiclass", "regression"] | None,
    **kwargs: Any,
) -> GroupMetrics:
    """``audit(data=...)``: column names; in memory as usual, files and relations by batch."""
    from fairaudit.metrics._engines._columns import column_names, frame_columns, source_kind
    from fairaudit.models import wrap

    if X is not None:
        raise TypeError("with data= given, pass the model's input columns as features=, not X.")
    names = column_names(y_true, "y_pred", sensitive_features, None, sample_weight)
    if features is not None and (
        isinstance(features, str) or not all(isinstance(f, str) for f in features)
    ):
        raise TypeError("features must be a list of column names.")
    kind = source_kind(data)
    if kind == "spark":
        return _audit_spark(model, data, names, features=features, task=task, **kwargs)
    if kind == "frame":
        frame = data if isinstance(data, pd.DataFrame) else data.to_pandas()
        available = frame_columns(data)
    else:
        frame = None
        from fairaudit.metrics._engines._duckdb import open_source

        with open_source(data, None, memory_limit=memory_limit, threads=threads) as opened:
            available = list(opened[1].columns)
    wanted = [names.y_true, *names.sensitive]
    if names.sample_weight is not None:
        wanted.append(names.sample_weight)
    if features is None:
        features = [c for c in available if c not in (names.y_true, names.sample_weight)]
    absent = [c for c in [*wanted, *features] if c not in available]
    if absent:
        import difflib

        close = difflib.get_close_matches(absent[0], available, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"no column {absent[0]!r} in data.{hint} Columns: {available[:12]}.")
    if frame is not None:
        return audit(
            model,
            frame[features],
            frame[names.y_true],
            sensitive_features=frame[names.sensitive],
            sample_weight=None if names.sample_weight is None else frame[names.sample_weight],
            task=task,
            **kwargs,
        )
    from fairaudit.metrics import CountTable, count_table
    from fairaudit.metrics._scan import iter_batches

    wrapped = wrap(
        model, response_method=kwargs["response_method"], pos_label=kwargs["pos_label"], task=task
    )
    total: CountTable | None = None
    for batch in iter_batches(
        data,
        list(dict.fromkeys([*features, *wanted])),
        batch_size=batch_size,
        memory_limit=memory_limit,
        threads=threads,
    ):
        X_batch = batch[features]
        y_pred = wrapped.predict(X_batch)
        # "not given" resolved as in memory: the model's positive class, regression, ...
        resolved, pos_label = _resolve_target(wrapped, kwargs["pos_label"], task, y_pred)
        y_score = None
        if kwargs["use_scores"] and resolved == "binary" and wrapped.output_kind == "score":
            y_score = wrapped.predict_score(X_batch)
        table = count_table(
            batch[names.y_true],
            y_pred,
            sensitive_features=batch[names.sensitive],
            y_score=y_score,
            sample_weight=None if names.sample_weight is None else batch[names.sample_weight],
            pos_label=pos_label,
            task=resolved,
            metrics=kwargs["metrics"],
            missing_groups=kwargs["missing_groups"],
        )
        total = table if total is None else total + table
    if total is None:
        raise DataError("data has no rows.")
    from dataclasses import replace

    from fairaudit.metrics._engines._duckdb import source_entry

    is_files = source_kind(data) == "files"
    total = replace(total, source=(source_entry(data, is_files, total.n_rows),))
    gm = group_metrics(
        total,
        metrics=kwargs["metrics"],
        n_boot=kwargs["n_boot"],
        confidence=kwargs["confidence"],
        ci_method=kwargs["ci_method"],
        reference_group=kwargs["reference_group"],
        min_group_size=kwargs["min_group_size"],
        random_state=kwargs["random_state"],
    )
    gm.provenance["model"] = wrapped.describe()
    return gm


def _audit_spark(
    model: Any,
    df: Any,
    names: Any,
    *,
    features: list[str] | None,
    task: Literal["binary", "multiclass", "regression"] | None,
    **kwargs: Any,
) -> GroupMetrics:
    """``audit(data=<Spark DataFrame>)``: predict on the executors, count with Spark.

    The model is pickled (cloudpickle) into a ``mapInPandas`` function that adds the
    prediction and score columns; the Spark engine then aggregates them. Only a probe of 100
    rows of the feature columns reaches the driver, to learn the type of the predictions
    and the task (as the in-memory audit resolves it); the predicted rows are persisted on
    the executors while the engine's jobs read them, so the model runs once per row.
    """
    from fairaudit.metrics._engines._columns import Columns, check_columns
    from fairaudit.metrics._engines._spark import (
        predict_on_executors,
        probe_rows,
        spark_table,
        spark_type,
    )
    from fairaudit.models import wrap

    available = list(df.columns)
    if features is None:
        features = [c for c in available if c not in (names.y_true, names.sample_weight)]
    needed = Columns(names.y_true, names.y_true, names.sensitive, None, names.sample_weight)
    check_columns(needed, available, "the Spark DataFrame")
    absent = [c for c in features if c not in available]
    if absent:
        raise DataError(f"features: no column {absent[0]!r} in the Spark DataFrame.")
    wrapped = wrap(
        model, response_method=kwargs["response_method"], pos_label=kwargs["pos_label"], task=task
    )
    probe = probe_rows(df, features)
    if len(probe) == 0:
        raise DataError("data has no rows.")
    y_probe = np.asarray(wrapped.predict(probe))
    resolved, pos_label = _resolve_target(wrapped, kwargs["pos_label"], task, y_probe)
    with_scores = bool(
        kwargs["use_scores"] and wrapped.task == "binary" and wrapped.output_kind == "score"
    )

    def predict(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        if with_scores:
            y_pred, y_score = wrapped.predict_and_score(X)
            return y_pred, y_score
        return wrapped.predict(X), None

    keep = list(dict.fromkeys([names.y_true, *names.sensitive]))
    if names.sample_weight is not None:
        keep.append(names.sample_weight)
    predicted, pred_col, score_col = predict_on_executors(
        df, predict, features, keep, prediction_type=spark_type(y_probe), with_scores=with_scores
    )
    columns = Columns(names.y_true, pred_col, names.sensitive, score_col, names.sample_weight)
    columns.display = {"y_pred": "the model's predictions", "y_score": "the model's scores"}
    n_boot, ci_method = kwargs["n_boot"], kwargs["ci_method"]
    bootstrap = ci_method == "bootstrap" or (ci_method is None and n_boot > 0)
    predicted = predicted.persist()
    try:
        table = spark_table(
            predicted, columns, pos_label=pos_label, task=resolved, metrics=kwargs["metrics"],
            missing_groups=kwargs["missing_groups"],
            regression_n_boot=n_boot if bootstrap else 0, fingerprint=kwargs["fingerprint"],
            source={"features": list(features)},
        )  # fmt: skip
    finally:
        predicted.unpersist()
    gm = group_metrics(
        table,
        metrics=kwargs["metrics"],
        n_boot=n_boot,
        confidence=kwargs["confidence"],
        ci_method=ci_method,
        reference_group=kwargs["reference_group"],
        min_group_size=kwargs["min_group_size"],
        random_state=kwargs["random_state"],
    )
    gm.provenance["model"] = wrapped.describe()
    if kwargs["fingerprint"]:
        gm.provenance["fingerprints"] = dict(table.source[0]["fingerprints"])
    return gm


def _is_01(values: Any) -> bool:
    """Tell whether every value is 0, 1, False or True (numbers, not strings)."""
    return all(
        isinstance(v, bool | np.bool_ | int | float | np.integer | np.floating) and v in (0, 1)
        for v in values
    )


def _resolve_target(
    wrapped: Any, pos_label: Any, task: str | None, y_pred: np.ndarray
) -> tuple[Literal["binary", "multiclass", "regression"], Any]:
    """Return the task and positive label for group_metrics (see ``audit``'s ``pos_label``)."""
    name = wrapped.describe()["model"]
    if wrapped.task == "regression":
        if pos_label is not None:
            raise ValueError(
                f"pos_label={pos_label!r} was given, but {name} is a regressor "
                "(task='regression'); leave pos_label out."
            )
        return "regression", None
    if wrapped.task == "multiclass":
        return ("multiclass", None) if pos_label is None else ("binary", pos_label)
    if pos_label is not None or wrapped._pos_label_given:
        return "binary", wrapped.pos_label if pos_label is None else pos_label
    classes = wrapped.classes_
    if classes is None:  # a model that returns labels only: look at them
        values = pd.unique(pd.Series(y_pred))
        if _is_01(values):
            return "binary", 1
        if task is None and y_pred.dtype.kind == "f" and not np.all(np.mod(y_pred, 1) == 0):
            return "regression", None
        raise ValueError(
            f"{name} returned labels {format_values(sorted(map(str, values)))}, not 0/1; pass "
            "pos_label= (the positive class of a binary task), task='multiclass' or "
            "task='regression'."
        )
    if _is_01(classes):
        return "binary", wrapped.pos_label
    raise ValueError(
        f"{name}'s classes are {format_values(list(classes))}: pass pos_label= to say which "
        f"one is the positive (favourable) outcome, e.g. pos_label={classes[-1]!r}."
    )
