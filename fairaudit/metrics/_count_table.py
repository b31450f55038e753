"""The public count table: build it (numpy or an engine), add tables, store them.

``count_table`` is the one pass over the data; ``group_metrics(table, ...)`` derives every
metric, interval and test from it. Tables of partitions or days add with ``+``.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._validation import as_1d, check_consistent_length, format_values
from fairaudit._validation import check_sample_weight as _check_sample_weight
from fairaudit.exceptions import DataError
from fairaudit.metrics._counts import (
    CountTable,
    ScoreAtoms,
    binary_cells,
    multiclass_cells,
    regression_atoms,
    regression_sums,
)
from fairaudit.metrics._encode import (
    MISSING_LABEL,
    as_values,
    binary_labels,
    encode_groups,
    multiclass_labels,
)

__all__ = ["CountTable", "count_table"]

# cells x replicates drawn for the regression bootstrap, at most (as in group_metrics)
_REGRESSION_BOOT_BUDGET = 10_000_000
# replicates the regression atoms of a stand-alone count table are sized for
DEFAULT_REGRESSION_N_BOOT = 1000

_SCHEMA_VERSION = 1

Task = Literal["auto", "binary", "multiclass", "regression"]


def regression_per_group(n_boot: int, n_groups: int) -> int:
    """Chunks per group of the regression bootstrap atoms (same rule as group_metrics)."""
    return max(_REGRESSION_BOOT_BUDGET // (max(int(n_boot), 1) * max(n_groups, 1)), 50)


def make_index(
    names: tuple[str, ...], levels: tuple[pd.Index, ...], feature_codes: np.ndarray
) -> pd.Index:
    """Group index from per-feature labels and codes (as GroupEncoding.labels builds it)."""
    if len(names) == 1:
        return pd.Index(levels[0].take(feature_codes[:, 0]), dtype=object, name=names[0])
    return pd.MultiIndex(
        levels=[pd.Index(lv, dtype=object) for lv in levels],
        codes=[list(feature_codes[:, j]) for j in range(len(names))],
        names=list(names),
    )


def infer_task(
    y_true: np.ndarray, y_pred: np.ndarray, metrics: Any, pos_label: Any, task: str
) -> str:
    """Resolve the task as group_metrics does (``task="auto"``); valid on distinct values too."""
    from fairaudit.metrics._registry import METRIC_REGISTRY

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
            return "regression"
    return "multiclass" if pos_label is None else "binary"


def numpy_table(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    pos_label: Any = 1,
    task: str = "auto",
    metrics: Any = None,
    missing_groups: Literal["error", "separate"] = "error",
    regression_n_boot: int = DEFAULT_REGRESSION_N_BOOT,
) -> CountTable:
    """Count in-memory arrays into a table: one bincount over a combined code."""
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
        score = as_values(score_s, name="y_score").astype(np.float64)
    weight = _check_sample_weight(sample_weight, n)
    resolved = infer_task(t_values, p_values, metrics, pos_label, task)
    classes: list[Any] | None = None
    codes = encoding.codes
    g = encoding.n_codes
    t_pos = None
    if resolved == "regression":
        for arr, name in ((t_values, "y_true"), (p_values, "y_pred")):
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{name} must be numeric for regression metrics, got {arr.dtype}.")
        t_float, p_float = t_values.astype(np.float64), p_values.astype(np.float64)
        cells, cell_n, w2 = regression_sums(codes, t_float, p_float, weight, g)
        pos_label = None
    elif resolved == "multiclass":
        t_code, p_code, classes = multiclass_labels(t_values, p_values)
        cells, cell_n, w2 = multiclass_cells(codes, t_code, p_code, weight, g, len(classes))
        pos_label = None
    else:
        if pos_label is None:
            raise DataError("task='binary' needs a pos_label; pass the positive class.")
        t_pos, p_pos = binary_labels(t_values, p_values, pos_label=pos_label)
        cells, cell_n, w2 = binary_cells(codes, t_pos, p_pos, weight, g)
    rows = cell_n.reshape(g, -1).sum(axis=1)
    keep = np.flatnonzero(rows)
    lookup = np.full(g, -1, dtype=np.intp)
    lookup[keep] = np.arange(keep.size)
    if keep.size < g:
        cells, cell_n = cells[keep], cell_n[keep]
        w2 = None if w2 is None else w2[keep]
    index, feature_codes = encoding.labels(keep)
    reg_atoms = None
    if resolved == "regression" and regression_n_boot > 0:
        per_group = regression_per_group(regression_n_boot, keep.size)
        reg_atoms = regression_atoms(codes, t_float, p_float, weight, g, per_group)
        for a in reg_atoms.values():
            a[:, 0] = lookup[a[:, 0].astype(np.intp)]
    atoms = None
    if score is not None:
        if resolved != "binary":
            raise DataError(f"y_score is only supported for binary labels, not {resolved}.")
        assert t_pos is not None
        atoms = ScoreAtoms.from_rows(codes, score, t_pos, weight, g)
        atoms = replace(atoms, group=lookup[atoms.group])
    return CountTable(
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
        pos_label=pos_label,
    )


def count_table(
    y_true: Any = None,
    y_pred: Any = None,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    pos_label: Any = 1,
    task: Task = "auto",
    metrics: Any = None,
    missing_groups: Literal["error", "separate"] = "error",
    data: Any = None,
    engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto",
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
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
    pos_label : object, default 1
        The positive label; ``None`` for one-vs-rest multiclass tables.
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
        ``positive_count``, ``negative_count``.

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
    from fairaudit.metrics._engines import table_from_source

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
    )


# ---------------------------------------------------------------------------------------------
# adding tables


def _union_levels(a: pd.Index, b: pd.Index) -> pd.Index:
    """Union of two features' labels, ordered as the numpy path orders them."""
    if len(a) == len(b) and all(x == y and type(x) is type(y) for x, y in zip(a, b, strict=True)):
        return a
    seen = list(dict.fromkeys([*a.tolist(), *b.tolist()]))
    has_missing = MISSING_LABEL in seen
    values = [v for v in seen if not (isinstance(v, str) and v == MISSING_LABEL)]
    with contextlib.suppress(TypeError):  # labels of mixed types keep first-seen order
        values = sorted(values)
    if has_missing:
        values.append(MISSING_LABEL)
    return pd.Index(values, dtype=object, name=a.name)


