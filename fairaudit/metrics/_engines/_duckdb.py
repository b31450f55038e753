"""DuckDB engine: the count table as ``GROUP BY`` queries over files or relations.

Rows never leave DuckDB: one scan with ``GROUPING SETS`` returns the cells per (group,
y_true, y_pred) and the score atoms per (group, score, y_true); regression returns per-group
sums (and, for the bootstrap, per-group chunks of sorted values from a window query). DuckDB
runs out of core: beyond ``memory_limit`` it spills to a temporary folder.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fairaudit._optional import import_optional
from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.metrics._count_table import infer_task, regression_per_group
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._engines._columns import Columns, check_columns, check_numeric_columns
from fairaudit.metrics._engines._finalize import (
    Aggregates,
    classification_table,
    labels_of,
    regression_table,
    values_of,
)

__all__ = ["duckdb_table", "file_relation", "open_source", "source_entry"]

_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)?\s*$", re.IGNORECASE)
_PARQUET = (".parquet", ".pq", ".parq")
_CSV = (".csv",)
_TSV = (".tsv", ".tab")
_COMPRESSED = (".gz", ".gzip", ".zst")
# seconds a scan runs before its progress bar appears
_PROGRESS_AFTER = 1.0


class SourceError(DataError):
    """The data source cannot be read (missing, empty, corrupt or mixed files)."""


def q(name: str) -> str:
    """Quote an identifier for SQL."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """Quote a string literal for SQL."""
    return "'" + text.replace("'", "''") + "'"


def expand_paths(data: Any) -> list[str]:
    """Files named by a path, glob, folder or list of them; refuses what matches nothing."""
    items = list(data) if isinstance(data, list | tuple) else [data]
    out: list[str] = []
    for item in items:
        text = os.fspath(item)
        if any(ch in text for ch in "*?["):
            matches = sorted(m for m in glob.glob(text, recursive=True) if os.path.isfile(m))
            if not matches:
                raise FileNotFoundError(f"no file matches {text}; check the path and pattern.")
            out.extend(matches)
        elif os.path.isdir(text):
            found = sorted(
                m
                for m in glob.glob(os.path.join(text, "**", "*"), recursive=True)
                if os.path.isfile(m) and _format(m, strict=False) is not None
            )
            if not found:
                raise FileNotFoundError(f"folder {text} holds no Parquet or CSV file.")
            out.extend(found)
        elif not os.path.exists(text):
            raise FileNotFoundError(f"file not found: {text}")
        else:
            out.append(text)
    return out


def _format(path: str, *, strict: bool = True) -> str | None:
    name = path.lower()
    if name.endswith(".zip"):
        name = name[:-4]
        kind = _format(name, strict=strict)
        return None if kind is None else kind + "+zip"
    for ext in _COMPRESSED:
        if name.endswith(ext):
            name = name[: -len(ext)]
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_TSV):
        return "tsv"
    if name.endswith(_CSV):
        return "csv"
    if strict:
        raise SourceError(
            f"cannot tell the format of {path}: name it .parquet, .csv or .tsv (optionally "
            ".gz), or open it yourself and pass a DuckDB relation as data."
        )
    return None


def _unzip(path: str, folder: str) -> str:
    """Extract the one data file of a .zip archive (DuckDB reads no zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise SourceError(
                    f"{path} holds {len(members)} files; a .csv.zip must hold exactly one."
                )
            target = os.path.join(folder, f"{len(os.listdir(folder))}_{Path(path).stem}")
            with archive.open(members[0]) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"cannot read {path}: not a valid zip archive ({exc}).") from exc
    return target


def _types_clause(varchar: list[str]) -> str:
    if not varchar:
        return ""
    inner = ", ".join(f"{lit(c)}: 'VARCHAR'" for c in varchar)
    return f", types={{{inner}}}"


