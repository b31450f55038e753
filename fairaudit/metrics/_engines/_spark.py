"""Spark engine: the count table as ``groupBy().agg()`` jobs on a Spark DataFrame.

Only aggregates reach the driver: the cells per (group, y_true, y_pred), the score atoms per
(group, score, y_true), per-group regression sums and, for the regression bootstrap, per-group
chunks of sorted values (a window). The rows stay on the executors.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any

import numpy as np

from fairaudit._optional import import_optional
from fairaudit.exceptions import DataError
from fairaudit.metrics._count_table import infer_task, regression_per_group
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._engines._columns import Columns, check_columns, check_numeric_columns
from fairaudit.metrics._engines._finalize import (
    Aggregates,
    classification_table,
    labels_of,
    regression_table,
)

__all__ = [
    "predict_on_executors",
    "probe_rows",
    "spark_files_table",
    "spark_table",
    "spark_type",
]

_FLOAT_TYPES = ("FloatType", "DoubleType", "DecimalType")


def _array(values: list[Any]) -> np.ndarray:
    """Numpy values of a collected column: typed when possible, object with None otherwise."""
    if any(v is None for v in values) or not values:
        return np.asarray(values, dtype=object)
    arr = np.asarray(values)
    if arr.dtype.kind in "US":
        return np.asarray(values, dtype=object)
    return arr


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _check_session(df: Any) -> Any:
    sql = import_optional("pyspark.sql", purpose="Spark DataFrames as data=")
    active = sql.SparkSession.getActiveSession()
    if active is None:
        raise DataError(
            "the Spark DataFrame has no active Spark session (was spark.stop() called?); "
            "start one (SparkSession.builder.getOrCreate()) and rebuild the DataFrame."
        )
    return sql.functions


def _collect(df: Any) -> dict[str, list[Any]]:
    rows = df.collect()
    return {name: [r[i] for r in rows] for i, name in enumerate(df.columns)}


def _weight_aggs(F: Any, w: str | None) -> list[Any]:
    if w is None:
        return []
    wd = F.col(w).cast("double")
    return [
        F.sum(wd).alias("fa_w"),
        F.sum(wd * wd).alias("fa_w2"),
        F.sum(F.when(F.col(w).isNull(), 1).otherwise(0)).alias("fa_w_null"),
        F.sum(F.when(wd < 0, 1).otherwise(0)).alias("fa_w_neg"),
        F.sum(F.when(F.isnan(wd) | (F.abs(wd) == float("inf")), 1).otherwise(0)).alias("fa_w_inf"),
    ]


def _check_weights(res: dict[str, list[Any]], column: str, argument: str) -> None:
    from fairaudit.metrics._engines._duckdb import check_weight_counts

    check_weight_counts(
        {k: np.asarray([v or 0 for v in res[k]]) for k in ("fa_w_null", "fa_w_neg", "fa_w_inf")},
        column,
        argument,
    )


def _groups(res: dict[str, list[Any]], columns: Columns) -> dict[str, np.ndarray]:
    return {s: _objects(res[f"fa_s{j}"]) for j, s in enumerate(columns.sensitive)}


def _resolve_task(
    df: Any, F: Any, columns: Columns, task: str, metrics: Any, pos_label: Any
) -> str:
    if task != "auto":
        return infer_task(np.zeros(1), np.zeros(1), metrics, pos_label, task)
    p_type = type(df.schema[columns.y_pred].dataType).__name__
    probe = np.zeros(1, dtype=np.int64)
    if p_type not in _FLOAT_TYPES:
        return infer_task(probe, probe, metrics, pos_label, task)
    p = F.col(columns.y_pred).cast("double")
    fractional = df.filter(p != F.floor(p)).limit(1).count()
    if fractional:
        return infer_task(probe, np.array([0.5]), metrics, pos_label, task)
    t_type = type(df.schema[columns.y_true].dataType).__name__
    t_numeric = t_type not in ("StringType", "BinaryType")
    vals = df.select(p.alias("v")).where(p.isNotNull())
    if t_numeric:
        t = F.col(columns.y_true).cast("double")
        vals = vals.union(df.select(t.alias("v")).where(t.isNotNull()))
    distinct = [r[0] for r in vals.distinct().limit(3).collect()]
    joint = np.asarray(distinct, dtype=np.float64)
    return infer_task(
        joint if t_numeric else np.array(["x"], dtype=object), joint, metrics, pos_label, task
    )


def spark_table(
    df: Any,
    columns: Columns,
    *,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    regression_n_boot: int,
    labels: Any = None,
    fingerprint: bool = False,
    source: dict[str, Any] | None = None,
) -> CountTable:
    """Count the rows of a Spark DataFrame (aggregates collected, rows never).

    The table's ``source`` names the DataFrame's input files (when Spark knows them) and, with
    ``fingerprint``, holds order-independent digests of the columns used (one more job).
    """
    F = _check_session(df)
    check_columns(columns, list(df.columns), "the Spark DataFrame")
    table = _count(
        df, F, columns, pos_label=pos_label, task=task, metrics=metrics,
        missing_groups=missing_groups, regression_n_boot=regression_n_boot, labels=labels,
    )  # fmt: skip
    entry: dict[str, Any] = {"kind": "spark", "engine": "spark"}
    with suppress(Exception):  # best effort: not every plan knows its files
        paths = list(df.inputFiles())
        entry.update(paths=paths[:100], n_files=len(paths))
    entry.update(source or {})
    entry["rows"] = table.n_rows
    if fingerprint:
        from fairaudit.metrics._engines._fingerprint import (
            fingerprints_from,
            spark_fingerprint_row,
        )

        row = spark_fingerprint_row(df, F, columns)
        entry["fingerprints"] = fingerprints_from(row, columns, "spark")
    return replace(table, source=(entry,))


def _numeric_type(kind: str) -> bool:
    return kind in _NUMERIC_TYPES


_NUMERIC_TYPES = {
    "ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType", "DecimalType",
}  # fmt: skip


def _count(
    df: Any,
    F: Any,
    columns: Columns,
    *,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    regression_n_boot: int,
    labels: Any,
) -> CountTable:
    """Aggregate the DataFrame into a count table (the body of :func:`spark_table`)."""
    if labels is not None:
        p_type = type(df.schema[columns.y_pred].dataType).__name__
        if p_type in _FLOAT_TYPES:
            p = F.col(columns.y_pred)
            values = [
                r[0] for r in df.select(p).where(p != F.floor(p)).distinct().limit(5).collect()
            ]
            if values:
                labels.fit(np.zeros(0), np.asarray(values, dtype=np.float64))
        resolved = "binary"
    else:
        resolved = _resolve_task(df, F, columns, task, metrics, pos_label)
    types = {f.name: type(f.dataType).__name__ for f in df.schema.fields}
    check_numeric_columns(
        columns,
        types,
        _numeric_type,
        lambda kind: kind == "BooleanType",
        regression=resolved == "regression",
    )
    sens = [F.col(s).alias(f"fa_s{j}") for j, s in enumerate(columns.sensitive)]
    if resolved == "regression":
        return _regression(df, F, columns, sens, missing_groups, regression_n_boot)
    w = columns.sample_weight
    t, p = F.col(columns.y_true).alias("fa_t"), F.col(columns.y_pred).alias("fa_p")
    cells_df = df.groupBy(*sens, t, p).agg(F.count(F.lit(1)).alias("fa_n"), *_weight_aggs(F, w))
    res = _collect(cells_df)
    if w is not None:
        _check_weights(res, w, columns.show("sample_weight"))
    n = np.asarray(res["fa_n"], dtype=np.int64)
    if n.size == 0:
        raise DataError("the Spark DataFrame has no rows.")
    y_true = labels_of(
        _array(res["fa_t"]), argument=columns.show("y_true"), rows=n, column_name=columns.y_true
    )
    y_pred = labels_of(
        _array(res["fa_p"]), argument=columns.show("y_pred"), rows=n, column_name=columns.y_pred
    )
    if labels is not None:
        labels.fit(y_true, y_pred)
        y_true, y_pred, pos_label = labels.true(y_true), labels.pred(y_pred), 1
    weighted = w is not None
    cells = Aggregates(
        groups=_groups(res, columns),
        n=n,
        w=np.asarray(res["fa_w"], dtype=np.float64) if weighted else None,
        w2=np.asarray(res["fa_w2"], dtype=np.float64) if weighted else None,
        y_true=y_true,
        y_pred=y_pred,
    )
    if weighted and float(np.asarray(cells.w).sum()) <= 0:
        raise DataError("sample_weight is zero everywhere; at least one weight must be > 0.")
    atoms = None
    if columns.y_score is not None:
        sc = F.col(columns.y_score).cast("double").alias("fa_score")
        aggs = [F.count(F.lit(1)).alias("fa_n")]
        if weighted:
            aggs.append(F.sum(F.col(w).cast("double")).alias("fa_w"))
        a = _collect(df.groupBy(*sens, sc, F.col(columns.y_true).alias("fa_t")).agg(*aggs))
        n_a = np.asarray(a["fa_n"], dtype=np.int64)
        score = labels_of(
            _array(a["fa_score"]),
            argument=columns.show("y_score"),
            rows=n_a,
            column_name=columns.y_score,
        )
        a_true = _array(a["fa_t"])
        if labels is not None:
            a_true = labels.true(a_true)
        atoms = Aggregates(
            groups=_groups(a, columns),
            n=n_a,
            w=np.asarray(a["fa_w"], dtype=np.float64) if weighted else None,
            y_true=a_true,
            score=np.asarray(score, dtype=np.float64),
        )
    return classification_table(
        cells,
        atoms,
        pos_label=pos_label,
        task=resolved,
        metrics=metrics,
        missing_groups=missing_groups,
        weighted=weighted,
    )


def _regression(
    df: Any, F: Any, columns: Columns, sens: list[Any], missing_groups: Any, n_boot: int
) -> CountTable:
    from pyspark.sql import Window

    w_col = columns.sample_weight
    t = F.col(columns.y_true).cast("double")
    p = F.col(columns.y_pred).cast("double")
    wv = F.lit(1.0) if w_col is None else F.col(w_col).cast("double")
    base = df.select(
        *sens,
        t.alias("fa_t"),
        p.alias("fa_p"),
        wv.alias("fa_wv"),
        *([] if w_col is None else [F.col(w_col).alias("fa_wraw")]),
    )
    keys = [f"fa_s{j}" for j in range(len(sens))]
    ft, fp, fw = F.col("fa_t"), F.col("fa_p"), F.col("fa_wv")
    err = fp - ft

    def count_if(cond: Any) -> Any:
        return F.sum(F.when(cond, 1).otherwise(0))

    aggs = [
        F.count(F.lit(1)).alias("fa_n"),
        count_if(ft.isNull()).alias("fa_t_null"),
        count_if(fp.isNull()).alias("fa_p_null"),
        count_if(
            F.isnan(ft) | F.isnan(fp) | (F.abs(ft) == float("inf")) | (F.abs(fp) == float("inf"))
        ).alias("fa_nonfinite"),
        F.sum(fw).alias("fa_w"),
        F.sum(fw * fp).alias("fa_wp"),
        F.sum(fw * err).alias("fa_we"),
        F.sum(fw * F.abs(err)).alias("fa_wa"),
        F.sum(fw * err * err).alias("fa_ws"),
        F.sum(fw * fw).alias("fa_w2"),
    ]
    if w_col is not None:
        aggs += [
            count_if(F.col("fa_wraw").isNull()).alias("fa_w_null"),
            count_if(fw < 0).alias("fa_w_neg"),
            count_if(F.isnan(fw) | (F.abs(fw) == float("inf"))).alias("fa_w_inf"),
        ]
    res = _collect(base.groupBy(*keys).agg(*aggs))
    if not res["fa_n"]:
        raise DataError("the Spark DataFrame has no rows.")
    for key, argument, name in (
        ("fa_t_null", "y_true", columns.y_true),
        ("fa_p_null", "y_pred", columns.y_pred),
    ):
        count = int(sum(res[key]))
        if count:
            raise DataError(
                f"{columns.show(argument)}: column {name!r} has {count} missing value(s) "
                "(NULL); remove or fill those rows first."
            )
    if int(sum(res["fa_nonfinite"])):
        raise DataError(
            f"y_true or y_pred has {int(sum(res['fa_nonfinite']))} missing or infinite "
            "value(s) (NaN/inf); remove them."
        )
    if w_col is not None:
        _check_weights(res, w_col, columns.show("sample_weight"))
    sums = np.column_stack(
        [np.asarray(res[k], dtype=np.float64) for k in ("fa_w", "fa_wp", "fa_we", "fa_wa", "fa_ws")]
    )
    weighted = w_col is not None
    if weighted and float(sums[:, 0].sum()) <= 0:
        raise DataError("sample_weight is zero everywhere; at least one weight must be > 0.")
    agg = Aggregates(
        groups=_groups(res, columns),
        n=np.asarray(res["fa_n"], dtype=np.int64),
        w2=np.asarray(res["fa_w2"], dtype=np.float64) if weighted else None,
        sums=sums,
    )
    reg_atoms = None
    if n_boot > 0:
        per_group = regression_per_group(n_boot, len(res["fa_n"]))
        quantities = {
            "prediction": fp,
            "error": err,
            "absolute_error": F.abs(err),
            "squared_error": err * err,
        }
        reg_atoms = {}
        for quantity, expr in quantities.items():
            b = base.select(*keys, expr.alias("fa_q"), "fa_wv")
            window = Window.partitionBy(*keys).orderBy("fa_q", "fa_wv")
            size = Window.partitionBy(*keys)
            r = b.withColumn("fa_rk", F.row_number().over(window) - 1).withColumn(
                "fa_sz", F.count(F.lit(1)).over(size)
            )
            chunk = F.floor(
                (F.col("fa_rk") * F.least(F.col("fa_sz"), F.lit(per_group))) / F.col("fa_sz")
            ).cast("long")
            ch = _collect(
                r.groupBy(*keys, chunk.alias("fa_chunk")).agg(
                    F.count(F.lit(1)).alias("fa_n"),
                    F.sum("fa_wv").alias("fa_w"),
                    F.sum(F.col("fa_wv") * F.col("fa_q")).alias("fa_wq"),
                )
            )
            chunk_agg = Aggregates(
                groups=_groups(ch, columns),
                n=np.asarray(ch["fa_n"], dtype=np.int64),
                sums=np.column_stack(
                    [np.asarray(ch["fa_w"], np.float64), np.asarray(ch["fa_wq"], np.float64)]
                ),
            )
            reg_atoms[quantity] = (chunk_agg, np.asarray(ch["fa_chunk"], dtype=np.int64))
    return regression_table(
        agg, missing_groups=missing_groups, weighted=weighted, reg_atoms=reg_atoms
    )


def _typed_csv_columns(df: Any, F: Any, names: list[str], numbers_only: list[str]) -> Any:
    """Give text columns of a CSV the types DuckDB's reader infers: BIGINT, DOUBLE, BOOLEAN.

    Spark reads every CSV column as text; the command reads labels, scores and weights as
    DuckDB types them (integers stay integers, so multiclass labels and JSON output are the
    same). One aggregation counts, per column, the values that do not parse as each type.
    ``numbers_only`` columns (scores, weights) become DOUBLE when every value parses as a
    number, and stay text otherwise (refused then, naming the column and its type).
    """
    wanted = [c for c in dict.fromkeys(names + numbers_only) if c in df.columns]
    if not wanted:
        return df

    def fails(c: str, kind: str) -> Any:
        v = F.col(c)
        if kind == "boolean":
            ok = F.lower(F.trim(v)).isin("true", "false")
        elif kind == "bigint":  # digits only, as DuckDB's reader: "1.0" is a DOUBLE
            ok = (
                v.rlike(r"^\s*[+-]?[0-9]+\s*$")
                & F.expr(f"try_cast(`{c.replace('`', '``')}` AS bigint)").isNotNull()
            )
        else:
            ok = F.expr(f"try_cast(`{c.replace('`', '``')}` AS {kind})").isNotNull()
        return F.sum(F.when(v.isNotNull() & ~ok, 1).otherwise(0))

    aggs = [
        fails(c, kind).alias(f"{i}_{kind}")
        for i, c in enumerate(wanted)
        for kind in ("bigint", "double", "boolean")
    ]
    row = df.agg(*aggs).collect()[0].asDict()
    for i, c in enumerate(wanted):
        if c in numbers_only:
            kind = "double" if not row[f"{i}_double"] else None
        else:
            kind = next((k for k in ("bigint", "double", "boolean") if not row[f"{i}_{k}"]), None)
        if kind is not None:
            cast = "boolean" if kind == "boolean" else kind
            column = F.lower(F.trim(F.col(c))) if kind == "boolean" else F.col(c)
            df = df.withColumn(c, column.cast(cast))
    return df


@contextmanager
def read_spark_files(
    data: list[str], *, master: str | None
) -> Iterator[tuple[Any, str, list[str]]]:
    """Read Parquet or CSV/TSV files (``.zip`` too) with Spark: yields ``(df, kind, files)``.

    CSV columns are read as text. The files must share one format and one set of columns
    (checked on the first 100). A session started here is stopped on exit, and unzipped
    copies are deleted.
    """
    from fairaudit.metrics._engines._duckdb import SourceError, _format, _unzip, expand_paths

    sql = import_optional("pyspark.sql", purpose="--engine spark")
    files = expand_paths(data)
    kinds = {_format(f) for f in files}
    if len(kinds) != 1:
        raise SourceError(f"the files mix formats {sorted(str(k) for k in kinds)}.")
    kind = str(kinds.pop())
    had_session = sql.SparkSession.getActiveSession() is not None
    builder = sql.SparkSession.builder.appName("fairaudit")
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    scratch = tempfile.mkdtemp(prefix="fairaudit-spark-")
    try:
        if kind.endswith("+zip"):
            files = [_unzip(f, scratch) for f in files]
            kind = kind[:-4]
        try:
            if kind == "parquet":
                schemas = {f: spark.read.parquet(f).columns for f in files[:100]}
                df = spark.read.parquet(*files)
            else:
                sep = "\t" if kind == "tsv" else ","
                for f in files:
                    if os.path.getsize(f) == 0:
                        raise SourceError(f"{f} is empty.")
                reader = spark.read.option("header", True).option("sep", sep)
                schemas = {f: reader.csv(f).columns for f in files[:100]}
                df = reader.csv(files)
        except SourceError:
            raise
        except Exception as exc:  # Spark raises its own analysis and Java errors
            text = str(exc).strip().splitlines()
            raise SourceError(
                f"cannot read {files[0]} with Spark: {text[0] if text else type(exc).__name__}"
            ) from exc
        first = files[0]
        for f, cols in schemas.items():
            if set(cols) != set(schemas[first]):
                raise SourceError(
                    f"the files do not share one schema: {f!r} differs from {first!r}."
                )
        yield df, kind, files
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not had_session:
            spark.stop()


def spark_files_table(
    data: list[str],
    columns: Columns,
    *,
    labels: Any,
    master: str | None,
    task: str = "binary",
    missing_groups: str = "error",
    regression_n_boot: int = 0,
) -> CountTable:
    """Count files with Spark (the command's ``--engine spark``); sensitive columns stay text.

    ``labels`` (a :class:`OneVsRest`) binarizes binary labels; ``None`` with ``task``
    ``"multiclass"`` or ``"regression"`` counts the columns as they are, typed as DuckDB
    types a CSV file (Parquet columns keep their types).
    """
    sql = import_optional("pyspark.sql", purpose="--engine spark")
    with read_spark_files(data, master=master) as (df, kind, files):
        if kind != "parquet":
            numbers = [c for c in (columns.y_score, columns.sample_weight) if c is not None]
            df = _typed_csv_columns(df, sql.functions, [columns.y_true, columns.y_pred], numbers)
        return spark_table(
            df,
            columns,
            pos_label=1 if labels is not None else None,
            task="binary" if labels is not None else task,
            metrics=None,
            missing_groups=missing_groups,
            regression_n_boot=regression_n_boot,
            labels=labels,
            source={"kind": "files", "paths": [os.path.abspath(f) for f in files[:100]]},
        )


def spark_type(values: np.ndarray) -> str:
    """Return the Spark SQL type of a model's predictions (from a probe's output)."""
    kind: str = values.dtype.kind
    if kind == "O":
        first = next((v for v in values.tolist() if v is not None), None)
        kind = {bool: "b", int: "i", float: "f", str: "U"}.get(type(first), "?")
        if isinstance(first, np.generic):
            kind = np.asarray(first).dtype.kind
    types = {"b": "boolean", "i": "bigint", "u": "bigint", "f": "double", "U": "string"}
    if kind not in types:
        raise DataError(
            f"the model's predictions are of type {values.dtype} (e.g. {values[:1].tolist()}); "
            "audit(data=<Spark DataFrame>) needs booleans, integers, floats or text."
        )
    return types[kind]


def probe_rows(df: Any, features: list[str], n: int = 100) -> Any:
    """Return the first ``n`` rows of the model's input columns as pandas (a probe)."""
    _check_session(df)
    return df.select(*features).limit(n).toPandas()


