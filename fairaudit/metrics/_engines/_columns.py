"""Column names of a ``data=`` call: checked against the source, with did-you-mean."""

from __future__ import annotations

import difflib
from typing import Any

import pandas as pd

from fairaudit.exceptions import DataError

__all__ = [
    "ColumnTypeError",
    "Columns",
    "check_columns",
    "check_numeric_columns",
    "column_name",
    "column_names",
    "frame_columns",
    "sensitive_names",
    "source_kind",
]

_ENGINES = ("auto", "numpy", "duckdb", "spark")


class ColumnTypeError(DataError, TypeError):
    """A column of a data source whose type cannot hold what the argument needs (numbers).

    A :class:`~fairaudit.exceptions.DataError` (the type comes from the data: a CSV column
    the engine read as text) and a :class:`TypeError`, as the in-memory path raises for the
    same input.
    """


class Columns:
    """The column names a ``data=`` call refers to."""

    def __init__(
        self,
        y_true: str,
        y_pred: str,
        sensitive: list[str],
        y_score: str | None,
        sample_weight: str | None,
    ) -> None:
        self.y_true = y_true
        self.y_pred = y_pred
        self.sensitive = sensitive
        self.y_score = y_score
        self.sample_weight = sample_weight
        # how messages name each argument (the command line names its options)
        self.display: dict[str, str] = {}

    def show(self, argument: str) -> str:
        """Return the name of an argument in messages."""
        return self.display.get(argument, argument)

    def named(self) -> list[tuple[str, str]]:
        """(argument as shown, column name) for every column used."""
        out = [(self.show("y_true"), self.y_true), (self.show("y_pred"), self.y_pred)]
        if self.y_score is not None:
            out.append((self.show("y_score"), self.y_score))
        out.extend((self.show("sensitive_features"), s) for s in self.sensitive)
        if self.sample_weight is not None:
            out.append((self.show("sample_weight"), self.sample_weight))
        return out


def column_name(value: Any, argument: str, *, optional: bool = False) -> str | None:
    """``value`` if it is a column name (str); else a TypeError naming ``argument``."""
    if value is None and optional:
        return None
    if isinstance(value, str):
        return value
    raise TypeError(
        f"with data= given, {argument} must be a column name (str), got "
        f"{type(value).__name__}; pass the name of the column in data, or leave data= out "
        "to pass arrays."
    )


def sensitive_names(sensitive_features: Any) -> list[str]:
    """Return the sensitive column names of a ``data=`` call (one name or a list, none twice)."""
    if isinstance(sensitive_features, str):
        sensitive = [sensitive_features]
    elif isinstance(sensitive_features, list | tuple) and sensitive_features:
        sensitive = [str(column_name(s, "each of sensitive_features")) for s in sensitive_features]
    else:
        raise TypeError(
            "with data= given, sensitive_features must be a column name or a list of column "
            f"names, got {type(sensitive_features).__name__}."
        )
    if len(set(sensitive)) != len(sensitive):
        raise DataError(f"sensitive_features names a column twice: {sensitive}.")
    return sensitive


def column_names(
    y_true: Any, y_pred: Any, sensitive_features: Any, y_score: Any, sample_weight: Any
) -> Columns:
    """Validate the column names of a ``data=`` call."""
    return Columns(
        str(column_name(y_true, "y_true")),
        str(column_name(y_pred, "y_pred")),
        sensitive_names(sensitive_features),
        column_name(y_score, "y_score", optional=True),
        column_name(sample_weight, "sample_weight", optional=True),
    )


def check_columns(columns: Columns, available: list[str], source: str) -> None:
    """Refuse a column that the source lacks, suggesting the closest names."""
    have = set(available)
    for argument, name in columns.named():
        if name not in have:
            close = difflib.get_close_matches(name, available, n=1, cutoff=0.6)
            if not close:
                lowered = {a.lower(): a for a in available}
                close = [lowered[name.lower()]] if name.lower() in lowered else []
            hint = f" Did you mean {close[0]!r}?" if close else ""
            shown = ", ".join(available[:12])
            more = f", ... ({len(available)} in all)" if len(available) > 12 else ""
            raise DataError(
                f"{argument}: no column {name!r} in {source}.{hint} Columns: {shown}{more}."
            )


def _is_duckdb(obj: Any) -> bool:
    return type(obj).__module__.lstrip("_").startswith("duckdb")


def source_kind(data: Any) -> str:
    """``"frame"`` (pandas/polars/pyarrow), ``"duckdb"``, ``"spark"`` or ``"files"``."""
    module = type(data).__module__
    if isinstance(data, pd.DataFrame) or module.startswith(("polars", "pyarrow")):
        return "frame"
    if _is_duckdb(data) or (isinstance(data, tuple) and len(data) == 2 and _is_duckdb(data[0])):
        return "duckdb"
    if module.startswith("pyspark"):
        return "spark"
    import os

    if isinstance(data, str | os.PathLike) or (
        isinstance(data, list | tuple)
        and data
        and all(isinstance(d, str | os.PathLike) for d in data)
    ):
        return "files"
    if isinstance(data, pd.Series | dict) or hasattr(data, "__array__"):
        raise TypeError(
            f"data must be a table (pandas, polars or pyarrow), a path, glob or list of "
            f"files, a DuckDB relation or (connection, query) pair, or a Spark DataFrame; got "
            f"{type(data).__name__}. To pass arrays, leave data= out."
        )
    raise TypeError(
        f"data of type {type(data).__name__} is not supported; pass a pandas/polars/pyarrow "
        "table, a path, glob or list of Parquet/CSV files, a DuckDB relation or (connection, "
        "query) pair, or a Spark DataFrame."
    )


def frame_columns(data: Any) -> list[str]:
    """Column names of a pandas, polars or pyarrow table."""
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    if type(data).__module__.startswith("polars"):
        return list(data.columns)
    return list(data.schema.names)


def check_numeric_columns(
    columns: Columns, types: dict[str, str], numeric: Any, boolean: Any, *, regression: bool
) -> None:
    """Refuse a weight (or score, or regression label) column the engine typed as non-numeric.

    ``types`` maps column names to the engine's type names; ``numeric(type_name)`` tells
    whether a type holds numbers, ``boolean(type_name)`` whether it holds booleans (numbers
    for regression labels, as in memory; not weights or scores). Checked before the scan, which would otherwise fail deep in
    the engine with its own conversion error.
    """
    wanted = []
    if columns.sample_weight is not None:
        wanted.append(("sample_weight", columns.sample_weight, "non-negative weights", False))
    if columns.y_score is not None:
        wanted.append(("y_score", columns.y_score, "scores", False))
    if regression:
        wanted.append(("y_true", columns.y_true, "true values (regression)", True))
        wanted.append(("y_pred", columns.y_pred, "predicted values (regression)", True))
    for argument, name, what, bool_ok in wanted:
        kind = types[name]
        if not (numeric(kind) or (bool_ok and boolean(kind))):
            raise ColumnTypeError(
                f"{columns.show(argument)}: column {name!r} holds {kind} values, not numbers; "
                f"pass a numeric column of {what} (cast it first if it holds numbers as text)."
            )
