"""``count_table`` and the dispatch of ``data=`` sources to the engine that holds the rows.

In-memory tables (pandas, polars, pyarrow) are counted by numpy; files, globs, DuckDB
relations and queries by DuckDB; Spark DataFrames by Spark. Every engine returns the same
:class:`~fairaudit.metrics.CountTable`.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from fairaudit._optional import import_optional
from fairaudit._validation import NOT_GIVEN
from fairaudit.exceptions import DataError
from fairaudit.metrics._count_table import DEFAULT_REGRESSION_N_BOOT, Task, numpy_table
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._engines._columns import (
    check_columns,
    column_names,
    frame_columns,
    source_kind,
)

__all__ = ["count_table", "table_for_group_metrics", "table_from_source"]

_ENGINES = ("auto", "numpy", "duckdb", "spark")


def count_table(
    y_true: Any = None,
    y_pred: Any = None,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    pos_label: Any = NOT_GIVEN,
    task: Task = "auto",
    metrics: Any = None,
    missing_groups: Literal["error", "separate"] = "error",
    data: Any = None,
    engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto",
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    fingerprint: bool = False,
) -> CountTable:
    """Count the data once into a per-group table, from arrays or from a data source.

    Parameters
    ----------
    y_true, y_pred : array-like, or str with ``data``
        True and predicted labels (values, for regression); with ``data``, column names.
    sensitive_features : array-like, DataFrame or dict; with ``data``, a name or list of names
        Group membership; several columns give intersectional groups.
    y_score : array-like or str, optional
        Score of the positive class (ROC AUC, Brier score, calibration error).
    sample_weight : array-like or str, optional
        Non-negative, finite weights.
    pos_label : object, default <not given>
        The positive label, as in :func:`fairaudit.group_metrics`: left out, 1 (more than two
        labels are refused); given, that class against every other; ``None`` for one-vs-rest
        multiclass tables.
    task : {"auto", "binary", "multiclass", "regression"}, default "auto"
        As in :func:`fairaudit.group_metrics` (with an engine, passing it saves a scan when
        ``y_pred`` is a floating-point column).
    metrics : list of str, optional
        Only used to infer the task (a regression metric means regression).
    missing_groups : {"error", "separate"}, default "error"
        Missing sensitive values (NULL in an engine) are refused, or counted as an explicit
        ``"missing"`` group.
    data : optional
        Where the named columns live: a pandas, polars or pyarrow table; a path, glob or list
        of Parquet/CSV/TSV files (gzip allowed); a DuckDB relation, or a ``(connection,
        "SELECT ...")`` pair; a pyspark DataFrame. See ``docs/scale.md``.
    engine : {"auto", "numpy", "duckdb", "spark"}, default "auto"
        Who scans the rows: numpy for in-memory tables, DuckDB for files and DuckDB
        relations, Spark for Spark DataFrames. ``"duckdb"`` also scans in-memory tables.
    memory_limit : str, optional
        DuckDB's ``memory_limit`` (e.g. ``"2GB"``); beyond it DuckDB spills to disk.
    threads : int, optional
        DuckDB's ``threads``.
    progress : bool, optional
        DuckDB progress bar (default: on a terminal, for scans of files).
    fingerprint : bool, default False
        Digest the columns used into ``source[0]["fingerprints"]``: SHA-256 of each input in
        row order for arrays and in-memory tables counted by numpy; with an engine, sums of
        per-row MD5 digests that do not depend on row order or partitioning (computed in
        the engine, one more scan; see ``docs/scale.md``).

    Returns
    -------
    CountTable
        ``task``, ``index`` (the groups), ``n_rows``; ``to_frame()`` gives the long format:
        one row per group and cell with the sensitive columns, ``y_true`` and ``y_pred``
        (booleans ``== pos_label`` for binary tables, class labels for multiclass),
        ``count`` (rows), ``weight`` (weighted count) and, when weighted, ``weight_sq``.
        Regression tables have one row per group with ``count``, ``weight``,
        ``sum_prediction``, ``sum_error``, ``sum_absolute_error``, ``sum_squared_error``
        (weighted sums, error = y_pred - y_true). ``to_frame("scores")`` lists the score
        atoms: distinct (group, score) values with ``positive_weight``, ``negative_weight``,
        ``positive_count``, ``negative_count``. ``source`` says where the rows came from:
        one dict per counted source (tables that add keep both), with ``kind`` (``"arrays"``,
        ``"pandas table"``, ``"files"``, ``"duckdb query"``, ``"spark"``, ...), ``rows``,
        ``engine``, the ``paths`` of files (or the Spark DataFrame's input files), and
        ``fingerprints`` when asked.

    See Also
    --------
    fairaudit.group_metrics : accepts a CountTable in place of ``y_true``.

    Examples
    --------
    >>> import pandas as pd
    >>> from fairaudit.metrics import count_table
    >>> day1 = pd.DataFrame({"y": [1, 0, 1, 0], "p": [1, 0, 0, 0], "sex": list("ffmm")})
    >>> day2 = pd.DataFrame({"y": [1, 1], "p": [1, 1], "sex": ["x", "m"]})
    >>> t = count_table("y", "p", sensitive_features="sex", data=day1)
    >>> t
    CountTable(task='binary', features=[sex], groups=2, rows=4, weighted=False)
    >>> both = t + count_table("y", "p", sensitive_features="sex", data=day2)
    >>> both.to_frame().query("count > 0")
       sex  y_true  y_pred  count  weight
    0    f   False   False      1     1.0
    3    f    True    True      1     1.0
    4    m   False   False      1     1.0
    6    m    True   False      1     1.0
    7    m    True    True      1     1.0
    11   x    True    True      1     1.0
    """
    return table_from_source(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        y_score=y_score,
        sample_weight=sample_weight,
        pos_label=pos_label,
        task=task,
        metrics=metrics,
        missing_groups=missing_groups,
        data=data,
        engine=engine,
        memory_limit=memory_limit,
        threads=threads,
        progress=progress,
        regression_n_boot=DEFAULT_REGRESSION_N_BOOT,
        fingerprint=fingerprint,
    )


def table_from_source(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any,
    sample_weight: Any,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    data: Any,
    engine: str,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
    regression_n_boot: int,
    fingerprint: bool = False,
) -> CountTable:
    """Dispatch a count-table request to the engine that holds the rows."""
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {list(_ENGINES)}, got {engine!r}.")
    common = {
        "pos_label": pos_label,
        "task": task,
        "metrics": metrics,
        "missing_groups": missing_groups,
    }
    if data is None:
        for argument, value in (
            ("y_true", y_true),
            ("y_pred", y_pred),
            ("y_score", y_score),
            ("sample_weight", sample_weight),
        ):
            if isinstance(value, str):
                raise TypeError(
                    f"{argument}={value!r} is a column name, but data= is not given; pass "
                    "data=<table, path or relation> holding the columns, or pass arrays."
                )
        if y_true is None or y_pred is None:
            raise TypeError("y_true and y_pred are required (arrays, or column names with data=).")
        if engine in ("duckdb", "spark"):
            raise ValueError(f"engine={engine!r} scans a data source; pass data= as well.")
        return numpy_table(
            y_true,
            y_pred,
            sensitive_features=sensitive_features,
            y_score=y_score,
            sample_weight=sample_weight,
            regression_n_boot=regression_n_boot,
            fingerprint=fingerprint,
            **common,
        )
    columns = column_names(y_true, y_pred, sensitive_features, y_score, sample_weight)
    kind = source_kind(data)
    if kind == "frame" and engine in ("auto", "numpy"):
        check_columns(columns, frame_columns(data), "data")
        wanted = list(dict.fromkeys(c for _, c in columns.named()))
        frame = data if isinstance(data, pd.DataFrame) else data.select(wanted).to_pandas()
        sens = frame[columns.sensitive]
        return numpy_table(
            frame[columns.y_true],
            frame[columns.y_pred],
            sensitive_features=sens,
            y_score=None if columns.y_score is None else frame[columns.y_score],
            sample_weight=None if columns.sample_weight is None else frame[columns.sample_weight],
            regression_n_boot=regression_n_boot,
            fingerprint=fingerprint,
            source={"kind": f"{type(data).__module__.split('.')[0]} table", "engine": "numpy"},
            **common,
        )
    if kind == "spark" or engine == "spark":
        if kind != "spark":
            raise TypeError(
                f"engine='spark' needs a Spark DataFrame as data, got {type(data).__name__}."
            )
        from fairaudit.metrics._engines._spark import spark_table

        return spark_table(
            data, columns, regression_n_boot=regression_n_boot, fingerprint=fingerprint, **common
        )
    if engine == "numpy":
        raise ValueError(
            f"engine='numpy' needs an in-memory table; data is {kind} (use engine='duckdb')."
        )
    from fairaudit.metrics._engines._duckdb import duckdb_table

    return duckdb_table(
        data,
        columns,
        memory_limit=memory_limit,
        threads=threads,
        progress=progress,
        regression_n_boot=regression_n_boot,
        fingerprint=fingerprint,
        **common,
    )


def table_for_group_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any,
    sample_weight: Any,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    fingerprint: bool,
    n_boot: int,
    ci_method: str | None,
    data: Any,
    engine: str,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
) -> CountTable:
    """Return the table group_metrics derives everything from: given, or counted from data."""
    if isinstance(y_true, CountTable):
        others = {
            "y_pred": y_pred,
            "sensitive_features": sensitive_features,
            "y_score": y_score,
            "sample_weight": sample_weight,
            "data": data,
        }
        given = [k for k, v in others.items() if v is not None]
        if given:
            raise TypeError(
                f"group_metrics(table) takes the data from the count table; do not pass "
                f"{', '.join(given)}."
            )
        if task not in ("auto", y_true.task):
            raise DataError(f"task={task!r}, but the count table is {y_true.task}.")
        if fingerprint:
            raise DataError(
                "fingerprint=True needs the rows; a count table has only counts. Build it "
                "with count_table(..., fingerprint=True): its digests are then in the "
                "table's source and in provenance['sources']."
            )
        return y_true
    return table_from_source(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        y_score=y_score,
        sample_weight=sample_weight,
        pos_label=pos_label,
        task=task,
        metrics=metrics,
        missing_groups=missing_groups,
        data=data,
        engine=engine,
        memory_limit=memory_limit,
        threads=threads,
        progress=progress,
        regression_n_boot=int(n_boot) if ci_method == "bootstrap" else 0,
        fingerprint=fingerprint,
    )


def iter_batches(
    data: Any,
    columns: list[str],
    *,
    batch_size: int,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Any:
    """Yield pandas DataFrames of ``columns`` from a file/DuckDB source, ``batch_size`` rows each.

    For sources whose rows must pass through Python (a model predicts on them); the rows are
    read in order, a batch at a time, so memory stays bounded by the batch.
    """
    from fairaudit.metrics._engines._duckdb import open_source, q

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    with open_source(data, None, memory_limit=memory_limit, threads=threads) as (
        _con,
        rel,
        described,
        _files,
    ):
        available = list(rel.columns)
        absent = [c for c in columns if c not in available]
        if absent:
            import difflib

            close = difflib.get_close_matches(absent[0], available, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"no column {absent[0]!r} in {described}.{hint} Columns: "
                f"{', '.join(available[:12])}."
            )
        import_optional("pyarrow", purpose="reading data= in batches for a model")
        projected = rel.project(", ".join(q(c) for c in columns))
        for batch in projected.to_arrow_reader(batch_size):
            if batch.num_rows:
                yield batch.to_pandas()


def frame_arguments(
    data: Any, y_true: Any, y_pred: Any, sensitive_features: Any, y_score: Any, sample_weight: Any
) -> dict[str, Any] | None:
    """Return the named columns of an in-memory table (None when data is not one)."""
    if data is None or source_kind(data) != "frame":
        return None
    columns = column_names(y_true, y_pred, sensitive_features, y_score, sample_weight)
    check_columns(columns, frame_columns(data), "data")
    wanted = list(dict.fromkeys(c for _, c in columns.named()))
    frame = data if isinstance(data, pd.DataFrame) else data.select(wanted).to_pandas()
    return {
        "y_true": frame[columns.y_true],
        "y_pred": frame[columns.y_pred],
        "sensitive_features": frame[columns.sensitive],
        "y_score": None if columns.y_score is None else frame[columns.y_score],
        "sample_weight": None if columns.sample_weight is None else frame[columns.sample_weight],
    }
