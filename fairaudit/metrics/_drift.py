"""Drift between two count tables: per-group tests and the change of each disparity.

Two tables (say, a reference week and this hour) are compared group by group with a test of
equal proportions, and each disparity (difference, ratio) is compared with a bootstrap
interval of its change. Everything comes from the two tables' cells.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import as_generator
from fairaudit.exceptions import DataError
from fairaudit.metrics._compute import rate_parts, score_value
from fairaudit.metrics._counts import CountTable, ScoreAtoms
from fairaudit.metrics._registry import METRIC_REGISTRY
from fairaudit.metrics._result import GroupMetrics
from fairaudit.metrics._score_drift import score_test
from fairaudit.metrics._uncertainty import (
    _SCORE_BOOT_BUDGET,
    _coarsen,
    _resample_atoms,
    benjamini_hochberg,
)

__all__ = ["DriftResult", "drift"]

_DEFAULT_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate")
_GROUP_COLUMNS = [
    "metric",
    "sensitive_feature",
    "group",
    "value_a",
    "value_b",
    "change",
    "n_a",
    "n_b",
    "statistic",
    "p_value",
    "p_value_adjusted",
    "test",
    "flagged",
]
_DISPARITY_COLUMNS = [
    "metric",
    "sensitive_feature",
    "kind",
    "value_a",
    "value_b",
    "change",
    "change_lower",
    "change_upper",
]


@dataclass(frozen=True, eq=False)
class DriftResult(ResultMixin):
    """Changes between two count tables (A: before or reference, B: after), with tests.

    Build it with :func:`fairaudit.metrics.drift` or
    :meth:`fairaudit.monitor.FairnessMonitor.drift`.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per (metric, sensitive_feature, group); columns ``metric``,
        ``sensitive_feature``, ``group`` (the group's label, text), ``value_a``, ``value_b``
        (the metric in each table, NaN when the group has no trials there), ``change``
        (``value_b - value_a``), ``n_a``, ``n_b`` (trials: the metric's denominator; for
        score metrics the labelled rows with a score), ``statistic`` (z, the odds ratio for
        Fisher's test, or Welch's t), ``p_value`` (two-sided test of equal proportions, or of
        equal ROC AUC or Brier score), ``p_value_adjusted`` (Benjamini-Hochberg over all
        rows), ``test`` (``"z"``, ``"fisher_exact"``, ``"delong"``, ``"welch"``, or
        ``"none"`` when a table has no trials or the metric no test) and ``flagged``
        (adjusted p-value under ``alpha``).
    disparities : pandas.DataFrame
        One row per (metric, sensitive_feature, kind) with ``kind`` ``"difference"``
        (max - min over groups) or ``"ratio"`` (min / max); columns ``value_a``, ``value_b``,
        ``change`` and the bootstrap interval ``change_lower``, ``change_upper`` (NaN when
        ``n_boot=0``).
    alpha : float
        Level of ``flagged``.
    confidence : float
        Level of the intervals.
    n_boot : int
        Bootstrap replicates.
    random_state : int or None
        Seed of the bootstrap, as given.

    Examples
    --------
    >>> import fairaudit as fa
    >>> a = fa.group_metrics([0] * 8, [1, 0, 1, 0, 1, 0, 0, 0], min_group_size=1,
    ...                      sensitive_features=list("aaaabbbb"), metrics=["selection_rate"])
    >>> b = fa.group_metrics([0] * 8, [1, 1, 1, 1, 1, 0, 0, 0], min_group_size=1,
    ...                      sensitive_features=list("aaaabbbb"), metrics=["selection_rate"])
    >>> d = fa.metrics.drift(a, b, metrics=["selection_rate"], n_boot=0)
    >>> d
    DriftResult(2 rows, 0 flagged at alpha=0.05)
    >>> d.to_frame()[["group", "value_a", "value_b", "test"]]
      group  value_a  value_b          test
    0     a      0.5     1.00  fisher_exact
    1     b      0.25    0.25  fisher_exact
    """

    groups: pd.DataFrame
    disparities: pd.DataFrame
    alpha: float
    confidence: float
    n_boot: int
    random_state: int | None

    def __repr__(self) -> str:
        flagged = int(self.groups["flagged"].sum()) if len(self.groups) else 0
        return f"DriftResult({len(self.groups)} rows, {flagged} flagged at alpha={self.alpha:g})"

    @property
    def flagged(self) -> pd.DataFrame:
        """Rows of ``groups`` whose adjusted p-value is under ``alpha``."""
        return self.groups[self.groups["flagged"]].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """One row per (metric, sensitive_feature, group): see :attr:`groups`.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`groups`.
        """
        return self.groups.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary.

        Returns
        -------
        dict
            ``kind`` ("drift"), ``schema_version`` (1), ``alpha``, ``confidence``,
            ``n_boot``, ``random_state``, ``groups`` (records of :attr:`groups`),
            ``disparities`` (records of :attr:`disparities`).
        """
        return json_safe(
            {
                "kind": "drift",
                "schema_version": 1,
                "alpha": self.alpha,
                "confidence": self.confidence,
                "n_boot": self.n_boot,
                "random_state": self.random_state,
                "groups": self.groups.to_dict(orient="records"),
                "disparities": self.disparities.to_dict(orient="records"),
            }
        )

    def plot(self, ax: Any = None, *, metric: str | None = None) -> Any:
        """Change of one metric per group (B - A); flagged groups in a second colour.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.
        metric : str, optional
            Default: the first metric.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = get_axes(ax)
        if len(self.groups) == 0:
            return ax
        metric = str(self.groups["metric"].iloc[0]) if metric is None else metric
        rows = self.groups[self.groups["metric"] == metric]
        if rows.empty:
            raise ValueError(
                f"metric={metric!r} is not in the result; choose one of "
                f"{sorted(set(self.groups['metric']))}."
            )
        labels = [f"{f}={g}" for f, g in zip(rows["sensitive_feature"], rows["group"], strict=True)]
        colours = ["#C44E52" if f else "#4C72B0" for f in rows["flagged"]]
        x = np.arange(len(rows))
        ax.bar(x, np.nan_to_num(rows["change"].to_numpy(dtype=float)), color=colours)
        ax.axhline(0.0, color="0.3", linewidth=1)
        ax.set_xticks(x)
        ax.set_xticklabels(
            labels,
            rotation=45 if len(labels) > 4 else 0,
            ha="right" if len(labels) > 4 else "center",
        )
        base = METRIC_REGISTRY.get(metric)
        ax.set_ylabel(f"change in {base.label if base else metric} (B - A)")
        ax.set_title(f"Drift (red: BH-adjusted p < {self.alpha:g})")
        return ax

    def _repr_html_(self) -> str:
        table = self.groups.to_html(max_rows=60, float_format=lambda v: f"{v:.4g}")
        disp = self.disparities.to_html(max_rows=60, float_format=lambda v: f"{v:.4g}")
        return f"<div><strong>{self!r}</strong>{table}<strong>Disparities</strong>{disp}</div>"

    @classmethod
    def concat(cls, parts: list[DriftResult]) -> DriftResult:
        """One result from several (e.g. label-free and labelled metrics); BH over all rows."""
        groups = pd.concat([p.groups for p in parts], ignore_index=True)
        alpha = parts[0].alpha
        groups["p_value_adjusted"] = benjamini_hochberg(groups["p_value"].to_numpy(float))
        groups["flagged"] = groups["p_value_adjusted"].to_numpy(float) < alpha
        disparities = pd.concat([p.disparities for p in parts], ignore_index=True)
        first = parts[0]
        return cls(groups, disparities, alpha, first.confidence, first.n_boot, first.random_state)


def _as_table(x: Any, name: str) -> CountTable:
    if isinstance(x, CountTable):
        table = x
    elif isinstance(x, GroupMetrics):
        if x._table is None:
            raise DataError(f"{name} has no count table (it was not built from data).")
        table = x._table
    else:
        raise TypeError(f"{name} must be a count table or a GroupMetrics, got {type(x).__name__}.")
    if table.task != "binary":
        raise DataError(f"{name} is a {table.task} table; drift compares binary count tables.")
    return table


def _marginal(table: CountTable, j: int, cells: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Labels of feature j's groups (text) and (..., L, 4) cells summed over the others."""
    codes = table.feature_codes[:, j]
    levels = table.feature_levels[j]
    n_levels = len(levels)
    labels = [str(v) for v in levels]
    if len(codes) == n_levels and np.array_equal(np.sort(codes), np.arange(n_levels)):
        out = np.zeros((*cells.shape[:-2], n_levels, 4))
        out[..., codes, :] = cells  # one group per level (a single sensitive feature)
        return labels, out
    # sum the groups of each level: one matrix product with the (G, L) membership matrix
    member = np.zeros((len(codes), n_levels))
    member[np.arange(len(codes)), codes] = 1.0
    return labels, np.swapaxes(np.swapaxes(cells, -1, -2) @ member, -1, -2)


def _proportion_tests(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized two-sided tests of p1 == p2: pooled z, Fisher when an expected cell < 5."""
    from scipy.stats import fisher_exact, norm

    m = x1.size
    stat = np.full(m, np.nan)
    p = np.full(m, np.nan)
    test = np.full(m, "none", dtype=object)
    ok = (n1 > 0) & (n2 > 0)
    total = np.where(ok, n1 + n2, 1.0)
    succ = x1 + x2
    fail = total - succ
    expected = np.minimum.reduce(
        [n1 * succ / total, n1 * fail / total, n2 * succ / total, n2 * fail / total]
    )
    small = ok & (expected < 5)
    large = ok & ~small
    if large.any():
        pooled = succ[large] / total[large]
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1[large] + 1 / n2[large]))
        diff = x1[large] / n1[large] - x2[large] / n2[large]
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), 0.0)
        stat[large] = z
        p[large] = 2 * norm.sf(np.abs(z))
        test[large] = "z"
    for i in np.flatnonzero(small):
        counts = np.rint([[x1[i], n1[i] - x1[i]], [x2[i], n2[i] - x2[i]]]).astype(np.int64)
        res = fisher_exact(counts)
        stat[i] = float(res.statistic)
        p[i] = float(res.pvalue)
        test[i] = "fisher_exact"
    return stat, p, test


def _disparity(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Difference (max - min) and ratio (min / max) over the last axis, ignoring NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hi = np.nanmax(values, axis=-1)
        lo = np.nanmin(values, axis=-1)
    count = np.sum(np.isfinite(values), axis=-1)
    diff = np.where(count >= 2, hi - lo, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((count >= 2) & (hi > 0), lo / np.where(hi > 0, hi, 1.0), np.nan)
    return diff, ratio


def _resample(table: CountTable, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(B, G, 4) multinomial resamples of each group's cells (the stratified row bootstrap)."""
    cell_n = table.cell_n.reshape(-1, 4).astype(np.int64)
    cells = table.cells.reshape(-1, 4).astype(np.float64)
    out = np.zeros((n_boot, len(cell_n), 4))
    for g in range(len(cell_n)):
        n = int(cell_n[g].sum())
        if n == 0:
            continue
        draws = rng.multinomial(n, cell_n[g] / n, size=n_boot).astype(np.float64)
        # each resampled row carries its cell's mean weight (1 when unweighted)
        mean_w = np.divide(cells[g], cell_n[g], out=np.ones(4), where=cell_n[g] > 0)
        out[:, g, :] = draws * mean_w
    return out


def _unit_scores(table: CountTable) -> bool:
    s = None if table.scores is None else table.scores.score
    return s is None or s.size == 0 or bool(s.min() >= 0.0 and s.max() <= 1.0)


def _feature_atoms(table: CountTable, j: int, labels: list[str]) -> ScoreAtoms:
    """Pool the table's score atoms to the levels of feature j, numbered as ``labels``."""
    assert table.scores is not None
    where = {v: i for i, v in enumerate(labels)}
    to_label = np.array([where[str(v)] for v in table.feature_levels[j]], dtype=np.intp)
    return table.scores.regroup(to_label[table.feature_codes[:, j]], len(labels))


def _score_block(
    a: CountTable,
    b: CountTable,
    j: int,
    labels: list[str],
    metric: str,
    n_boot: int,
    rng: np.random.Generator,
    q: float,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Rows of one score metric for feature j, and its two disparity rows."""
    n_levels = len(labels)
    atoms_a, atoms_b = _feature_atoms(a, j, labels), _feature_atoms(b, j, labels)
    va = score_value(atoms_a, metric, n_levels)
    vb = score_value(atoms_b, metric, n_levels)
    n_a, n_b, stat, p, test = score_test(metric, atoms_a, atoms_b, n_levels)
    if a.weighted or b.weighted:  # the tests count rows; weighted atoms get no p-value
        stat[:], p[:], test[:] = np.nan, np.nan, "none"
    block = pd.DataFrame(
        {
            "metric": metric,
            "group": pd.Series(labels, dtype=object),
            "value_a": va,
            "value_b": vb,
            "change": vb - va,
            "n_a": n_a,
            "n_b": n_b,
            "statistic": stat,
            "p_value": p,
            "test": test,
        }
    )
    da, ra = _disparity(va)
    db, rb = _disparity(vb)
    lows: dict[str, float] = {"difference": np.nan, "ratio": np.nan}
    highs = dict(lows)
    if n_boot > 0 and atoms_a.group.size and atoms_b.group.size:
        reps = []
        for atoms in (atoms_a, atoms_b):
            if 2 * atoms.group.size * n_boot > _SCORE_BOOT_BUDGET:
                exact = score_value(atoms, metric, n_levels)
                atoms = _coarsen(atoms, n_levels, n_boot)
                shift = exact - score_value(atoms, metric, n_levels)
            else:
                shift = np.zeros(n_levels)
            pos_w, neg_w = _resample_atoms(atoms, n_boot, rng, stratify=True)
            reps.append(score_value(atoms, metric, n_levels, pos_w, neg_w) + shift)
        rda, rra = _disparity(reps[0])
        rdb, rrb = _disparity(reps[1])
        for kind, change in (("difference", rdb - rda), ("ratio", rrb - rra)):
            finite = change[np.isfinite(change)]
            if finite.size:
                lows[kind] = float(np.quantile(finite, q))
                highs[kind] = float(np.quantile(finite, 1 - q))
    disp = [
        {
            "kind": kind,
            "value_a": float(x_a),
            "value_b": float(x_b),
            "change": float(x_b - x_a),
            "change_lower": lows[kind],
            "change_upper": highs[kind],
        }
        for kind, x_a, x_b in (("difference", da, db), ("ratio", ra, rb))
    ]
    return block, disp


def drift(
    table_a: Any,
    table_b: Any,
    *,
    metrics: list[str] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    alpha: float = 0.05,
    random_state: int | np.random.Generator | None = None,
) -> DriftResult:
    """Test whether group metrics changed between two count tables.

    Parameters
    ----------
    table_a, table_b : count table or GroupMetrics
        Binary count tables over the same sensitive features: A before (or the reference),
        B after. A GroupMetrics stands for the table it was computed from.
    metrics : list of str, optional
        Rate metrics and score metrics (``roc_auc``, ``brier_score``, ``calibration_error``;
        both tables counted with ``y_score``) to compare. Default: selection rate, plus true
        and false positive rates when both tables hold positive and negative outcomes, plus
        ``roc_auc`` (and ``brier_score`` for scores in [0, 1]) when both hold score atoms.
    n_boot : int, default 1000
        Bootstrap replicates for the intervals of the disparity changes; 0 skips them.
    confidence : float, default 0.95
        Level of the intervals.
    alpha : float, default 0.05
        Level at which a Benjamini-Hochberg-adjusted p-value is ``flagged``.
    random_state : int or Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    DriftResult
        ``to_frame()``: one row per (metric, sensitive_feature, group); ``disparities``: the
        change of each difference and ratio with its interval.

    Notes
    -----
    Groups are the levels of each sensitive feature (marginals; with several features, one
    block of rows per feature). A group's rate is ``x / n`` in each table; the test of equal
    rates is the pooled two-proportion z-test (the 2x2 chi-square test without continuity
    correction) when every expected cell is at least 5, and Fisher's exact test otherwise.
    P-values are adjusted over all rows by Benjamini-Hochberg, which controls the false
    discovery rate (and, when nothing changed, the chance of flagging anything) at ``alpha``.
    The intervals of disparity changes resample each table's groups independently from
    multinomials with the observed cell shares (the row bootstrap, stratified by group) and
    take percentiles of the change. Weighted tables use Kish effective sizes in the tests.

    Score metrics come from the score atoms pooled to each feature's groups. ROC AUC is
    tested with DeLong's variance of each table's AUC (from the placement values of its
    positives and negatives) and a z-test of the difference, the two variances added since
    the tables share no rows (``test="delong"``; needs five positives and five negatives in
    both tables). The Brier score is the mean of the per-row ``(s - y)^2``, whose mean and
    variance the atoms give exactly: Welch's t-test (``test="welch"``; needs 20 scored rows
    in both tables). Smaller groups get no p-value (``test="none"``). The calibration error
    has no test (``p_value`` NaN, ``test="none"``), nor does any score metric of a weighted
    table. ``n_a``, ``n_b`` are then the labelled rows with a score. Their disparity
    intervals resample the atoms within each group (multinomial, as the rates' cells).

    Examples
    --------
    >>> import fairaudit as fa
    >>> sf = ["a"] * 100 + ["b"] * 100
    >>> before = fa.group_metrics([0] * 200, [1] * 50 + [0] * 50 + [1] * 50 + [0] * 50,
    ...                           sensitive_features=sf, metrics=["selection_rate"])
    >>> after = fa.group_metrics([0] * 200, [1] * 50 + [0] * 50 + [1] * 20 + [0] * 80,
    ...                          sensitive_features=sf, metrics=["selection_rate"])
    >>> d = fa.metrics.drift(before, after, metrics=["selection_rate"], random_state=0)
    >>> d.to_frame()[["group", "change", "p_value", "flagged"]].round(4)
      group  change  p_value  flagged
    0     a     0.0   1.0000    False
    1     b    -0.3   0.0000     True
    >>> d.disparities[["kind", "change"]].round(2)
             kind  change
    0  difference    0.30
    1       ratio   -0.60
    """
    a = _as_table(table_a, "table_a")
    b = _as_table(table_b, "table_b")
    if tuple(a.feature_names) != tuple(b.feature_names):
        raise DataError(
            f"table_a counts by {list(a.feature_names)} but table_b by {list(b.feature_names)}; "
            "compare tables over the same sensitive features."
        )
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise TypeError(f"n_boot must be a non-negative int, got {n_boot!r}.")
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}.")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}.")
    rng = as_generator(random_state)
    cells_a = a.cells.reshape(-1, 4).astype(np.float64)
    cells_b = b.cells.reshape(-1, 4).astype(np.float64)
    scored = all(t.scores is not None and t.scores.group.size > 0 for t in (a, b))
    if metrics is None:
        # label metrics only when both tables have outcomes of both kinds
        labelled = all((c[:, 2:].sum() > 0 and c[:, :2].sum() > 0) for c in (cells_a, cells_b))
        names = list(_DEFAULT_METRICS if labelled else _DEFAULT_METRICS[:1])
        if scored:  # the score metrics with a test
            names += ["roc_auc"]
            if all(_unit_scores(t) for t in (a, b)):
                names += ["brier_score"]
    else:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        for m in names:
            d = METRIC_REGISTRY.get(m)
            if d is not None and d.task == "score":
                for name, t in (("table_a", a), ("table_b", b)):
                    if t.scores is None:
                        raise DataError(
                            f"metric {m!r} needs score atoms, but {name} was counted without "
                            "y_score; count both tables with y_score."
                        )
                    if m != "roc_auc" and t.scores.group.size and not _unit_scores(t):
                        raise DataError(
                            f"metric {m!r} needs scores in [0, 1], but {name} has others; "
                            "ask for roc_auc only."
                        )
                continue
            if d is None or not d.is_rate:
                rates = sorted(k for k, v in METRIC_REGISTRY.items() if v.is_rate)
                raise ValueError(
                    f"metrics: {m!r} is not a rate or score metric; use one of "
                    f"{[*rates, 'roc_auc', 'brier_score', 'calibration_error']}."
                )
    reps_a = reps_b = None
    if n_boot > 0:
        reps_a = _resample(a, int(n_boot), rng)
        reps_b = _resample(b, int(n_boot), rng)
    group_blocks: list[pd.DataFrame] = []
    disp_rows: list[dict[str, Any]] = []
    q = (1 - confidence) / 2
    for j, feature in enumerate(a.feature_names):
        labels_a, marg_a = _marginal(a, j, cells_a)
        labels_b, marg_b = _marginal(b, j, cells_b)
        labels = sorted(set(labels_a) | set(labels_b))
        pos_a = {v: i for i, v in enumerate(labels_a)}
        pos_b = {v: i for i, v in enumerate(labels_b)}

        def aligned(
            marg: np.ndarray, pos: dict[str, int], labels: list[str] = labels
        ) -> np.ndarray:
            out = np.zeros((*marg.shape[:-2], len(labels), 4))
            where = [(i, pos[v]) for i, v in enumerate(labels) if v in pos]
            if where:
                to, frm = np.array(where).T
                out[..., to, :] = marg[..., frm, :]
            return out

        al_a, al_b = aligned(marg_a, pos_a), aligned(marg_b, pos_b)
        boot_a = boot_b = None
        if reps_a is not None and reps_b is not None:
            boot_a = aligned(_marginal(a, j, reps_a)[1], pos_a)
            boot_b = aligned(_marginal(b, j, reps_b)[1], pos_b)
        for m in names:
            if METRIC_REGISTRY[m].task == "score":
                block, disp = _score_block(a, b, j, labels, m, n_boot, rng, q)
                block.insert(1, "sensitive_feature", feature)
                group_blocks.append(block)
                disp_rows += [{"metric": m, "sensitive_feature": feature, **r} for r in disp]
                continue
            xa, na = rate_parts(al_a, m)
            xb, nb = rate_parts(al_b, m)
            stat, p, test = _proportion_tests(xa, na, xb, nb)
            with np.errstate(divide="ignore", invalid="ignore"):
                va = np.where(na > 0, xa / np.where(na > 0, na, 1), np.nan)
                vb = np.where(nb > 0, xb / np.where(nb > 0, nb, 1), np.nan)
            group_blocks.append(
                pd.DataFrame(
                    {
                        "metric": m,
                        "sensitive_feature": feature,
                        "group": pd.Series(labels, dtype=object),
                        "value_a": va,
                        "value_b": vb,
                        "change": vb - va,
                        "n_a": na,
                        "n_b": nb,
                        "statistic": stat,
                        "p_value": p,
                        "test": test,
                    }
                )
            )
            da, ra = _disparity(va)
            db, rb = _disparity(vb)
            lows: dict[str, float] = {"difference": np.nan, "ratio": np.nan}
            highs = dict(lows)
            if boot_a is not None and boot_b is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    bxa, bna = rate_parts(boot_a, m)
                    bxb, bnb = rate_parts(boot_b, m)
                    rva = np.where(bna > 0, bxa / np.where(bna > 0, bna, 1), np.nan)
                    rvb = np.where(bnb > 0, bxb / np.where(bnb > 0, bnb, 1), np.nan)
                rda, rra = _disparity(rva)
                rdb, rrb = _disparity(rvb)
                for kind, change in (("difference", rdb - rda), ("ratio", rrb - rra)):
                    finite = change[np.isfinite(change)]
                    if finite.size:
                        lows[kind] = float(np.quantile(finite, q))
                        highs[kind] = float(np.quantile(finite, 1 - q))
            for kind, x_a, x_b in (("difference", da, db), ("ratio", ra, rb)):
                disp_rows.append(
                    {
                        "metric": m,
                        "sensitive_feature": feature,
                        "kind": kind,
                        "value_a": float(x_a),
                        "value_b": float(x_b),
                        "change": float(x_b - x_a),
                        "change_lower": lows[kind],
                        "change_upper": highs[kind],
                    }
                )
    groups = pd.concat(group_blocks, ignore_index=True) if group_blocks else pd.DataFrame()
    groups = groups.reindex(columns=_GROUP_COLUMNS)
    for col in ("metric", "sensitive_feature", "group"):
        groups[col] = groups[col].astype(object)
    groups["p_value_adjusted"] = benjamini_hochberg(groups["p_value"].to_numpy(float))
    groups["flagged"] = groups["p_value_adjusted"].to_numpy(float) < alpha
    for col in ("n_a", "n_b", "value_a", "value_b", "change", "statistic", "p_value"):
        groups[col] = groups[col].astype(float)
    groups["test"] = groups["test"].astype(object)
    disparities = pd.DataFrame(disp_rows, columns=_DISPARITY_COLUMNS)
    return DriftResult(
        groups=groups,
        disparities=disparities,
        alpha=float(alpha),
        confidence=float(confidence),
        n_boot=int(n_boot),
        random_state=random_state if isinstance(random_state, int | None) else None,
    )
