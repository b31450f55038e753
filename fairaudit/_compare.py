"""``compare`` and ``compare_predictions``: two models on the same rows, research vs production.

The joint count table of (y, pred_a, pred_b) per group (``metrics/_paired.py``) gives every
paired difference b - a of a count metric, its bootstrap interval (rows resampled jointly: a
multinomial draw of each group's eight cells), an exact McNemar test where the metric's
denominator does not depend on the prediction (else a bootstrap p-value), Benjamini-Hochberg
adjusted p-values, and with a ``tolerance`` an equivalence verdict (TOST).

Every path ends in the same two steps: :func:`fairaudit.metrics._paired.paired_counts` (the
cells, agreement and score gap per group, from rows or from an engine's aggregate rows) and
:func:`comparison_from_counts` (every statistic). Arrays are counted in memory; with ``data=``
DuckDB or Spark scan the rows with one ``GROUP BY`` (``metrics/_engines/_paired.py``), and
``compare(data=...)`` predicts file batches with both models and adds their aggregates.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._flip import _label_text
from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import align_on_index, as_generator, format_values
from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.metrics._paired import (
    PAIRED_METRICS,
    PairedCounts,
    bootstrap_paired,
    mcnemar_discordant,
    mcnemar_exact,
    paired_counts,
    paired_values,
    tost_equivalent,
)
from fairaudit.metrics._registry import METRIC_REGISTRY
from fairaudit.metrics._uncertainty import benjamini_hochberg, percentile_interval

__all__ = ["ComparisonResult", "assert_equivalent", "compare", "compare_predictions"]

OVERALL = "(all rows)"


def _count_metrics() -> list[str]:
    return [
        name
        for name, d in METRIC_REGISTRY.items()
        if getattr(d, "numerator", None) is not None and getattr(d, "denominator", None) is not None
    ]


@dataclass(frozen=True, eq=False)
class ComparisonResult(ResultMixin):
    """Result of :func:`compare` / :func:`compare_predictions`: model b against model a.

    Attributes
    ----------
    agreement : float
        Share of rows where the two predicted labels are identical.
    by_group : DataFrame
        Indexed by group: ``count``, ``agreement``, ``disagreements``, ``score_max_abs_diff``
        (NaN without scores).
    score_max_abs_diff : float or None
        Largest absolute score difference over all rows (None without scores).
    differences : DataFrame
        The long table (also :meth:`to_frame`): one row per metric and group (the last group
        of each metric is ``"(all rows)"``), columns ``metric``, ``group``, ``count``,
        ``value_a``, ``value_b``, ``difference`` (b - a), ``lower``, ``upper`` (paired
        bootstrap at ``confidence``), ``p_value`` (exact McNemar, or bootstrap for metrics
        whose denominator depends on the prediction, e.g. precision), ``p_value_adjusted``
        (Benjamini-Hochberg over all rows), ``test``, and with a tolerance
        ``equivalent`` (TOST: the ``2 * confidence - 1`` interval inside
        ``(-tolerance, tolerance)``).
    passed : bool or None
        With a tolerance: every difference provably within it (undefined metrics fail).
    metrics : tuple of str
    tolerance : float or None
    confidence : float
    n_boot : int
    n_samples : int
    pos_label : object
    random_state : int or None
    models : dict
        Descriptions of the two models (``compare`` only; endpoints without headers).
    """

    agreement: float
    by_group: pd.DataFrame
    score_max_abs_diff: float | None
    differences: pd.DataFrame
    passed: bool | None
    metrics: tuple[str, ...]
    tolerance: float | None
    confidence: float
    n_boot: int
    n_samples: int
    pos_label: Any
    random_state: Any = None
    models: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        verdict = "" if self.passed is None else f", passed={self.passed}"
        return (
            f"ComparisonResult(agreement={self.agreement:.4f}, n_samples={self.n_samples}, "
            f"metrics={list(self.metrics)}{verdict})"
        )

    def to_frame(self) -> pd.DataFrame:
        """Return the long table: one row per metric and group (see ``differences``)."""
        return self.differences.copy()

    def _summary(self) -> list[str]:
        lines = [f"The two models agree on {self.agreement:.2%} of {self.n_samples:,} rows."]
        lines += self._difference_lines()
        if self.score_max_abs_diff is not None:
            lines.append(f"Largest score difference: {self.score_max_abs_diff:.3g}.")
        if self.tolerance is not None:
            bad = self.differences[~self.differences["equivalent"].astype(bool)]
            if self.passed:
                lines.append(
                    f"Every difference is within ±{self.tolerance:g} (TOST at "
                    f"{self.confidence:.0%})."
                )
            else:
                shown = ", ".join(
                    f"{m} for {g}" for m, g in zip(bad["metric"], bad["group"], strict=True)
                )
                lines.append(
                    f"Not shown equivalent within ±{self.tolerance:g}: {len(bad)} difference(s)"
                    f" ({shown[:300]})."
                )
        return lines

    def _difference_lines(self) -> list[str]:
        """Per metric: b - a over all rows (interval, test) and the largest in a group."""

        def signed(x: float) -> str:
            return "0" if x == 0 else f"{x:+.3g}"

        lines = []
        d = self.differences
        for metric in self.metrics:
            rows = d[d["metric"] == metric]
            overall = rows[rows["group"] == OVERALL]
            groups = rows[(rows["group"] != OVERALL) & np.isfinite(rows["difference"])]
            if overall.empty or not np.isfinite(overall["difference"].iloc[0]):
                continue
            o = overall.iloc[0]
            text = f"{metric}: b - a = {signed(o['difference'])} over all rows"
            details = []
            if np.isfinite(o["lower"]) and np.isfinite(o["upper"]):
                details.append(
                    f"{self.confidence:.0%} CI {signed(o['lower'])} to {signed(o['upper'])}"
                )
            if np.isfinite(o["p_value"]):
                p = "p < 1e-300" if o["p_value"] == 0 else f"p = {o['p_value']:.2g}"
                details.append(f"{p}, {str(o['test']).replace('_', ' ')}")
            if details:
                text += f" ({'; '.join(details)})"
            if len(groups):
                worst = groups.loc[groups["difference"].abs().idxmax()]
                if worst["difference"] == 0:
                    text += "; 0 in every group"
                else:
                    text += (
                        f"; largest in a group: {signed(worst['difference'])} for "
                        f"{worst['group']} ({int(worst['count']):,} rows)"
                    )
            lines.append(text + ".")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the common result keys.

        Returns
        -------
        dict
            ``kind`` ("comparison"), ``schema_version``, ``title``, ``summary``,
            ``parameters``, ``table`` (records of :meth:`to_frame`), ``agreement``,
            ``by_group`` (records), ``score_max_abs_diff``, ``passed``, ``models``.
        """
        groups = self.by_group.reset_index()
        groups.insert(0, "group", [_label_text(k) for k in self.by_group.index])
        return json_safe(
            {
                "kind": "comparison",
                "schema_version": 1,
                "title": "Comparison of two models on the same rows (b - a)",
                "summary": self._summary(),
                "parameters": {
                    "metrics": list(self.metrics),
                    "tolerance": self.tolerance,
                    "confidence": self.confidence,
                    "n_boot": self.n_boot,
                    "pos_label": self.pos_label,
                    "random_state": self.random_state,
                },
                "table": self.differences.to_dict(orient="records"),
                "agreement": self.agreement,
                "by_group": groups.to_dict(orient="records"),
                "score_max_abs_diff": self.score_max_abs_diff,
                "passed": self.passed,
                "models": self.models,
            }
        )

    def plot(self, ax: Any = None, *, metric: str | None = None) -> Any:
        """Differences b - a with their intervals, per metric and group; returns the Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        metric : str, optional
            One metric only (default: all).
        """
        ax = get_axes(ax)
        frame = self.differences
        if metric is not None:
            if metric not in self.metrics:
                raise ValueError(
                    f"metric must be one of {format_values(self.metrics)}, got {metric!r}."
                )
            frame = frame[frame["metric"] == metric]
        labels = [f"{m}: {g}" for m, g in zip(frame["metric"], frame["group"], strict=True)]
        y = np.arange(len(frame))
        value = frame["difference"].to_numpy(dtype=float)
        err = np.vstack(
            [
                value - frame["lower"].to_numpy(dtype=float),
                frame["upper"].to_numpy(dtype=float) - value,
            ]
        )
        ax.errorbar(value, y, xerr=np.nan_to_num(np.abs(err)), fmt="o", color="#1f77b4")
        if self.tolerance is not None:
            ax.axvspan(-self.tolerance, self.tolerance, color="#2ca02c", alpha=0.15)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlabel("difference (b - a)")
        ax.set_title("Model b against model a")
        return ax


