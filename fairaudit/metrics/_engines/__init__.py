"""Engines that scan rows into a count table: DuckDB (files, relations) and Spark.

Whichever engine scans the rows, it returns small aggregates (cells per group and label
values, score atoms, regression sums) that :mod:`._finalize` turns into the same
:class:`~fairaudit.metrics.CountTable` the numpy path builds. The dispatch lives in
:mod:`fairaudit.metrics._scan`.
"""