def file_relation(
    con: Any, files: list[str], *, varchar: list[str], scratch: str
) -> tuple[Any, str]:
    """Open the files (one format) as a relation, after checking their schemas agree."""
    duckdb = sys.modules["duckdb"]
    kinds = {_format(f) for f in files}
    if len(kinds) != 1:
        raise SourceError(
            f"the files mix formats {sorted(str(k) for k in kinds)}; pass files of one format."
        )
    kind = str(kinds.pop())
    if kind.endswith("+zip"):
        files = [_unzip(f, scratch) for f in files]
        kind = kind[:-4]
    for f in files:
        if os.path.getsize(f) == 0:
            raise SourceError(f"{f} is empty.")
    listing = "[" + ", ".join(lit(f) for f in files) + "]"
    described = files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more files)"
    try:
        if kind == "parquet":
            schema = con.sql(
                f"SELECT file_name, name FROM parquet_schema({listing}) "
                "WHERE num_children IS NULL OR num_children = 0"
            ).fetchall()
            per_file: dict[str, list[str]] = {}
            for file_name, name in schema:
                per_file.setdefault(file_name, []).append(name)
            sql = f"SELECT * FROM read_parquet({listing})"
        else:
            delim = ", delim='\\t'" if kind == "tsv" else ""
            per_file = {}
            for f in files:
                rel = con.sql(f"SELECT * FROM read_csv({lit(f)}{delim}) LIMIT 0")
                per_file[f] = list(rel.columns)
            have = set(per_file[files[0]])
            cast = [c for c in varchar if c in have]
            sql = f"SELECT * FROM read_csv({listing}{delim}{_types_clause(cast)})"
    except duckdb.Error as exc:
        label = "Parquet" if kind == "parquet" else kind.upper()
        raise SourceError(f"cannot read {described} as {label}: {_short(exc)}") from exc
    first = files[0]
    reference = per_file.get(first, next(iter(per_file.values()), []))
    for f, cols in per_file.items():
        if set(cols) != set(reference):
            missing = sorted(set(reference) - set(cols))
            extra = sorted(set(cols) - set(reference))
            raise SourceError(
                f"the files do not share one schema: {f!r} differs from {first!r} "
                f"(missing {missing}, extra {extra}); audit them separately and add the "
                "count tables, or align the files."
            )
    return con.sql(sql), described


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _progress_bar_off(con: Any) -> None:
    """Turn DuckDB's own progress bar off (fairaudit shows its own, on request).

    In Jupyter without ipywidgets DuckDB refuses to change the setting at all ("required package
    'ipywidgets' is missing"), although its value there is already off: that is not an error.
    """
    duckdb = sys.modules["duckdb"]  # loaded: con is one of its connections
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:
        if con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]:
            raise


@contextmanager
def open_source(
    data: Any,
    columns: Columns | None,
    *,
    memory_limit: str | None,
    threads: int | None,
    varchar: list[str] | None = None,
) -> Iterator[tuple[Any, Any, str, bool]]:
    """Yield (connection or None, relation, description, is_files) for a DuckDB source."""
    duckdb = import_optional("duckdb", purpose="data= from files or a DuckDB relation")
    if memory_limit is not None and (
        not isinstance(memory_limit, str) or not _MEMORY.match(memory_limit)
    ):
        raise ValueError(
            f"memory_limit must be a size such as '2GB' or '500MB', got {memory_limit!r}."
        )
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ValueError(f"threads must be a positive int, got {threads!r}.")
    scratch = tempfile.mkdtemp(prefix="fairaudit-duckdb-")
    con = None
    own = False
    try:
        if isinstance(data, tuple) and len(data) == 2:
            con, query = data
            if not isinstance(query, str):
                raise TypeError(
                    "data=(connection, query) needs the query as a str, got "
                    f"{type(query).__name__}."
                )
            try:
                rel = con.sql(query)
            except duckdb.Error as exc:
                raise DataError(f"the query failed: {_short(exc)}") from exc
            if rel is None:
                raise DataError("the query returns no rows (is it a SELECT?).")
            described, files = "the query", False
        elif isinstance(data, duckdb.DuckDBPyRelation):
            rel, described, files = data, "the relation", False
        elif isinstance(data, duckdb.DuckDBPyConnection):
            raise TypeError(
                "data is a DuckDB connection: pass (connection, 'SELECT ...') or "
                "connection.sql('SELECT ...')."
            )
        else:
            own = True
            con = duckdb.connect()
            _progress_bar_off(con)
            con.execute(f"SET temp_directory = {lit(scratch)}")
            module = type(data).__module__
            if module.startswith("pandas"):
                rel, described, files = con.from_df(data), "data", False
            elif module.startswith("polars"):
                rel, described, files = con.from_arrow(data.to_arrow()), "data", False
            elif module.startswith("pyarrow"):
                rel, described, files = con.from_arrow(data), "data", False
            else:
                paths = expand_paths(data)
                rel, described = file_relation(con, paths, varchar=varchar or [], scratch=scratch)
                files = True
        if con is not None:
            if memory_limit is not None:
                con.execute(f"SET memory_limit = {lit(memory_limit)}")
            if threads is not None:
                con.execute(f"SET threads = {int(threads)}")
        if columns is not None:
            check_columns(columns, list(rel.columns), described)
        yield con, rel, described, files
    finally:
        if own and con is not None:
            con.close()
        shutil.rmtree(scratch, ignore_errors=True)