def add_tables(a: CountTable, b: CountTable) -> CountTable:
    """Merge two count tables: union of groups, summed cells, merged score atoms."""

    def refuse(what: str, x: Any, y: Any) -> DataError:
        return DataError(
            f"cannot add count tables of different {what}: {x!r} and {y!r}; tables add only "
            "when computed with the same task, classes, pos_label, sensitive features and "
            "weighting."
        )

    if a.task != b.task:
        raise refuse("tasks", a.task, b.task)
    if a.feature_names != b.feature_names:
        raise refuse("sensitive features", list(a.feature_names), list(b.feature_names))
    if a.classes != b.classes:
        raise refuse("classes", a.classes, b.classes)
    if a.task == "binary" and a.pos_label != b.pos_label:
        raise refuse("pos_label", a.pos_label, b.pos_label)
    if a.weighted != b.weighted:
        raise refuse("weighting (sample_weight)", a.weighted, b.weighted)
    if (a.scores is None) != (b.scores is None):
        raise refuse(
            "score columns (one table has y_score)", a.scores is not None, b.scores is not None
        )
    n_features = len(a.feature_names)
    levels = tuple(
        _union_levels(a.feature_levels[j], b.feature_levels[j]) for j in range(n_features)
    )

    def recode(t: CountTable) -> np.ndarray:
        out = np.empty_like(t.feature_codes)
        for j in range(n_features):
            out[:, j] = levels[j].get_indexer(t.feature_levels[j].take(t.feature_codes[:, j]))
        return out

    stacked = np.vstack([recode(a), recode(b)]).astype(np.intp)
    if n_features:
        feature_codes, inverse = np.unique(stacked, axis=0, return_inverse=True)
    else:  # pragma: no cover - a table always has a feature
        feature_codes, inverse = stacked[:1], np.zeros(len(stacked), dtype=np.intp)
    inverse = np.asarray(inverse, dtype=np.intp).ravel()
    map_a, map_b = inverse[: a.n_groups], inverse[a.n_groups :]
    n_new = len(feature_codes)

    def add(x: np.ndarray | None, y: np.ndarray | None) -> np.ndarray | None:
        if x is None or y is None:
            return None
        out = np.zeros((n_new, *x.shape[1:]), dtype=np.result_type(x, y))
        np.add.at(out, map_a, x)
        np.add.at(out, map_b, y)
        return out

    cells = add(a.cells, b.cells)
    cell_n = add(a.cell_n, b.cell_n)
    assert cells is not None
    assert cell_n is not None
    scores = None
    if a.scores is not None and b.scores is not None:
        sa, sb = a.scores, b.scores
        scores = ScoreAtoms.from_rows(
            np.concatenate([map_a[sa.group], map_b[sb.group]]),
            np.concatenate([sa.score, sb.score]),
            np.concatenate([sa.pos_w, sb.pos_w]),
            None,
            n_new,
            pos_n=np.concatenate([sa.pos_n, sb.pos_n]),
            neg_n=np.concatenate([sa.neg_n, sb.neg_n]),
            neg_w=np.concatenate([sa.neg_w, sb.neg_w]),
        )
    reg_atoms = None
    if a.reg_atoms is not None and b.reg_atoms is not None:
        reg_atoms = {}
        for key in a.reg_atoms:
            xa, xb = a.reg_atoms[key].copy(), b.reg_atoms[key].copy()
            xa[:, 0] = map_a[xa[:, 0].astype(np.intp)]
            xb[:, 0] = map_b[xb[:, 0].astype(np.intp)]
            both = np.vstack([xa, xb])
            reg_atoms[key] = both[np.argsort(both[:, 0], kind="stable")]
    return replace(
        a,
        index=make_index(a.feature_names, levels, feature_codes),
        feature_codes=feature_codes,
        feature_levels=levels,
        cells=cells,
        cell_n=cell_n,
        cell_w2=add(a.cell_w2, b.cell_w2),
        scores=scores,
        reg_atoms=reg_atoms,
    )