def predict_on_executors(
    df: Any,
    predict: Any,
    features: list[str],
    keep: list[str],
    *,
    prediction_type: str,
    with_scores: bool,
) -> tuple[Any, str, str | None]:
    """Add the model's predictions (and scores) as columns, computed on the executors.

    ``predict(X) -> (y_pred, y_score or None)`` runs in ``mapInPandas`` (it is pickled with
    cloudpickle and shipped to the executors, which need fairaudit and the model's
    libraries); only ``keep`` and the new columns are returned. Nothing reaches the driver.
    """
    sql = import_optional("pyspark.sql", purpose="Spark DataFrames as data=")
    types = sql.types

    def fresh(name: str) -> str:
        while name in df.columns:
            name = "_" + name
        return name

    pred_col = fresh("fairaudit_prediction")
    score_col = fresh("fairaudit_score") if with_scores else None
    fields = [df.schema[c] for c in keep]
    pred_type = {
        "boolean": types.BooleanType(),
        "bigint": types.LongType(),
        "double": types.DoubleType(),
        "string": types.StringType(),
    }[prediction_type]
    fields.append(types.StructField(pred_col, pred_type, True))
    if score_col is not None:
        fields.append(types.StructField(score_col, types.DoubleType(), True))
    schema = types.StructType(fields)
    numpy_type = {"boolean": bool, "bigint": np.int64, "double": np.float64, "string": object}[
        prediction_type
    ]
    keep = list(keep)
    features = list(features)

    def run(batches: Any) -> Any:
        for pdf in batches:
            y_pred, y_score = predict(pdf[features])
            out = pdf[keep].copy()
            out[pred_col] = np.asarray(y_pred).astype(numpy_type)
            if score_col is not None:
                out[score_col] = np.asarray(y_score, dtype=np.float64)
            yield out

    return df.mapInPandas(run, schema=schema), pred_col, score_col