class _Progress:
    """A tqdm bar fed by ``connection.query_progress()`` from a polling thread."""

    def __init__(self, con: Any, enabled: bool, label: str) -> None:
        self.con = con
        self.enabled = enabled and con is not None
        self.label = label
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            self.tqdm = import_optional("tqdm", purpose="the progress bar (progress=True)").tqdm
            self.thread = threading.Thread(target=self._poll, daemon=True)
            self.thread.start()
        return self

    def _poll(self) -> None:
        start = time.monotonic()
        bar = None
        try:
            while not self.done.wait(0.25):
                if time.monotonic() - start < _PROGRESS_AFTER:
                    continue
                with suppress(Exception):
                    value = float(self.con.query_progress())
                    if value < 0:
                        continue
                    if bar is None:
                        bar = self.tqdm(
                            total=100, desc=self.label, unit="%", file=sys.stderr, leave=False
                        )
                    bar.n = min(round(value, 1), 100.0)
                    bar.refresh()
        finally:
            if bar is not None:
                bar.close()

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join(timeout=2)


def _fetch(rel: Any, sql: str, con: Any, progress: bool, label: str) -> dict[str, Any]:
    duckdb = sys.modules["duckdb"]
    try:
        with _Progress(con, progress, label):
            result: dict[str, Any] = rel.query("fa_src", sql).fetchnumpy()
        return result
    except duckdb.Error as exc:
        raise SourceError(f"could not scan the data: {_short(exc)}") from exc


def _weight_checks(w: str | None) -> str:
    if w is None:
        return ""
    return (
        f", count(*) FILTER (WHERE {w} IS NULL) AS fa_w_null"
        f", count(*) FILTER (WHERE CAST({w} AS DOUBLE) < 0) AS fa_w_neg"
        f", count(*) FILTER (WHERE NOT isfinite(CAST({w} AS DOUBLE))) AS fa_w_inf"
    )


def check_weight_counts(res: dict[str, Any], column: str, argument: str = "sample_weight") -> None:
    """Refuse NULL, NaN, infinite or negative weights, with their numbers of rows.

    As the in-memory path: missing and non-finite values raise MissingValueError (checked
    first), negative ones DataError.
    """
    null = int(np.asarray(res["fa_w_null"]).sum())
    inf = int(np.asarray(res["fa_w_inf"]).sum())
    if null or inf:
        raise MissingValueError(
            f"{argument}: column {column!r} has {null + inf} missing or infinite value(s) "
            f"({null} NULL, {inf} NaN or infinite); remove or impute them."
        )
    neg = int(np.asarray(res["fa_w_neg"]).sum())
    if neg:
        raise DataError(
            f"{argument}: column {column!r} has {neg} negative value(s); weights must be >= 0."
        )


def _groups(res: dict[str, Any], names: list[str], rows: np.ndarray | None = None) -> dict:
    out = {}
    for j, name in enumerate(names):
        values = values_of(res[f"fa_s{j}"])
        out[name] = values if rows is None else values[rows]
    return out