# ---------------------------------------------------------------------------------------------
# long format


_REGRESSION_SUMS = (
    "weight",
    "sum_prediction",
    "sum_error",
    "sum_absolute_error",
    "sum_squared_error",
)


def _group_columns(table: CountTable, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for j, name in enumerate(table.feature_names):
        labels = table.feature_levels[j].take(table.feature_codes[:, j])
        out[name] = pd.Series(np.repeat(np.asarray(labels, dtype=object), repeat), dtype=object)
    return out


def table_frame(table: CountTable, part: str = "cells") -> pd.DataFrame:
    """Long format of the cells (``part="cells"``) or score atoms (``"scores"``)."""
    g = table.n_groups
    if part == "scores":
        if table.scores is None:
            raise DataError("this count table has no scores (it was built without y_score).")
        s = table.scores
        out = pd.DataFrame(
            {
                name: pd.Series(
                    np.asarray(table.feature_levels[j], dtype=object).take(
                        table.feature_codes[s.group, j]
                    ),
                    dtype=object,
                )
                for j, name in enumerate(table.feature_names)
            }
        )
        out["score"] = s.score
        out["positive_weight"] = s.pos_w
        out["negative_weight"] = s.neg_w
        out["positive_count"] = s.pos_n.astype(np.int64)
        out["negative_count"] = s.neg_n.astype(np.int64)
        return out
    if part != "cells":
        raise ValueError(f"part must be 'cells' or 'scores', got {part!r}.")
    if table.task == "regression":
        out = pd.DataFrame(_group_columns(table, 1))
        out["count"] = table.cell_n[:, 0].astype(np.int64)
        for j, name in enumerate(_REGRESSION_SUMS):
            out[name] = table.cells[:, j]
        if table.cell_w2 is not None:
            out["weight_sq"] = table.cell_w2[:, 0]
        return out
    if table.task == "multiclass":
        assert table.classes is not None
        k = len(table.classes)
        labels = np.asarray(table.classes, dtype=object)
        t = np.tile(np.repeat(labels, k), g)
        p = np.tile(np.tile(labels, k), g)
        per = k * k
    else:
        t = np.tile(np.array([False, False, True, True]), g)
        p = np.tile(np.array([False, True, False, True]), g)
        per = 4
    out = pd.DataFrame(_group_columns(table, per))
    out["y_true"] = t
    out["y_pred"] = p
    out["count"] = table.cell_n.reshape(-1).astype(np.int64)
    out["weight"] = table.cells.reshape(-1).astype(np.float64)
    if table.cell_w2 is not None:
        out["weight_sq"] = table.cell_w2.reshape(-1)
    return out


# ---------------------------------------------------------------------------------------------
# Parquet: a long table (part, i, value) of every array, plus one JSON row of metadata


def _encode_label(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": v.hex()}
    if isinstance(v, pd.Timestamp):
        return {"timestamp": v.isoformat()}
    raise TypeError(
        f"to_parquet stores group labels that are str, int, float, bool, timestamps or None; "
        f"got {type(v).__name__} ({v!r}); convert the sensitive column to strings first."
    )


def _decode_label(v: Any) -> Any:
    if isinstance(v, dict):
        if "int" in v:
            return int(v["int"])
        if "float" in v:
            return float.fromhex(v["float"])
        if "timestamp" in v:
            return pd.Timestamp(v["timestamp"])
    return v


def _arrays(table: CountTable) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {
        "feature_codes": table.feature_codes,
        "cells": table.cells,
        "cell_n": table.cell_n,
    }
    if table.cell_w2 is not None:
        arrays["cell_w2"] = table.cell_w2
    if table.scores is not None:
        for f in ("group", "score", "pos_w", "neg_w", "pos_n", "neg_n"):
            arrays[f"scores.{f}"] = getattr(table.scores, f)
    for key, a in (table.reg_atoms or {}).items():
        arrays[f"reg_atoms.{key}"] = a
    return arrays


def write_parquet(table: CountTable, path: Any) -> None:
    """Write ``table`` to one Parquet file (DuckDB writes it; float64 keeps every value)."""
    import duckdb

    arrays = _arrays(table)
    for name, a in arrays.items():
        if a.dtype.kind in "iu" and a.size and int(np.abs(a).max()) >= 2**53:
            raise DataError(f"count table array {name} holds integers beyond 2**53.")
    meta = {
        "kind": "fairaudit.CountTable",
        "schema_version": _SCHEMA_VERSION,
        "task": table.task,
        "feature_names": list(table.feature_names),
        "feature_levels": [[_encode_label(v) for v in lv] for lv in table.feature_levels],
        "classes": None if table.classes is None else [_encode_label(v) for v in table.classes],
        "pos_label": _encode_label(table.pos_label),
        "weighted": table.weighted,
        "shapes": {k: list(a.shape) for k, a in arrays.items()},
        "dtypes": {k: a.dtype.str for k, a in arrays.items()},
    }
    parts = [np.full(1, "meta", dtype=object)]
    index = [np.zeros(1, dtype=np.int64)]
    values = [np.zeros(1)]
    text = [np.array([json.dumps(meta)], dtype=object)]
    for name, a in arrays.items():
        flat = a.reshape(-1)
        parts.append(np.full(flat.size, name, dtype=object))
        index.append(np.arange(flat.size, dtype=np.int64))
        values.append(flat.astype(np.float64))
        text.append(np.full(flat.size, None, dtype=object))
    frame = pd.DataFrame(
        {
            "part": np.concatenate(parts),
            "i": np.concatenate(index),
            "value": np.concatenate(values),
            "text": np.concatenate(text),
        }
    )
    target = str(Path(path))
    con = duckdb.connect()
    try:
        con.register("fa_table", frame)
        con.execute(
            "COPY (SELECT part, i, value, text FROM fa_table) TO ? (FORMAT parquet)", [target]
        )
    finally:
        con.close()


def read_parquet(path: Any) -> CountTable:
    """Read a table written by :func:`write_parquet`."""
    import duckdb

    target = Path(path)
    if not target.exists():
        raise FileNotFoundError(f"no count table at {str(target)!r}.")
    con = duckdb.connect()
    try:
        try:
            res = con.execute(
                "SELECT part, i, value, text FROM read_parquet(?) ORDER BY part, i", [str(target)]
            ).fetchnumpy()
        except duckdb.Error as exc:
            raise DataError(
                f"{str(target)!r} is not a count table written by to_parquet: {exc}"
            ) from exc
    finally:
        con.close()
    part = np.asarray(res["part"], dtype=object)
    meta_rows = np.flatnonzero(part == "meta")
    if meta_rows.size != 1:
        raise DataError(f"{str(target)!r} is not a count table written by to_parquet.")
    meta = json.loads(str(np.asarray(res["text"], dtype=object)[meta_rows[0]]))
    if meta.get("kind") != "fairaudit.CountTable":
        raise DataError(f"{str(target)!r} is not a count table written by to_parquet.")
    values = np.asarray(res["value"], dtype=np.float64)
    arrays: dict[str, np.ndarray] = {}
    for name, shape in meta["shapes"].items():
        rows = part == name
        dtype = np.dtype(meta["dtypes"][name])
        arrays[name] = values[rows].astype(dtype).reshape(shape)
    names = tuple(meta["feature_names"])
    levels = tuple(
        pd.Index([_decode_label(v) for v in lv], dtype=object, name=name)
        for lv, name in zip(meta["feature_levels"], names, strict=True)
    )
    scores = None
    if "scores.group" in arrays:
        scores = ScoreAtoms(
            **{
                f: arrays[f"scores.{f}"]
                for f in ("group", "score", "pos_w", "neg_w", "pos_n", "neg_n")
            }
        )
    reg = {k.split(".", 1)[1]: a for k, a in arrays.items() if k.startswith("reg_atoms.")}
    feature_codes = arrays["feature_codes"]
    return CountTable(
        task=meta["task"],
        index=make_index(names, levels, feature_codes),
        feature_names=names,
        feature_codes=feature_codes,
        feature_levels=levels,
        cells=arrays["cells"],
        cell_n=arrays["cell_n"],
        cell_w2=arrays.get("cell_w2"),
        classes=None
        if meta["classes"] is None
        else tuple(_decode_label(v) for v in meta["classes"]),
        scores=scores,
        weighted=bool(meta["weighted"]),
        reg_atoms=reg or None,
        pos_label=_decode_label(meta["pos_label"]),
    )


def scores_in_unit_interval(table: CountTable) -> bool:
    """Whether every score lies in [0, 1] (Brier score and calibration need probabilities)."""
    if table.scores is None or table.scores.score.size == 0:
        return False
    s = table.scores.score
    return bool(s.min() >= 0.0 and s.max() <= 1.0)


def check_finite_sum(value: float, what: str) -> None:
    """Refuse a non-finite aggregate (e.g. an infinite weight in a file)."""
    if not math.isfinite(value):
        raise DataError(f"{what} is not finite; remove infinite values before auditing.")


def describe_values(values: list[Any]) -> str:
    """Short text listing of values, for messages."""
    return format_values(values)


# ---------------------------------------------------------------------------------------------
# group metrics from a table or a data source


def group_metrics_from_source(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any,
    metrics: Any,
    sample_weight: Any,
    pos_label: Any,
    n_boot: int,
    confidence: float,
    ci_method: str | None,
    stratify: bool,
    reference_group: Any,
    min_group_size: int,
    missing_groups: Any,
    task: str,
    fingerprint: bool,
    random_state: Any,
    data: Any,
    engine: str,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
) -> Any:
    """``group_metrics`` for a CountTable or a ``data=`` source (arguments already checked)."""
    from fairaudit.metrics._engines import source_kind, table_from_source

    if isinstance(y_true, CountTable):
        table = y_true
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
        if task not in ("auto", table.task):
            raise DataError(f"task={task!r}, but the count table is {table.task}.")
        if fingerprint:
            raise DataError("fingerprint=True needs the rows; a count table has only counts.")
        source = "count_table"
    else:
        if fingerprint and (data is None or source_kind(data) != "frame"):
            raise DataError(
                "fingerprint=True digests the rows in memory; it is not available when an "
                "engine scans the data (pass an in-memory table, or fingerprint=False)."
            )
        table = table_from_source(
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
        )
        source = "data"
    return metrics_from_table(
        table,
        metrics=metrics,
        n_boot=n_boot,
        confidence=confidence,
        ci_method=ci_method,
        stratify=stratify,
        reference_group=reference_group,
        min_group_size=min_group_size,
        missing_groups=missing_groups,
        random_state=random_state,
        source=source,
    )


def metrics_from_table(
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
) -> Any:
    """Build a GroupMetrics from a count table (what group_metrics does after its pass)."""
    from fairaudit.metrics import _group_metrics as gm_module

    columns = gm_module._resolve_columns(
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
    provenance: dict[str, Any] = {"parameters": parameters, "versions": gm_module._versions()}
    gm = gm_module._build(
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
    if reference_group is not None:
        gm._group_position(reference_group)
    return gm