def _as_array(values: Any, name: str) -> np.ndarray:
    if values is None:
        raise TypeError(f"{name} must be array-like, got None.")
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise DataError(f"{name} must be one column, got {values.shape[1]} columns.")
        values = values.iloc[:, 0]
    array = np.asarray(values)
    if array.ndim != 1:
        raise DataError(f"{name} must be 1-dimensional, got shape {array.shape}.")
    if pd.isna(pd.Series(array)).any():
        rows = np.flatnonzero(pd.isna(pd.Series(array)).to_numpy())
        raise DataError(
            f"{name} has missing values at rows {format_values(rows)}; remove or fill them."
        )
    return array


def compare_predictions(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    sensitive_features: Any,
    score_a: Any = None,
    score_b: Any = None,
    metrics: list[str] | str | None = None,
    pos_label: Any = 1,
    n_boot: int = 1000,
    tolerance: float | None = None,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    missing_groups: Literal["error", "separate"] = "error",
    data: Any = None,
    engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto",
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> ComparisonResult:
    """Compare two prediction columns on the same rows: agreement, paired differences, TOST.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), or str with ``data``
        True labels. pandas inputs (``y_true``, ``pred_a``, ``pred_b``,
        ``sensitive_features``, ``score_a``, ``score_b``) are paired on their index labels
        (reordered to the first one's rows; other labels are refused); arrays by position.
    pred_a, pred_b : array-like of shape (n_samples,), or str with ``data``
        Predicted labels of model a (e.g. research) and model b (e.g. production).
    sensitive_features : array-like, Series or DataFrame of shape (n_samples,) or (n_samples, k)
        Group membership (intersectional groups for several columns).
    score_a, score_b : array-like of shape (n_samples,), optional
        Scores, for ``score_max_abs_diff``.
    metrics : list of str, optional
        Count metrics of the registry (default: selection_rate, true_positive_rate,
        false_positive_rate, accuracy).
    pos_label : object, default 1
    n_boot : int, default 1000
        Paired bootstrap replicates (0: no intervals, and no ``tolerance``).
    tolerance : float, optional
        Equivalence margin: ``passed`` is True when every difference (each metric, each group
        and all rows) is shown to lie within ``(-tolerance, tolerance)``.
    confidence : float, default 0.95
        Level of the intervals; TOST at level ``1 - confidence`` per side uses the
        ``2 * confidence - 1`` interval.
    random_state : int or Generator, optional
    missing_groups : {"error", "separate"}, default "error"
        Missing sensitive values (NULL in an engine) are refused, or counted as an explicit
        ``"missing"`` group (as in :func:`fairaudit.metrics.count_table`).
    data : optional
        Where the named columns live; then ``y_true``, ``pred_a``, ``pred_b``, ``score_a``,
        ``score_b`` are column names and ``sensitive_features`` a name or list of names.
        Anything :func:`fairaudit.metrics.count_table` accepts: a pandas, polars or pyarrow
        table; a path, glob or list of Parquet/CSV/TSV files; a DuckDB relation or a
        ``(connection, "SELECT ...")`` pair; a pyspark DataFrame. Engines scan the rows with
        one ``GROUP BY`` (see ``docs/scale.md``); only a few numbers per group reach Python.
    engine : {"auto", "numpy", "duckdb", "spark"}, default "auto"
        Who scans the rows: numpy for in-memory tables, DuckDB for files and relations,
        Spark for Spark DataFrames (``"duckdb"`` also scans in-memory tables).
    memory_limit, threads, progress
        DuckDB's settings and progress bar, as in :func:`fairaudit.metrics.count_table`.

    Returns
    -------
    ComparisonResult

    Notes
    -----
    The bootstrap resamples rows jointly, which for count metrics is a multinomial draw of
    each group's (y, a, b) cell counts (stratified by group), so the pairing is kept: two
    identical models have differences exactly 0 in every replicate. McNemar's test is exact
    (binomial on the discordant rows of the metric's denominator). A group where a metric is
    undefined (no positives, say) cannot be shown equivalent: ``passed`` is then False.

    Examples
    --------
    >>> import fairaudit as fa
    >>> y = [1, 0, 1, 0, 1, 0, 1, 0]
    >>> a = [1, 0, 1, 0, 1, 0, 0, 1]
    >>> b = [1, 0, 1, 1, 1, 0, 0, 1]
    >>> s = ["f", "f", "f", "f", "m", "m", "m", "m"]
    >>> cmp = fa.compare_predictions(y, a, b, sensitive_features=s, n_boot=200, random_state=0)
    >>> cmp.agreement
    0.875
    >>> cmp.by_group["agreement"].tolist()
    [0.75, 1.0]
    >>> row = cmp.to_frame().query("metric == 'selection_rate' and group == 'f'")
    >>> float(row["difference"].iloc[0])
    0.25

    The same comparison from a table of columns (a file, glob or DuckDB relation works the
    same way, and gives the same numbers):

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"y": y, "a": a, "b": b, "s": s})
    >>> fa.compare_predictions("y", "a", "b", sensitive_features="s", data=frame,
    ...                        n_boot=200, random_state=0).agreement
    0.875
    """
    names = _check_parameters(metrics, n_boot, confidence, tolerance)
    if missing_groups not in ("error", "separate"):
        raise ValueError(f"missing_groups must be 'error' or 'separate', got {missing_groups!r}.")
    counts = paired_counts_of(
        y_true,
        pred_a,
        pred_b,
        sensitive_features=sensitive_features,
        score_a=score_a,
        score_b=score_b,
        pos_label=pos_label,
        missing_groups=missing_groups,
        data=data,
        engine=engine,
        memory_limit=memory_limit,
        threads=threads,
        progress=progress,
    )
    return comparison_from_counts(
        counts,
        names,
        pos_label=pos_label,
        n_boot=n_boot,
        tolerance=tolerance,
        confidence=confidence,
        random_state=random_state,
    )


def _check_parameters(metrics: Any, n_boot: Any, confidence: Any, tolerance: Any) -> list[str]:
    """Validate the statistics' parameters (before any scan); return the metric names."""
    if metrics is None:
        names = list(PAIRED_METRICS)
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
    known = _count_metrics()
    for m in names:
        if m not in known:
            close = difflib.get_close_matches(str(m), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"metrics: {m!r} is not a count metric that a comparison can pair.{hint} "
                f"Known: {format_values(sorted(known), limit=20)}."
            )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be an int >= 0, got {n_boot!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}.")
    if tolerance is not None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance <= 0:
            raise ValueError(f"tolerance must be a number > 0, got {tolerance!r}.")
        if n_boot == 0:
            raise ValueError("tolerance needs intervals: pass n_boot > 0 (e.g. 1000).")
        if confidence <= 0.5:
            raise ValueError(f"with a tolerance, confidence must exceed 0.5, got {confidence}.")
    return names


_ENGINES = ("auto", "numpy", "duckdb", "spark")


def paired_counts_of(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    *,
    sensitive_features: Any,
    score_a: Any,
    score_b: Any,
    pos_label: Any,
    missing_groups: Any,
    data: Any,
    engine: str,
    memory_limit: str | None,
    threads: int | None,
    progress: bool | None,
) -> PairedCounts:
    """Count the paired cells per group: from arrays, or by the engine that holds ``data``."""
    if engine not in _ENGINES:
        raise ValueError(f"engine must be one of {list(_ENGINES)}, got {engine!r}.")
    if data is None:
        for argument, value in (
            ("y_true", y_true),
            ("pred_a", pred_a),
            ("pred_b", pred_b),
            ("score_a", score_a),
            ("score_b", score_b),
            ("sensitive_features", sensitive_features),
        ):
            if isinstance(value, str):
                raise TypeError(
                    f"{argument}={value!r} is a column name, but data= is not given; pass "
                    "data=<table, path or relation> holding the columns, or pass arrays."
                )
        if engine in ("duckdb", "spark"):
            raise ValueError(f"engine={engine!r} scans a data source; pass data= as well.")
        return _counts_in_memory(
            y_true, pred_a, pred_b, sensitive_features, score_a, score_b, pos_label, missing_groups
        )
    from fairaudit.metrics._engines._columns import check_columns, frame_columns, source_kind
    from fairaudit.metrics._engines._paired import paired_column_names

    columns = paired_column_names(y_true, pred_a, pred_b, sensitive_features, score_a, score_b)
    kind = source_kind(data)
    if kind == "frame" and engine in ("auto", "numpy"):
        check_columns(columns, frame_columns(data), "data")
        wanted = list(dict.fromkeys(c for _, c in columns.named()))
        frame = data if isinstance(data, pd.DataFrame) else data.select(wanted).to_pandas()

        def column(name: str | None) -> Any:
            return None if name is None else frame[name]

        return _counts_in_memory(
            frame[columns.y_true],
            frame[columns.pred_a],
            frame[columns.pred_b],
            frame[columns.sensitive],
            column(columns.score_a),
            column(columns.score_b),
            pos_label,
            missing_groups,
        )
    if kind == "spark" or engine == "spark":
        if kind != "spark":
            raise TypeError(
                f"engine='spark' needs a Spark DataFrame as data, got {type(data).__name__}."
            )
        from fairaudit.metrics._engines._paired import spark_paired

        rows = spark_paired(data, columns)
    elif engine == "numpy":
        raise ValueError(
            f"engine='numpy' needs an in-memory table; data is {kind} (use engine='duckdb')."
        )
    else:
        from fairaudit.metrics._engines._paired import duckdb_paired

        rows = duckdb_paired(
            data, columns, memory_limit=memory_limit, threads=threads, progress=progress
        )
    return paired_counts(
        rows.groups,
        rows.n,
        rows.y_true,
        rows.pred_a,
        rows.pred_b,
        rows.gap,
        pos_label=pos_label,
        missing_groups=missing_groups,
    )


def _counts_in_memory(
    y_true: Any,
    pred_a: Any,
    pred_b: Any,
    sensitive_features: Any,
    score_a: Any,
    score_b: Any,
    pos_label: Any,
    missing_groups: Any,
) -> PairedCounts:
    if sensitive_features is None:
        raise TypeError("sensitive_features must be array-like, got None.")
    # pandas inputs pair on their index labels; arrays and lists by position
    aligned = align_on_index(
        y_true=y_true,
        pred_a=pred_a,
        pred_b=pred_b,
        sensitive_features=sensitive_features,
        score_a=score_a,
        score_b=score_b,
    )
    y = _as_array(aligned["y_true"], "y_true")
    a = _as_array(aligned["pred_a"], "pred_a")
    b = _as_array(aligned["pred_b"], "pred_b")
    sensitive = aligned["sensitive_features"]
    if isinstance(sensitive, dict):  # a dict of columns, as group_metrics takes it
        sensitive = pd.DataFrame({str(k): np.asarray(v) for k, v in sensitive.items()})
    elif not isinstance(sensitive, pd.DataFrame | pd.Series) and np.ndim(sensitive) == 2:
        values = np.asarray(sensitive, dtype=object)
        sensitive = pd.DataFrame(
            {f"sensitive_feature_{j}": values[:, j] for j in range(values.shape[1])}
        )
    groups_frame = (
        sensitive.reset_index(drop=True)
        if isinstance(sensitive, pd.DataFrame)
        else pd.DataFrame(
            {getattr(sensitive, "name", None) or "sensitive_feature_0": np.asarray(sensitive)}
        )
    )
    lengths = {
        "y_true": len(y),
        "pred_a": len(a),
        "pred_b": len(b),
        "sensitive_features": len(groups_frame),
    }
    scores = {}
    for name in ("score_a", "score_b"):
        if aligned[name] is not None:
            scores[name] = _as_array(aligned[name], name).astype(np.float64)
            lengths[name] = len(scores[name])
    if len(set(lengths.values())) != 1:
        shown = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise DataError(f"inputs of different lengths: {shown}; pass one value per row.")
    if len(y) == 0:
        raise DataError("y_true has no rows; pass at least one sample.")
    if (score_a is None) != (score_b is None):
        raise ValueError("pass both score_a and score_b, or neither.")
    gap = np.abs(scores["score_b"] - scores["score_a"]) if scores else None
    return paired_counts(
        groups_frame, None, y, a, b, gap, pos_label=pos_label, missing_groups=missing_groups
    )


def comparison_from_counts(
    counts: PairedCounts,
    names: list[str],
    *,
    pos_label: Any,
    n_boot: int,
    tolerance: float | None,
    confidence: float,
    random_state: int | np.random.Generator | None,
) -> ComparisonResult:
    """Every statistic of a comparison, from the paired counts per group (any engine)."""
    present = set(counts.labels_true)
    if pos_label not in present and pos_label not in set(counts.labels_a):
        raise DataError(
            f"pos_label={pos_label!r} occurs in neither y_true ({format_values(sorted(map(str, present)))}) "
            "nor pred_a; pass the positive class."
        )
    index = counts.index
    cells = counts.cells
    by_group = pd.DataFrame(
        {
            "count": counts.count,
            "agreement": counts.agreeing / counts.count,
            "disagreements": counts.count - counts.agreeing,
        },
        index=index,
    )
    by_group["disagreements"] = by_group["disagreements"].astype(np.int64)
    score_max: float | None = None
    if counts.score_max is not None:
        score_max = float(counts.score_max.max())
        by_group["score_max_abs_diff"] = counts.score_max
    else:
        by_group["score_max_abs_diff"] = np.nan

    rng = as_generator(random_state)
    all_cells = np.vstack([cells, cells.sum(axis=0, keepdims=True)])  # groups + all rows
    labels = [_label_text(k) for k in index] + [OVERALL]
    reps = None
    if n_boot:
        group_reps = bootstrap_paired(cells, n_boot, rng)
        reps = np.concatenate([group_reps, group_reps.sum(axis=1, keepdims=True)], axis=1)
    rows = []
    for m in names:
        with np.errstate(invalid="ignore", divide="ignore"):
            va, vb = paired_values(all_cells, m)
        diff = vb - va
        lower = upper = np.full(len(labels), np.nan)
        equivalent = None
        d_reps = None
        if reps is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                ra, rb = paired_values(reps, m)
            d_reps = rb - ra
            lower, upper = percentile_interval(d_reps, confidence)
            if tolerance is not None:
                tl, tu = percentile_interval(d_reps, 2 * confidence - 1)
                equivalent = tost_equivalent(tl, tu, float(tolerance)) & np.isfinite(diff)
        discordant = mcnemar_discordant(all_cells, m)
        for j, label in enumerate(labels):
            if discordant is not None:
                p, test = mcnemar_exact(discordant[0][j], discordant[1][j]), "mcnemar_exact"
            elif d_reps is not None and np.isfinite(d_reps[:, j]).any():
                col = d_reps[:, j][np.isfinite(d_reps[:, j])]
                if (col == 0).all():
                    p = 1.0
                else:
                    p = min(1.0, 2 * min((col <= 0).mean(), (col >= 0).mean()))
                test = "bootstrap"
            else:
                p, test = np.nan, "none"
            row = {
                "metric": m,
                "group": label,
                "count": int(all_cells[j].sum()),
                "value_a": va[j],
                "value_b": vb[j],
                "difference": diff[j],
                "lower": lower[j],
                "upper": upper[j],
                "p_value": p,
                "test": test,
            }
            if equivalent is not None:
                row["equivalent"] = bool(equivalent[j])
            rows.append(row)
    differences = pd.DataFrame(rows)
    differences.insert(
        list(differences.columns).index("p_value") + 1,
        "p_value_adjusted",
        benjamini_hochberg(differences["p_value"].to_numpy(dtype=float)),
    )
    passed = None if tolerance is None else bool(differences["equivalent"].all())
    return ComparisonResult(
        agreement=float(counts.agreeing.sum() / counts.n_rows),
        by_group=by_group,
        score_max_abs_diff=score_max,
        differences=differences,
        passed=passed,
        metrics=tuple(names),
        tolerance=None if tolerance is None else float(tolerance),
        confidence=float(confidence),
        n_boot=int(n_boot),
        n_samples=counts.n_rows,
        pos_label=pos_label,
        random_state=random_state if isinstance(random_state, int | None) else None,
    )


def compare(
    model_a: Any,
    model_b: Any,
    X: Any = None,
    y_true: Any = None,
    *,
    sensitive_features: Any,
    metrics: list[str] | str | None = None,
    pos_label: Any = 1,
    n_boot: int = 1000,
    tolerance: float | None = None,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    missing_groups: Literal["error", "separate"] = "error",
    data: Any = None,
    features: list[str] | None = None,
    batch_size: int | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> ComparisonResult:
    """Predict with two models on the same rows and compare them (see compare_predictions).

    Parameters
    ----------
    model_a, model_b : object
        Anything :func:`fairaudit.wrap` accepts: e.g. the research model object and the
        production :class:`~fairaudit.models.Endpoint`.
    X : array-like or DataFrame of shape (n_samples, n_features)
        Rows given to both models (leave out with ``data``).
    y_true : array-like of shape (n_samples,), or str with ``data``
        True labels. pandas inputs (``X``, ``y_true``, ``sensitive_features``) are paired on
        their index labels, in ``X``'s row order.
    sensitive_features : str, list of str, array-like or DataFrame
        Column name(s) of ``X`` (of ``data``, with ``data``), or the group values.
    metrics, pos_label, n_boot, tolerance, confidence, random_state, missing_groups
        As in :func:`compare_predictions`.
    data : optional
        Where the rows live: a pandas, polars or pyarrow table, a path, glob or list of
        Parquet/CSV files, a DuckDB relation or ``(connection, query)``. Then ``y_true`` and
        ``sensitive_features`` are column names and both models see the ``features``
        columns. Files and relations are read ``batch_size`` rows at a time; both models
        predict each batch, and the paired counts of the batches add up (memory stays
        bounded by a batch). With a Spark DataFrame both models predict on the executors
        (``mapInPandas``; each model is pickled with cloudpickle, so the executors need
        fairaudit and the models' libraries) and Spark counts the pairs; only a probe of 100
        rows of the features reaches the driver.
    features : list of str, optional
        With ``data``: the models' input columns (default: every column but ``y_true``).
    batch_size : int, optional
        With ``data`` from files or relations: rows per batch (default 100,000).
    memory_limit, threads
        DuckDB's settings, for file and DuckDB sources.

    Returns
    -------
    ComparisonResult
        With ``models`` describing both models.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> import fairaudit as fa
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=400), "s": rng.choice(["a", "b"], 400)})
    >>> y = (X["x"] + rng.normal(size=400) > 0).astype(int)
    >>> research = LogisticRegression().fit(X[["x"]], y)
    >>> production = fa.wrap(lambda X: research.predict(X[["x"]]))
    >>> cmp = fa.compare(fa.wrap(lambda X: research.predict(X[["x"]])), production, X, y,
    ...                  sensitive_features="s", tolerance=0.01, n_boot=200, random_state=0)
    >>> cmp.agreement, cmp.passed
    (1.0, True)
    >>> frame = X.assign(y=y)
    >>> fa.compare(research, production, y_true="y", sensitive_features="s", data=frame,
    ...            features=["x"], n_boot=200, random_state=0).agreement
    1.0
    """
    from fairaudit.models import wrap

    if data is not None:
        return _compare_data(
            model_a, model_b, X, y_true, data=data, features=features,
            sensitive_features=sensitive_features, batch_size=batch_size,
            memory_limit=memory_limit, threads=threads, metrics=metrics, pos_label=pos_label,
            n_boot=n_boot, tolerance=tolerance, confidence=confidence,
            random_state=random_state, missing_groups=missing_groups,
        )  # fmt: skip
    if X is None or y_true is None:
        raise TypeError("compare needs X and y_true (or column names with data=).")
    if features is not None:
        raise TypeError("features= selects columns of data=; without data=, pass X itself.")
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
            raise DataError(f"sensitive_features names columns {absent} that X does not have.")
        sensitive_features = X[names]
    # pandas inputs are paired on their index labels (in X's row order), arrays by position
    aligned = align_on_index(X=X, y_true=y_true, sensitive_features=sensitive_features)
    y_true, sensitive_features = aligned["y_true"], aligned["sensitive_features"]
    wrapped_a, wrapped_b = wrap(model_a), wrap(model_b)
    pred_a, pred_b, score_a, score_b = _predict_both(wrapped_a, wrapped_b, X)
    result = compare_predictions(
        y_true,
        pred_a,
        pred_b,
        sensitive_features=sensitive_features,
        score_a=score_a,
        score_b=score_b,
        metrics=metrics,
        pos_label=pos_label,
        n_boot=n_boot,
        tolerance=tolerance,
        confidence=confidence,
        random_state=random_state,
        missing_groups=missing_groups,
    )
    result.models.update({"a": wrapped_a.describe(), "b": wrapped_b.describe()})
    return result


def _predict_both(wrapped_a: Any, wrapped_b: Any, X: Any) -> tuple[Any, Any, Any, Any]:
    """Labels of both models, and their scores when both give scores of a binary task."""
    with_scores = all(
        w.output_kind == "score" and w.task == "binary" for w in (wrapped_a, wrapped_b)
    )
    pred_a = wrapped_a.predict(X)
    score_a = wrapped_a.predict_score(X) if with_scores else None
    pred_b = wrapped_b.predict(X)
    score_b = wrapped_b.predict_score(X) if with_scores else None
    return pred_a, pred_b, score_a, score_b


def _compare_data(
    model_a: Any,
    model_b: Any,
    X: Any,
    y_true: Any,
    *,
    data: Any,
    features: list[str] | None,
    sensitive_features: Any,
    batch_size: int | None,
    memory_limit: str | None,
    threads: int | None,
    **kwargs: Any,
) -> ComparisonResult:
    """``compare(data=...)``: in memory as usual; files and relations batch by batch."""
    from fairaudit.metrics._engines._columns import source_kind
    from fairaudit.metrics._engines._paired import paired_column_names
    from fairaudit.models import wrap

    if X is not None:
        raise TypeError("with data= given, pass the models' input columns as features=, not X.")
    names = _check_parameters(
        kwargs["metrics"], kwargs["n_boot"], kwargs["confidence"], kwargs["tolerance"]
    )
    columns = paired_column_names(y_true, "pred_a", "pred_b", sensitive_features, None, None)
    if features is not None and (
        isinstance(features, str) or not all(isinstance(f, str) for f in features)
    ):
        raise TypeError("features must be a list of column names.")
    if batch_size is None:
        batch_size = 100_000
    elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    kind = source_kind(data)
    if kind == "spark":
        return _compare_spark(model_a, model_b, data, columns, features, **kwargs)
    if kind == "frame":
        frame = data if isinstance(data, pd.DataFrame) else data.to_pandas()
        available = [str(c) for c in frame.columns]
    else:
        frame = None
        from fairaudit.metrics._engines._duckdb import open_source

        with open_source(data, None, memory_limit=memory_limit, threads=threads) as opened:
            available = list(opened[1].columns)
    if features is None:
        features = [c for c in available if c != columns.y_true]
    wanted = [columns.y_true, *columns.sensitive]
    _check_present(
        [("y_true", columns.y_true)]
        + [("sensitive_features", c) for c in columns.sensitive]
        + [("features", c) for c in features],
        available,
    )
    if frame is not None:
        return compare(
            model_a, model_b, frame[features], frame[columns.y_true],
            sensitive_features=frame[columns.sensitive], **kwargs,
        )  # fmt: skip
    from fairaudit.metrics._scan import iter_batches

    wrapped_a, wrapped_b = wrap(model_a), wrap(model_b)
    keys = [*(f"fa_s{j}" for j in range(len(columns.sensitive))), "fa_t", "fa_a", "fa_b"]
    total: pd.DataFrame | None = None
    for batch in iter_batches(
        data,
        list(dict.fromkeys([*features, *wanted])),
        batch_size=batch_size,
        memory_limit=memory_limit,
        threads=threads,
    ):
        pred_a, pred_b, score_a, score_b = _predict_both(wrapped_a, wrapped_b, batch[features])
        y = batch[columns.y_true].to_numpy()  # missing labels counted at the end
        part = pd.DataFrame(
            {
                **{f"fa_s{j}": batch[c].to_numpy() for j, c in enumerate(columns.sensitive)},
                "fa_t": y,
                "fa_a": _as_array(pred_a, "pred_a"),
                "fa_b": _as_array(pred_b, "pred_b"),
                "fa_n": np.ones(len(y), dtype=np.int64),
                "fa_gap": np.nan
                if score_a is None
                else np.abs(
                    _as_array(score_b, "score_b").astype(np.float64)
                    - _as_array(score_a, "score_a").astype(np.float64)
                ),
            }
        )
        if total is not None:
            part = pd.concat([total, part], ignore_index=True)
        # the batches' rows collapse to one row per (group, y, a, b): memory stays small
        total = (
            part.groupby(keys, dropna=False, sort=False)
            .agg(fa_n=("fa_n", "sum"), fa_gap=("fa_gap", "max"))
            .reset_index()
        )
    if total is None:
        raise DataError("data has no rows.")
    missing = total["fa_t"].isna().to_numpy()
    if missing.any():
        raise MissingValueError(
            f"y_true: column {columns.y_true!r} has {int(total['fa_n'][missing].sum())} missing "
            "value(s) (NULL); remove or fill those rows first."
        )
    with_scores = bool(total["fa_gap"].notna().any())
    counts = paired_counts(
        {c: total[f"fa_s{j}"] for j, c in enumerate(columns.sensitive)},
        total["fa_n"].to_numpy(),
        total["fa_t"].to_numpy(),
        total["fa_a"].to_numpy(),
        total["fa_b"].to_numpy(),
        total["fa_gap"].to_numpy(dtype=np.float64) if with_scores else None,
        pos_label=kwargs["pos_label"],
        missing_groups=kwargs["missing_groups"],
    )
    result = comparison_from_counts(
        counts,
        names,
        pos_label=kwargs["pos_label"],
        n_boot=kwargs["n_boot"],
        tolerance=kwargs["tolerance"],
        confidence=kwargs["confidence"],
        random_state=kwargs["random_state"],
    )
    result.models.update({"a": wrapped_a.describe(), "b": wrapped_b.describe()})
    return result


def _compare_spark(
    model_a: Any, model_b: Any, df: Any, columns: Any, features: list[str] | None, **kwargs: Any
) -> ComparisonResult:
    """``compare(data=<Spark DataFrame>)``: both models predict on the executors.

    Each model is pickled (cloudpickle) into a ``mapInPandas`` function that adds its
    prediction (and score) column; the paired counts are then one Spark ``GROUP BY``
    (:func:`compare_predictions` with ``data=``). Only a probe of 100 rows of the feature
    columns reaches the driver, to learn the type of each model's predictions.
    """
    from fairaudit.metrics._engines._spark import predict_on_executors, probe_rows, spark_type
    from fairaudit.models import wrap

    available = list(df.columns)
    if features is None:
        features = [c for c in available if c != columns.y_true]
    _check_present(
        [("y_true", columns.y_true)]
        + [("sensitive_features", c) for c in columns.sensitive]
        + [("features", c) for c in features],
        available,
    )
    wrapped_a, wrapped_b = wrap(model_a), wrap(model_b)
    probe = probe_rows(df, features)
    if len(probe) == 0:
        raise DataError("data has no rows.")
    with_scores = all(
        w.output_kind == "score" and w.task == "binary" for w in (wrapped_a, wrapped_b)
    )

    def predictor(wrapped: Any) -> Any:
        def predict(X: pd.DataFrame) -> tuple[Any, Any]:
            return wrapped.predict(X), wrapped.predict_score(X) if with_scores else None

        return predict

    keep = list(dict.fromkeys([columns.y_true, *columns.sensitive]))
    step, pred_a, score_a = predict_on_executors(
        df,
        predictor(wrapped_a),
        features,
        list(dict.fromkeys([*keep, *features])),
        prediction_type=spark_type(np.asarray(wrapped_a.predict(probe))),
        with_scores=with_scores,
    )
    predicted, pred_b, score_b = predict_on_executors(
        step,
        predictor(wrapped_b),
        features,
        [*keep, pred_a, *([score_a] if score_a is not None else [])],
        prediction_type=spark_type(np.asarray(wrapped_b.predict(probe))),
        with_scores=with_scores,
    )
    predicted = predicted.persist()  # each model runs once per row
    try:
        result = compare_predictions(
            columns.y_true,
            pred_a,
            pred_b,
            sensitive_features=list(columns.sensitive),
            score_a=score_a,
            score_b=score_b,
            data=predicted,
            engine="spark",
            **kwargs,
        )
    finally:
        predicted.unpersist()
    result.models.update({"a": wrapped_a.describe(), "b": wrapped_b.describe()})
    return result


def compare_files(
    data: list[str],
    *,
    target: str,
    prediction_a: str,
    prediction_b: str,
    sensitive: list[str],
    score_a: str | None = None,
    score_b: str | None = None,
    pos_label: str | None = None,
    metrics: list[str] | None = None,
    n_boot: int = 1000,
    tolerance: float | None = None,
    confidence: float = 0.95,
    random_state: int | None = 0,
    missing_groups: Literal["error", "separate"] = "error",
    engine: Literal["duckdb", "spark"] = "duckdb",
    spark_master: str | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> ComparisonResult:
    """Compare two prediction columns of files (what ``fairaudit compare DATA`` runs).

    The files (paths or globs) are scanned by DuckDB (out of core) or Spark; the rows never
    reach Python. CSV sensitive columns are read as the text in the file. ``pos_label`` is
    the text of the positive class, matched against the target's values (``"1"`` matches the
    integer 1); default ``"1"``. Messages name the command's options.
    """
    from fairaudit.metrics._engines._labels import _match
    from fairaudit.metrics._engines._paired import (
        duckdb_paired,
        paired_column_names,
        spark_files_paired,
    )

    names = _check_parameters(metrics, n_boot, confidence, tolerance)
    columns = paired_column_names(
        target, prediction_a, prediction_b, list(sensitive), score_a, score_b
    )
    columns.display = {
        "y_true": "--target",
        "pred_a": "--prediction-a",
        "pred_b": "--prediction-b",
        "score_a": "--score-a",
        "score_b": "--score-b",
        "sensitive_features": "--sensitive",
    }
    if engine == "spark":
        rows = spark_files_paired(list(data), columns, master=spark_master)
    elif engine == "duckdb":
        rows = duckdb_paired(
            list(data),
            columns,
            memory_limit=memory_limit,
            threads=threads,
            progress=progress,
            varchar_sensitive=True,
        )
    else:
        raise ValueError(f"engine must be 'duckdb' or 'spark', got {engine!r}.")
    values = list(dict.fromkeys(np.asarray(rows.y_true, dtype=object).tolist()))
    matched = _match("1" if pos_label is None else pos_label, values)
    if matched:
        label: Any = matched[0]
    elif pos_label is None:
        label = 1  # the library's message says that 1 is in neither column
    else:
        raise DataError(
            f"--pos-label: {pos_label!r} is not a value of --target {target!r} (values: "
            f"{format_values(sorted(map(str, values)))})."
        )
    counts = paired_counts(
        rows.groups,
        rows.n,
        rows.y_true,
        rows.pred_a,
        rows.pred_b,
        rows.gap,
        pos_label=label,
        missing_groups=missing_groups,
    )
    return comparison_from_counts(
        counts,
        names,
        pos_label=label,
        n_boot=n_boot,
        tolerance=tolerance,
        confidence=confidence,
        random_state=random_state,
    )


def _check_present(named: list[tuple[str, str]], available: list[str]) -> None:
    for argument, name in named:
        if name not in available:
            close = difflib.get_close_matches(name, available, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"{argument}: no column {name!r} in data.{hint} Columns: "
                f"{', '.join(available[:12])}."
            )


def assert_equivalent(result: ComparisonResult) -> ComparisonResult:
    """Raise ``AssertionError`` unless a comparison shows every difference within tolerance.

    Parameters
    ----------
    result : ComparisonResult
        From :func:`fairaudit.compare` or :func:`fairaudit.compare_predictions` with a
        ``tolerance``.

    Returns
    -------
    ComparisonResult
        The result, when it passed.

    Examples
    --------
    >>> import fairaudit as fa
    >>> from fairaudit.testing import assert_equivalent
    >>> y, a = [1, 0, 1, 0, 1, 0], [1, 0, 1, 1, 1, 0]
    >>> s = ["f", "f", "f", "m", "m", "m"]
    >>> assert_equivalent(fa.compare_predictions(y, a, a, sensitive_features=s,
    ...                                          tolerance=0.01, n_boot=100, random_state=0))
    ComparisonResult(agreement=1.0000, n_samples=6, metrics=[...], passed=True)
    """
    if not isinstance(result, ComparisonResult):
        raise TypeError(
            f"result must be a ComparisonResult (from fa.compare), got {type(result).__name__}."
        )
    if result.tolerance is None:
        raise ValueError("result has no tolerance; call fa.compare(..., tolerance=...) first.")
    if result.passed:
        return result
    bad = result.differences[~result.differences["equivalent"].astype(bool)]
    lines = [
        f"the models are not shown equivalent within ±{result.tolerance:g} "
        f"({len(bad)} of {len(result.differences)} differences):"
    ]
    for row in bad.itertuples(index=False):
        lines.append(
            f"  {row.metric} [{row.group}]: b - a = {row.difference:.4g} "
            f"({result.confidence:.0%} interval {row.lower:.4g} to {row.upper:.4g})"
        )
    raise AssertionError("\n".join(lines))