def _resolve_auto_task(
    rel: Any, columns: Columns, con: Any, task: str, metrics: Any, pos_label: Any
) -> str:
    """Decide regression vs labels as numpy does, with one cheap scan when y_pred is float."""
    if task != "auto":
        return infer_task(np.zeros(1), np.zeros(1), metrics, pos_label, task)
    types = dict(zip(rel.columns, [str(t).upper() for t in rel.types], strict=True))
    p_type = types[columns.y_pred]
    probe_t = np.zeros(1, dtype=np.int64)
    if not any(k in p_type for k in ("FLOAT", "DOUBLE", "REAL", "DECIMAL")):
        return infer_task(probe_t, np.zeros(1, dtype=np.int64), metrics, pos_label, task)
    t, p = q(columns.y_true), q(columns.y_pred)
    t_numeric = any(
        k in types[columns.y_true] for k in ("INT", "FLOAT", "DOUBLE", "REAL", "DECIMAL", "BOOLEAN")
    )
    res = _fetch(
        rel,
        f"SELECT bool_and(CAST({p} AS DOUBLE) = floor(CAST({p} AS DOUBLE))) AS whole FROM fa_src",
        None,
        False,
        "",
    )
    whole = res["whole"][0]
    if whole is np.ma.masked or not bool(whole):
        return infer_task(probe_t, np.array([0.5]), metrics, pos_label, task)
    distinct = f"SELECT DISTINCT CAST({p} AS DOUBLE) AS v FROM fa_src WHERE {p} IS NOT NULL"
    if t_numeric:
        distinct += f" UNION SELECT DISTINCT CAST({t} AS DOUBLE) FROM fa_src WHERE {t} IS NOT NULL"
    vals = np.asarray(_fetch(rel, f"SELECT v FROM ({distinct}) LIMIT 3", None, False, "")["v"])
    return infer_task(
        vals.astype(np.float64) if t_numeric else np.array(["x"], dtype=object),
        vals.astype(np.float64),
        metrics,
        pos_label,
        task,
    )


def duckdb_table(
    data: Any,
    columns: Columns,
    *,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
    regression_n_boot: int,
    varchar_sensitive: bool = False,
    labels: Any = None,
    fingerprint: bool = False,
) -> CountTable:
    """Count the rows of a DuckDB source (files, relation, query, or in-memory table).

    The table's ``source`` says where the rows came from (the files, the query) and, with
    ``fingerprint``, holds order-independent digests of the columns used (one more scan).
    """
    varchar = columns.sensitive if varchar_sensitive else []
    with open_source(
        data, columns, memory_limit=memory_limit, threads=threads, varchar=varchar
    ) as (con, rel, described, files):
        table = _count(
            rel, columns, con, files, described, pos_label=pos_label, task=task,
            metrics=metrics, missing_groups=missing_groups, progress=progress,
            regression_n_boot=regression_n_boot, labels=labels,
        )  # fmt: skip
        entry = source_entry(data, files, table.n_rows)
        if fingerprint:
            from fairaudit.metrics._engines._fingerprint import (
                duckdb_fingerprint_sql,
                fingerprints_from,
            )

            show = bool(progress) and files
            res = _fetch(rel, duckdb_fingerprint_sql(columns, q), con, show, "fairaudit: digests")
            first = {k: np.asarray(v, dtype=object)[0] for k, v in res.items()}
            entry["fingerprints"] = fingerprints_from(first, columns, "duckdb")
        return replace(table, source=(entry,))


def source_entry(data: Any, files: bool, rows: int) -> dict[str, Any]:
    """Where the rows came from, JSON-safe: the files (at most 100 listed) or the query."""
    entry: dict[str, Any] = {"engine": "duckdb"}
    if files:
        paths = [os.path.abspath(p) for p in expand_paths(data)]
        entry.update(kind="files", paths=paths[:100], n_files=len(paths))
    elif isinstance(data, tuple):
        entry.update(kind="duckdb query", query=str(data[1]))
    else:
        module = type(data).__module__.split(".")[0].lstrip("_")
        entry["kind"] = "duckdb relation" if module == "duckdb" else f"{module} table"
    entry["rows"] = int(rows)
    return entry


def _numeric_type(kind: str) -> bool:
    base = kind.upper().split("(")[0]
    return base in _NUMERIC_TYPES


_NUMERIC_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
    "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL",
}  # fmt: skip


