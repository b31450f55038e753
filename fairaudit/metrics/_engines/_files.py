"""What the ``fairaudit`` command runs: a count table of files, by DuckDB, Spark or pandas.

Sensitive columns are read as the text written in the file (only an empty field is missing),
so that ``01`` and ``1`` stay two groups and a group called ``NA`` is a group.
"""

from __future__ import annotations

import os

from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._engines._columns import Columns
from fairaudit.metrics._engines._labels import OneVsRest

__all__ = ["scan_files"]

_OPTIONS = {
    "y_true": "--target",
    "y_pred": "--prediction",
    "y_score": "--score",
    "sensitive_features": "--sensitive",
    "sample_weight": "--sample-weight",
}


def scan_files(
    data: list[str],
    *,
    target: str,
    prediction: str,
    sensitive: list[str],
    score: str | None = None,
    weight: str | None = None,
    pos_label: str | None = None,
    task: str | None = None,
    missing_groups: str = "error",
    engine: str = "duckdb",
    spark_master: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    n_boot: int = 0,
) -> CountTable:
    """Count the rows of files (paths or globs).

    Labels (``task`` None or "binary"): 0/1 (or boolean, or the text 0/1/true/false) columns
    as they are; with ``pos_label`` (text), the class whose value reads so against every
    other. ``task="multiclass"`` or ``"regression"``: the columns as they are (regression
    tables carry the bootstrap atoms for ``n_boot`` replicates).
    """
    from dataclasses import replace

    columns = Columns(target, prediction, list(sensitive), score, weight)
    columns.display = dict(_OPTIONS)
    binary = task in (None, "binary")
    labels = OneVsRest(pos_label, target, prediction) if binary else None
    if engine == "spark":
        from fairaudit.metrics._engines._spark import spark_files_table

        table = spark_files_table(
            [os.fspath(d) for d in data],
            columns,
            labels=labels,
            master=spark_master,
            task="binary" if binary else str(task),
            missing_groups=missing_groups,
            regression_n_boot=n_boot,
        )
        if binary and pos_label is not None:
            table = replace(table, pos_label=pos_label)
        return table
    if engine != "duckdb":
        raise ValueError(f"engine must be 'duckdb' or 'spark', got {engine!r}.")
    from fairaudit.metrics._engines._duckdb import duckdb_table

    table = duckdb_table(
        [os.fspath(d) for d in data],
        columns,
        pos_label=1 if binary else None,
        task="binary" if binary else str(task),
        metrics=None,
        missing_groups=missing_groups,
        memory_limit=memory_limit,
        threads=threads,
        progress=progress,
        regression_n_boot=n_boot,
        varchar_sensitive=True,
        labels=labels,
    )
    if binary and pos_label is not None:
        # the class counted as positive, as the user named it (for reports and policies)
        table = replace(table, pos_label=pos_label)
    return table
