"""Paired count rows of two prediction columns, scanned by DuckDB or Spark.

What a comparison of two models needs from the rows is one ``GROUP BY`` over (the sensitive
columns, y_true, pred_a, pred_b): the number of rows of each combination and, with scores, the
largest ``|score_b - score_a|``. Those aggregate rows (a few per group) are all that reaches
Python; :func:`fairaudit.metrics._paired.paired_counts` turns them into the eight (y, a, b)
cells, agreement and score gap per group, exactly as it does for in-memory rows (each row an
aggregate of one). Labels are grouped by their raw values, as the count-table engines do, so
that ``== pos_label`` and ``pred_a == pred_b`` are decided by the same numpy comparisons as in
memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.metrics._engines._columns import Columns, column_name, sensitive_names
from fairaudit.metrics._engines._finalize import labels_of, values_of

__all__ = [
    "PairedColumns",
    "PairedRows",
    "duckdb_paired",
    "paired_column_names",
    "spark_files_paired",
    "spark_paired",
]


class PairedColumns(Columns):
    """The column names of a ``compare_predictions(data=...)`` call."""

    def __init__(
        self,
        y_true: str,
        pred_a: str,
        pred_b: str,
        sensitive: list[str],
        score_a: str | None,
        score_b: str | None,
    ) -> None:
        super().__init__(y_true, pred_a, sensitive, score_a, None)
        self.pred_a = pred_a
        self.pred_b = pred_b
        self.score_a = score_a
        self.score_b = score_b

    def named(self) -> list[tuple[str, str]]:
        """(argument as shown, column name) for every column used."""
        out = [
            (self.show("y_true"), self.y_true),
            (self.show("pred_a"), self.pred_a),
            (self.show("pred_b"), self.pred_b),
        ]
        for argument, name in (("score_a", self.score_a), ("score_b", self.score_b)):
            if name is not None:
                out.append((self.show(argument), name))
        out.extend((self.show("sensitive_features"), s) for s in self.sensitive)
        return out


def paired_column_names(
    y_true: Any, pred_a: Any, pred_b: Any, sensitive_features: Any, score_a: Any, score_b: Any
) -> PairedColumns:
    """Validate the column names of a ``compare_predictions(data=...)`` call."""
    sensitive = sensitive_names(sensitive_features)
    if (score_a is None) != (score_b is None):
        raise ValueError("pass both score_a and score_b, or neither.")
    return PairedColumns(
        str(column_name(y_true, "y_true")),
        str(column_name(pred_a, "pred_a")),
        str(column_name(pred_b, "pred_b")),
        sensitive,
        column_name(score_a, "score_a", optional=True),
        column_name(score_b, "score_b", optional=True),
    )


@dataclass
class PairedRows:
    """Aggregate rows: one per distinct (group values, y_true, pred_a, pred_b)."""

    groups: dict[str, np.ndarray]  # sensitive column -> object values (None for NULL)
    n: np.ndarray  # rows of each combination
    y_true: np.ndarray
    pred_a: np.ndarray
    pred_b: np.ndarray
    gap: np.ndarray | None  # max |score_b - score_a| of each combination


def _check_scores(res: dict[str, Any], columns: PairedColumns) -> None:
    for key, argument, name in (
        ("fa_sa_bad", "score_a", columns.score_a),
        ("fa_sb_bad", "score_b", columns.score_b),
    ):
        count = int(np.asarray(res[key], dtype=np.int64).sum())
        if count:
            raise MissingValueError(
                f"{columns.show(argument)}: column {name!r} has {count} missing value(s) "
                "(NULL or NaN); remove or fill those rows first."
            )


def _rows(res: dict[str, Any], columns: PairedColumns, described: str) -> PairedRows:
    n = np.asarray(res["fa_n"], dtype=np.int64)
    if n.size == 0:
        raise DataError(f"{described} has no rows; pass at least one sample.")
    if columns.score_a is not None:
        _check_scores(res, columns)
    labels = {}
    for key, argument, name in (
        ("fa_t", "y_true", columns.y_true),
        ("fa_a", "pred_a", columns.pred_a),
        ("fa_b", "pred_b", columns.pred_b),
    ):
        labels[argument] = labels_of(
            res[key], argument=columns.show(argument), rows=n, column_name=name
        )
    return PairedRows(
        groups={s: values_of(res[f"fa_s{j}"]) for j, s in enumerate(columns.sensitive)},
        n=n,
        y_true=labels["y_true"],
        pred_a=labels["pred_a"],
        pred_b=labels["pred_b"],
        gap=None
        if columns.score_a is None
        else np.asarray(np.ma.getdata(res["fa_gap"]), dtype=np.float64),
    )


def duckdb_paired(
    data: Any,
    columns: PairedColumns,
    *,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
    varchar_sensitive: bool = False,
) -> PairedRows:
    """One ``GROUP BY`` scan of a DuckDB source (files, relation, query or in-memory table).

    ``varchar_sensitive``: CSV sensitive columns are read as the text in the file (the
    command line's rule: ``01`` and ``1`` are two groups).
    """
    import importlib.util
    import sys

    from fairaudit.metrics._engines._duckdb import _fetch, open_source, q

    varchar = columns.sensitive if varchar_sensitive else []
    with open_source(
        data, columns, memory_limit=memory_limit, threads=threads, varchar=varchar
    ) as (
        con,
        rel,
        described,
        files,
    ):
        if progress is None:  # on a terminal, for files, when tqdm is there
            show = bool(
                files and sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None
            )
        else:
            show = bool(progress)
        sens = [q(s) for s in columns.sensitive]
        t, a, b = q(columns.y_true), q(columns.pred_a), q(columns.pred_b)
        select_s = ", ".join(f"{s} AS fa_s{j}" for j, s in enumerate(sens))
        scores = ""
        if columns.score_a is not None and columns.score_b is not None:
            sa = f"CAST({q(columns.score_a)} AS DOUBLE)"
            sb = f"CAST({q(columns.score_b)} AS DOUBLE)"
            scores = (
                f", max(abs({sb} - {sa})) AS fa_gap"
                f", count(*) FILTER (WHERE {sa} IS NULL OR isnan({sa})) AS fa_sa_bad"
                f", count(*) FILTER (WHERE {sb} IS NULL OR isnan({sb})) AS fa_sb_bad"
            )
        sql = (
            f"SELECT {select_s}, {t} AS fa_t, {a} AS fa_a, {b} AS fa_b, count(*) AS fa_n"
            f"{scores} FROM fa_src GROUP BY {', '.join(sens)}, {t}, {a}, {b}"
        )
        res = _fetch(rel, sql, con, show, "fairaudit: comparing")
        return _rows(res, columns, described)


def spark_paired(df: Any, columns: PairedColumns) -> PairedRows:
    """One ``groupBy().agg()`` job on a Spark DataFrame; only the aggregates are collected."""
    from fairaudit.metrics._engines._columns import check_columns
    from fairaudit.metrics._engines._spark import _array, _check_session, _collect, _objects

    F = _check_session(df)
    check_columns(columns, list(df.columns), "the Spark DataFrame")
    sens = [F.col(s).alias(f"fa_s{j}") for j, s in enumerate(columns.sensitive)]
    keys = [
        F.col(columns.y_true).alias("fa_t"),
        F.col(columns.pred_a).alias("fa_a"),
        F.col(columns.pred_b).alias("fa_b"),
    ]
    aggs = [F.count(F.lit(1)).alias("fa_n")]
    if columns.score_a is not None and columns.score_b is not None:
        sa = F.col(columns.score_a).cast("double")
        sb = F.col(columns.score_b).cast("double")

        def bad(c: Any) -> Any:
            return F.sum(F.when(c.isNull() | F.isnan(c), 1).otherwise(0))

        aggs += [
            F.max(F.abs(sb - sa)).alias("fa_gap"),
            bad(sa).alias("fa_sa_bad"),
            bad(sb).alias("fa_sb_bad"),
        ]
    res = _collect(df.groupBy(*sens, *keys).agg(*aggs))
    fetched: dict[str, Any] = {
        "fa_n": np.asarray(res["fa_n"], dtype=np.int64),
        **{k: _array(res[k]) for k in ("fa_t", "fa_a", "fa_b")},
        **{f"fa_s{j}": _objects(res[f"fa_s{j}"]) for j in range(len(columns.sensitive))},
    }
    if columns.score_a is not None:
        fetched["fa_sa_bad"] = np.asarray([v or 0 for v in res["fa_sa_bad"]], dtype=np.int64)
        fetched["fa_sb_bad"] = np.asarray([v or 0 for v in res["fa_sb_bad"]], dtype=np.int64)
        fetched["fa_gap"] = np.asarray(
            [np.nan if v is None else v for v in res["fa_gap"]], dtype=np.float64
        )
    return _rows(fetched, columns, "the Spark DataFrame")


def spark_files_paired(
    data: list[str], columns: PairedColumns, *, master: str | None
) -> PairedRows:
    """Read files with Spark (the command's ``--engine spark``) and scan them as above.

    CSV columns are read as text (the sensitive columns stay the text in the file); labels
    are then compared as text, scores cast to double.
    """
    from fairaudit.metrics._engines._spark import read_spark_files

    with read_spark_files(data, master=master) as (df, _kind, _files):
        return spark_paired(df, columns)