def _count(
    rel: Any,
    columns: Columns,
    con: Any,
    files: bool,
    described: str,
    *,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    progress: bool | None,
    regression_n_boot: int,
    labels: Any,
) -> CountTable:
    """Scan the relation into a count table (the body of :func:`duckdb_table`)."""
    if progress is None:  # on a terminal, for files, when tqdm is there
        import importlib.util

        show = bool(files and sys.stderr.isatty() and importlib.util.find_spec("tqdm") is not None)
    else:
        show = bool(progress)
    if labels is not None:
        _refuse_fractional_predictions(rel, columns)
        resolved = "binary"
    else:
        resolved = _resolve_auto_task(rel, columns, con, task, metrics, pos_label)
    types = dict(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    check_numeric_columns(
        columns,
        types,
        _numeric_type,
        lambda kind: kind.upper() == "BOOLEAN",
        regression=resolved == "regression",
    )
    if resolved == "regression":
        return _regression(rel, columns, con, show, missing_groups, regression_n_boot)
    return _classification(
        rel, columns, con, show, pos_label, resolved, metrics, missing_groups, labels, described
    )


def _classification(
    rel: Any,
    columns: Columns,
    con: Any,
    show: bool,
    pos_label: Any,
    task: str,
    metrics: Any,
    missing_groups: Any,
    labels: Any = None,
    described: str = "the data",
) -> CountTable:
    sens = [q(s) for s in columns.sensitive]
    t, p = q(columns.y_true), q(columns.y_pred)
    w = None if columns.sample_weight is None else q(columns.sample_weight)
    select_s = ", ".join(f"{s} AS fa_s{j}" for j, s in enumerate(sens))
    group_s = ", ".join(sens)
    weights = "" if w is None else f", fsum(CAST({w} AS DOUBLE)) AS fa_w"
    weights += "" if w is None else f", fsum(CAST({w} AS DOUBLE) * CAST({w} AS DOUBLE)) AS fa_w2"
    weights += _weight_checks(w)
    if columns.y_score is None:
        sql = (
            f"SELECT {select_s}, {t} AS fa_t, {p} AS fa_p, count(*) AS fa_n{weights} "
            f"FROM fa_src GROUP BY {group_s}, {t}, {p}"
        )
    else:
        sc = q(columns.y_score)
        sql = (
            f"SELECT {select_s}, {t} AS fa_t, {p} AS fa_p, CAST({sc} AS DOUBLE) AS fa_score, "
            f"GROUPING({sc}) AS fa_is_cell, count(*) AS fa_n{weights} FROM fa_src "
            f"GROUP BY GROUPING SETS (({group_s}, {t}, {p}), ({group_s}, {sc}, {t}))"
        )
    res = _fetch(rel, sql, con, show, "fairaudit: counting")
    n_all = np.asarray(res["fa_n"], dtype=np.int64)
    if w is not None:
        assert columns.sample_weight is not None
        if columns.y_score is not None:  # count each row once: in its cell row
            cell_rows = np.asarray(res["fa_is_cell"]) == 1
            check_weight_counts(
                {k: np.asarray(res[k])[cell_rows] for k in res},
                columns.sample_weight,
                columns.show("sample_weight"),
            )
        else:
            check_weight_counts(res, columns.sample_weight, columns.show("sample_weight"))
    is_cell = (
        np.ones(len(n_all), dtype=bool)
        if columns.y_score is None
        else np.asarray(res["fa_is_cell"]) == 1
    )
    rows_c = np.flatnonzero(is_cell)
    n_c = n_all[rows_c]
    if n_c.size == 0:
        raise SourceError(f"{described} has a header but no rows.")
    y_true = labels_of(
        _take(res["fa_t"], rows_c),
        argument=columns.show("y_true"),
        rows=n_c,
        column_name=columns.y_true,
    )
    y_pred = labels_of(
        _take(res["fa_p"], rows_c),
        argument=columns.show("y_pred"),
        rows=n_c,
        column_name=columns.y_pred,
    )
    if labels is not None:
        labels.fit(y_true, y_pred)
        y_true, y_pred, pos_label = labels.true(y_true), labels.pred(y_pred), 1
    weighted = w is not None
    cells = Aggregates(
        groups=_groups(res, columns.sensitive, rows_c),
        n=n_c,
        w=None if not weighted else np.asarray(res["fa_w"], dtype=np.float64)[rows_c],
        w2=None if not weighted else np.asarray(res["fa_w2"], dtype=np.float64)[rows_c],
        y_true=y_true,
        y_pred=y_pred,
    )
    if weighted:
        total = float(np.asarray(cells.w).sum())
        if total <= 0:
            raise DataError("sample_weight is zero everywhere; at least one weight must be > 0.")
    atoms = None
    if columns.y_score is not None:
        rows_a = np.flatnonzero(~is_cell)
        n_a = n_all[rows_a]
        score = labels_of(
            _take(res["fa_score"], rows_a),
            argument=columns.show("y_score"),
            rows=n_a,
            column_name=columns.y_score,
        )
        a_true = labels_of(
            _take(res["fa_t"], rows_a),
            argument=columns.show("y_true"),
            rows=n_a,
            column_name=columns.y_true,
        )
        if labels is not None:
            a_true = labels.true(a_true)
        atoms = Aggregates(
            groups=_groups(res, columns.sensitive, rows_a),
            n=n_a,
            w=None if not weighted else np.asarray(res["fa_w"], dtype=np.float64)[rows_a],
            y_true=a_true,
            score=np.asarray(score, dtype=np.float64),
        )
    return classification_table(
        cells,
        atoms,
        pos_label=pos_label,
        task=task,
        metrics=metrics,
        missing_groups=missing_groups,
        weighted=weighted,
    )


def _refuse_fractional_predictions(rel: Any, columns: Columns) -> None:
    """Refuse scores passed as predictions before grouping by them (one cheap scan)."""
    types = dict(zip(rel.columns, [str(t).upper() for t in rel.types], strict=True))
    if not any(k in types[columns.y_pred] for k in ("FLOAT", "DOUBLE", "REAL", "DECIMAL")):
        return
    p = q(columns.y_pred)
    res = _fetch(
        rel,
        f"SELECT DISTINCT {p} AS v FROM fa_src WHERE {p} <> floor({p}) LIMIT 5",
        None,
        False,
        "",
    )
    values = np.asarray(res["v"]).tolist()
    if values:
        from fairaudit._validation import format_values

        raise DataError(
            f"--prediction: column {columns.y_pred!r} has fractional values "
            f"{format_values(values)}, which look like scores; pass the predicted labels with "
            "--prediction (and the scores with --score)."
        )


def _take(column: Any, rows: np.ndarray) -> Any:
    if isinstance(column, np.ma.MaskedArray):
        return column[rows]
    return np.asarray(column)[rows]


_QUANTITIES = {
    "prediction": "fa_p",
    "error": "(fa_p - fa_t)",
    "absolute_error": "abs(fa_p - fa_t)",
    "squared_error": "((fa_p - fa_t) * (fa_p - fa_t))",
}


def _regression(
    rel: Any, columns: Columns, con: Any, show: bool, missing_groups: Any, n_boot: int
) -> CountTable:
    sens = [q(s) for s in columns.sensitive]
    t, p = q(columns.y_true), q(columns.y_pred)
    w_col = None if columns.sample_weight is None else q(columns.sample_weight)
    w = "1.0" if w_col is None else f"CAST({w_col} AS DOUBLE)"
    select_s = ", ".join(f"{s} AS fa_s{j}" for j, s in enumerate(sens))
    inner = (
        f"SELECT {select_s}, CAST({t} AS DOUBLE) AS fa_t, CAST({p} AS DOUBLE) AS fa_p, "
        f"{w} AS fa_wv, {t} IS NULL AS fa_t_null, {p} IS NULL AS fa_p_null"
        + ("" if w_col is None else f", {w_col} AS fa_wraw")
        + " FROM fa_src"
    )
    group_s = ", ".join(f"fa_s{j}" for j in range(len(sens)))
    checks = ""
    if w_col is not None:
        checks = (
            ", count(*) FILTER (WHERE fa_wraw IS NULL) AS fa_w_null"
            ", count(*) FILTER (WHERE fa_wv < 0) AS fa_w_neg"
            ", count(*) FILTER (WHERE NOT isfinite(fa_wv)) AS fa_w_inf"
        )
    sql = (
        f"SELECT {group_s}, count(*) AS fa_n, count(*) FILTER (WHERE fa_t_null) AS fa_t_null, "
        "count(*) FILTER (WHERE fa_p_null) AS fa_p_null, "
        "count(*) FILTER (WHERE NOT isfinite(fa_t) OR NOT isfinite(fa_p)) AS fa_nonfinite, "
        "fsum(fa_wv) AS fa_w, fsum(fa_wv * fa_p) AS fa_wp, fsum(fa_wv * (fa_p - fa_t)) AS fa_we, "
        "fsum(fa_wv * abs(fa_p - fa_t)) AS fa_wa, "
        "fsum(fa_wv * ((fa_p - fa_t) * (fa_p - fa_t))) AS fa_ws, "
        f"fsum(fa_wv * fa_wv) AS fa_w2{checks} FROM ({inner}) GROUP BY {group_s}"
    )
    res = _fetch(rel, sql, con, show, "fairaudit: summing")
    if len(np.asarray(res["fa_n"])) == 0:
        raise SourceError("the data has no rows.")
    for key, argument, name in (
        ("fa_t_null", "y_true", columns.y_true),
        ("fa_p_null", "y_pred", columns.y_pred),
    ):
        count = int(np.asarray(res[key]).sum())
        if count:
            raise DataError(
                f"{argument} (column {name!r}) has {count} missing (NULL) value(s); remove or "
                "impute those rows before auditing."
            )
    bad = int(np.asarray(res["fa_nonfinite"]).sum())
    if bad:
        raise DataError(
            f"y_true or y_pred has {bad} missing or infinite value(s) (NaN/inf); remove them."
        )
    if w_col is not None:
        assert columns.sample_weight is not None
        check_weight_counts(res, columns.sample_weight, columns.show("sample_weight"))
    sums = np.column_stack(
        [np.asarray(res[k], dtype=np.float64) for k in ("fa_w", "fa_wp", "fa_we", "fa_wa", "fa_ws")]
    )
    weighted = w_col is not None
    agg = Aggregates(
        groups=_groups(res, columns.sensitive),
        n=np.asarray(res["fa_n"], dtype=np.int64),
        w2=np.asarray(res["fa_w2"], dtype=np.float64) if weighted else None,
        sums=sums,
    )
    if weighted and float(sums[:, 0].sum()) <= 0:
        raise DataError("sample_weight is zero everywhere; at least one weight must be > 0.")
    reg_atoms = None
    if n_boot > 0:
        per_group = regression_per_group(n_boot, int(np.count_nonzero(agg.n)))
        reg_atoms = {}
        for quantity, expr in _QUANTITIES.items():
            chunk_sql = (
                f"WITH b AS (SELECT {group_s}, {expr} AS fa_q, fa_wv FROM ({inner})), "
                f"r AS (SELECT *, row_number() OVER (PARTITION BY {group_s} "
                "ORDER BY fa_q, fa_wv) - 1 AS fa_rk, "
                f"count(*) OVER (PARTITION BY {group_s}) AS fa_sz FROM b) "
                f"SELECT {group_s}, (fa_rk * least(fa_sz, {per_group})) // fa_sz AS fa_chunk, "
                "count(*) AS fa_n, fsum(fa_wv) AS fa_w, fsum(fa_wv * fa_q) AS fa_wq "
                f"FROM r GROUP BY ALL"
            )
            ch = _fetch(rel, chunk_sql, con, show, f"fairaudit: bootstrap atoms ({quantity})")
            chunk_agg = Aggregates(
                groups=_groups(ch, columns.sensitive),
                n=np.asarray(ch["fa_n"], dtype=np.int64),
                sums=np.column_stack(
                    [np.asarray(ch["fa_w"], np.float64), np.asarray(ch["fa_wq"], np.float64)]
                ),
            )
            reg_atoms[quantity] = (chunk_agg, np.asarray(ch["fa_chunk"], dtype=np.int64))
    return regression_table(
        agg, missing_groups=missing_groups, weighted=weighted, reg_atoms=reg_atoms
    )
