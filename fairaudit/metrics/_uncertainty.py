"""Uncertainty from count tables: multinomial bootstrap, Wilson intervals, tests, BH.

The bootstrap resamples the count table, not the rows. Drawing n rows with replacement and
counting them into cells gives cell counts that are multinomial(n, observed cell shares), so
one multinomial draw per group and replicate is the row bootstrap, at a cost independent of
the number of rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fairaudit.metrics._compute import Column, _divide, rate_parts, replicate_values, score_value
from fairaudit.metrics._counts import (
    N_CALIBRATION_BINS,
    REGRESSION_QUANTITY,
    CountTable,
    ScoreAtoms,
    rank_runs,
)
from fairaudit.metrics._registry import METRIC_REGISTRY

# Largest number of multinomial cells x replicates drawn exactly for score atoms; above it
# scores are put on a grid first (see _coarsen).
_SCORE_BOOT_BUDGET = 1_000_000


@dataclass(frozen=True)
class Replicates:
    """Bootstrap replicates of every metric, per group and overall."""

    groups: np.ndarray  # (B, G, M)
    overall: np.ndarray  # (B, M)
    notes: tuple[str, ...] = ()


def _multinomial(
    rng: np.random.Generator, totals: np.ndarray, counts: np.ndarray, n_boot: int
) -> np.ndarray:
    """(B, G, K) draws, row g multinomial(totals[g], counts[g] / totals[g]).

    Drawn as a chain of binomials vectorized over replicates and groups (cell k given the
    cells before it), which is the multinomial distribution exactly and, for the few cells of
    a count table, much faster than one ``Generator.multinomial`` call per (replicate, group).
    """
    g, k = counts.shape
    out = np.empty((n_boot, g, k), dtype=np.int64)
    remaining = np.broadcast_to(totals.astype(np.int64), (n_boot, g)).copy()
    mass_left = counts.sum(axis=1).astype(np.float64)
    for j in range(k - 1):
        p = np.zeros(g)
        np.divide(counts[:, j], mass_left, out=p, where=mass_left > 0)
        draw = rng.binomial(remaining, np.clip(p, 0.0, 1.0))
        out[:, :, j] = draw
        remaining -= draw
        mass_left = mass_left - counts[:, j]
    out[:, :, k - 1] = remaining
    return out


def _resample_cells(
    cell_n: np.ndarray, cells: np.ndarray, n_boot: int, rng: np.random.Generator, stratify: bool
) -> np.ndarray:
    """(B, G, ...) resampled weighted cells.

    Unweighted counts are drawn from the multinomial; each resampled row carries the mean
    weight of its cell, so a weighted table resamples the weight mass cell by cell.
    """
    g = cell_n.shape[0]
    flat_n = cell_n.reshape(g, -1).astype(np.int64)
    totals = flat_n.sum(axis=1)
    if stratify:
        draws = _multinomial(rng, totals, flat_n, n_boot)
    else:
        n = int(totals.sum())
        draws = _multinomial(rng, np.array([n]), flat_n.reshape(1, -1), n_boot)
        draws = draws.reshape(n_boot, g, -1)
    mean_w = np.zeros(flat_n.shape)
    np.divide(cells.reshape(g, -1), flat_n, out=mean_w, where=flat_n > 0)
    return (draws * mean_w).reshape((n_boot, *cells.shape))


def _coarsen(
    atoms: ScoreAtoms, n_groups: int, n_boot: int, budget: int = _SCORE_BOOT_BUDGET
) -> ScoreAtoms:
    """Put scores on a grid so that the bootstrap stays within its budget.

    Scores in [0, 1] go to the centres of a uniform grid that nests the ten calibration bins;
    other scores to pooled quantile bins (only ROC AUC is defined for them).
    """
    budget_atoms = max(budget // (2 * n_boot), 1)
    per_group = max(budget_atoms // max(n_groups, 1), 20)
    s = atoms.score
    if s.min() >= 0.0 and s.max() <= 1.0:
        k = max(per_group // N_CALIBRATION_BINS, 2)
        n_cells = N_CALIBRATION_BINS * k
        idx = np.minimum(np.floor(s * n_cells), n_cells - 1)
        grid = (idx + 0.5) / n_cells
    else:
        edges = np.unique(np.quantile(s, np.linspace(0, 1, per_group + 1)))
        grid = np.searchsorted(edges, s, side="right").astype(np.float64)
    return ScoreAtoms.from_rows(
        atoms.group,
        grid,
        atoms.pos_w,
        None,
        n_groups,
        pos_n=atoms.pos_n,
        neg_n=atoms.neg_n,
        neg_w=atoms.neg_w,
    )


def _resample_atoms(
    atoms: ScoreAtoms, n_boot: int, rng: np.random.Generator, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(B, A) resampled positive and negative masses of each atom."""
    counts = np.concatenate([atoms.pos_n, atoms.neg_n]).astype(np.int64)
    masses = np.concatenate([atoms.pos_w, atoms.neg_w])
    mean_w = np.zeros(masses.shape)
    np.divide(masses, counts, out=mean_w, where=counts > 0)
    group = np.concatenate([atoms.group, atoms.group])
    draws = np.zeros((n_boot, counts.size))
    if stratify:
        for g in np.unique(group):  # a loop over groups, on the small table
            sel = np.flatnonzero(group == g)
            c = counts[sel]
            draws[:, sel] = rng.multinomial(int(c.sum()), c / c.sum(), size=n_boot)
    else:
        draws[:] = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=n_boot)
    draws *= mean_w
    a = atoms.group.size
    return draws[:, :a], draws[:, a:]


def bootstrap(
    table: CountTable,
    pooled: CountTable,
    columns: list[Column],
    *,
    n_boot: int,
    rng: np.random.Generator,
    stratify: bool = True,
) -> Replicates:
    """Replicates (B, G, M) per group and (B, M) overall, from the same resampled tables."""
    notes: list[str] = []
    cells = None
    if table.task != "regression":
        cells = _resample_cells(table.cell_n, table.cells, n_boot, rng, stratify)
    pos_w = neg_w = None
    shift_pooled = np.zeros(len(columns))
    boot_atoms = table.scores
    has_scores = any(METRIC_REGISTRY[c.metric].task == "score" for c in columns)
    if has_scores and table.scores is not None and table.scores.group.size:
        atoms = table.scores
        if 2 * atoms.group.size * n_boot > _SCORE_BOOT_BUDGET:
            boot_atoms = _coarsen(atoms, table.n_groups, n_boot)
            notes.append(
                f"score metrics were bootstrapped on scores binned to {boot_atoms.group.size} "
                "(group, score) cells and shifted by the binning's effect on the point estimate"
            )
        assert boot_atoms is not None
        pos_w, neg_w = _resample_atoms(boot_atoms, n_boot, rng, stratify)
    boot_table = table if boot_atoms is table.scores else _with_atoms(table, boot_atoms)
    groups = replicate_values(boot_table, columns, cells, pos_w, neg_w, n_boot)
    # overall: pool the same replicates
    pooled_cells = None if cells is None else cells.sum(axis=1, keepdims=True)
    p_pos = p_neg = None
    pooled_boot = pooled
    if pos_w is not None and neg_w is not None and boot_atoms is not None:
        p_pos, p_neg, pooled_atoms = _pool_atom_masses(boot_atoms, pos_w, neg_w)
        pooled_boot = _with_atoms(pooled, pooled_atoms)
    overall = replicate_values(pooled_boot, columns, pooled_cells, p_pos, p_neg, n_boot)[:, 0, :]
    if table.task == "regression" and table.reg_atoms is not None:
        _regression_replicates(table, columns, groups, overall, n_boot, rng, stratify)
        if any(a.shape[0] < table.group_rows.sum() for a in table.reg_atoms.values()):
            notes.append(
                "regression metrics were bootstrapped on chunks of neighbouring values "
                "(each group cut into equal-size chunks after sorting by the per-row quantity)"
            )
    if boot_atoms is not table.scores and boot_atoms is not None:
        for j, col in enumerate(columns):
            if METRIC_REGISTRY[col.metric].task != "score":
                continue
            assert table.scores is not None
            assert pooled.scores is not None
            exact = score_value(table.scores, col.metric, table.n_groups)
            coarse = score_value(boot_atoms, col.metric, table.n_groups)
            groups[:, :, j] += exact - coarse
            assert pooled_boot.scores is not None
            shift_pooled[j] = (
                score_value(pooled.scores, col.metric, 1)[0]
                - score_value(pooled_boot.scores, col.metric, 1)[0]
            )
        overall += shift_pooled
    return Replicates(groups=groups, overall=overall, notes=tuple(notes))


def _regression_replicates(
    table: CountTable,
    columns: list[Column],
    groups: np.ndarray,
    overall: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
    stratify: bool,
) -> None:
    """Fill (B, G, M) and (B, M) replicates of regression metrics in place."""
    assert table.reg_atoms is not None
    for j, col in enumerate(columns):
        quantity = REGRESSION_QUANTITY.get(col.metric)
        if quantity is None:
            continue
        atoms = table.reg_atoms[quantity]
        group = atoms[:, 0].astype(np.intp)
        rows = atoms[:, 1].astype(np.int64)
        draws = np.zeros((n_boot, rows.size))
        if stratify:
            for g in range(table.n_groups):  # a loop over groups, on the small table
                sel = np.flatnonzero(group == g)
                if sel.size:
                    c = rows[sel]
                    draws[:, sel] = rng.multinomial(int(c.sum()), c / c.sum(), size=n_boot)
        else:
            draws[:] = rng.multinomial(int(rows.sum()), rows / rows.sum(), size=n_boot)
        w = draws * (atoms[:, 2] / rows)
        wq = draws * (atoms[:, 3] / rows)
        w_g = np.zeros((n_boot, table.n_groups))
        wq_g = np.zeros((n_boot, table.n_groups))
        for g in range(table.n_groups):
            sel = group == g
            w_g[:, g] = w[:, sel].sum(axis=1)
            wq_g[:, g] = wq[:, sel].sum(axis=1)
        value = _divide(wq_g, w_g)
        pooled = _divide(wq_g.sum(axis=1), w_g.sum(axis=1))
        if col.metric == "root_mean_squared_error":
            value, pooled = np.sqrt(value), np.sqrt(pooled)
        groups[:, :, j] = value
        overall[:, j] = pooled


def _with_atoms(table: CountTable, atoms: ScoreAtoms | None) -> CountTable:
    from dataclasses import replace

    return replace(table, scores=atoms)


def _pool_atom_masses(
    atoms: ScoreAtoms, pos_w: np.ndarray, neg_w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, ScoreAtoms]:
    """Merge per-group atoms of each replicate into pooled atoms (same scores)."""
    uniq, pooled_id = np.unique(atoms.score, return_inverse=True)
    order = np.argsort(pooled_id, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(pooled_id[order]) != 0])
    p = np.add.reduceat(pos_w[:, order], starts, axis=-1)
    n = np.add.reduceat(neg_w[:, order], starts, axis=-1)
    pooled = ScoreAtoms(
        group=np.zeros(uniq.size, dtype=np.intp),
        score=uniq,
        pos_w=np.add.reduceat(atoms.pos_w[order], starts),
        neg_w=np.add.reduceat(atoms.neg_w[order], starts),
        pos_n=np.add.reduceat(atoms.pos_n[order], starts),
        neg_n=np.add.reduceat(atoms.neg_n[order], starts),
    )
    return p, n, pooled


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval along axis 0 (NaN replicates ignored)."""
    alpha = 1.0 - confidence
    q = [alpha / 2, 1 - alpha / 2]
    finite = np.isfinite(replicates)
    if finite.all():
        lower, upper = np.quantile(replicates, q, axis=0)
        return lower, upper
    lower = np.full(replicates.shape[1:], np.nan)
    upper = np.full(replicates.shape[1:], np.nan)
    complete = finite.all(axis=0)
    if complete.any():
        lower[complete], upper[complete] = np.quantile(replicates[:, complete], q, axis=0)
    partial = ~complete & finite.any(axis=0)
    if partial.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lower[partial], upper[partial] = np.nanquantile(replicates[:, partial], q, axis=0)
    return lower, upper


def effective_counts(table: CountTable, metric: str, class_index: int | None = None):
    """Successes and trials of a rate metric per group (Kish effective sizes when weighted).

    Returns ``(successes, trials)`` as float arrays of shape (G,).
    """
    from fairaudit.metrics._compute import one_vs_rest

    def four(a: np.ndarray) -> np.ndarray:
        return one_vs_rest(a)[:, class_index, :] if table.task == "multiclass" else a

    num, den = rate_parts(four(table.cells), metric)
    if table.cell_w2 is None:
        return num, den
    den_w2 = rate_parts(four(table.cell_w2), metric)[1]
    n_eff = np.zeros_like(den)
    np.divide(den * den, den_w2, out=n_eff, where=den_w2 > 0)
    p = np.zeros_like(den)
    np.divide(num, den, out=p, where=den > 0)
    return p * n_eff, n_eff


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions (NaN where there are no trials)."""
    from scipy.special import ndtri  # the standard normal quantile (scipy.stats.norm.ppf)

    z = float(ndtri(0.5 + confidence / 2))
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = successes / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        lower = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        upper = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lower, upper


def two_proportion_test(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float, str]:
    """Two-sided test that two proportions are equal: (statistic, p-value, test name).

    Fisher's exact test (statistic: the sample odds ratio) when an expected cell of the 2x2
    table is under 5, the pooled two-proportion z-test otherwise.
    """
    from scipy.stats import fisher_exact, norm

    if n1 <= 0 or n2 <= 0:
        return np.nan, np.nan, "none"
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]])
    total = n1 + n2
    expected = np.outer([n1, n2], table.sum(axis=0)) / total
    if (expected < 5).any():
        counts = np.rint(table).astype(np.int64)
        res = fisher_exact(counts)
        return float(res.statistic), float(res.pvalue), "fisher_exact"
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / total
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0, "z"
    z = (p1 - p2) / se
    return float(z), float(2 * norm.sf(abs(z))), "z"


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN entries stay NaN, not counted)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out[order] = np.minimum(adjusted, 1.0)
    return out


def group_labels(index: pd.Index) -> list[object]:
    """Group labels as scalars (one feature) or tuples (several)."""
    return list(index)


# ---------------------------------------------------------------------------------------------
# Bootstrap bounds, chunked over groups: what GroupMetrics keeps of the bootstrap.
#
# Comparisons of groups use simultaneous per-group intervals (see _intervals.py), so no
# replicate needs to outlive its chunk: per chunk of groups, draw the replicates, keep the
# quantiles, drop the draws. Memory is bounded by _CHUNK_BUDGET whatever the number of groups.

# cells x replicates held at once (float64: 8 bytes each)
_CHUNK_BUDGET = 4_000_000
# cells x replicates drawn in all for score atoms; beyond it scores are binned (_coarsen)
_TOTAL_BUDGET = 2_000_000


@dataclass(frozen=True)
class BootstrapBounds:
    """Percentile bounds per group and overall at several confidence levels.

    ``lower``/``upper`` have shape (L, G, M) and ``overall_lower``/``overall_upper`` (L, M),
    for the levels in ``levels``; NaN for columns that were not bootstrapped.
    """

    levels: tuple[float, ...]
    lower: np.ndarray
    upper: np.ndarray
    overall_lower: np.ndarray
    overall_upper: np.ndarray
    notes: tuple[str, ...] = ()

    def at(self, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Bounds at the smallest stored level that is at least ``level`` (conservative)."""
        ok = [i for i, v in enumerate(self.levels) if v >= level - 1e-12]
        i = min(ok, key=lambda j: self.levels[j]) if ok else int(np.argmax(self.levels))
        return self.lower[i], self.upper[i], self.overall_lower[i], self.overall_upper[i]


def grouped_multinomial(
    rng: np.random.Generator, group: np.ndarray, counts: np.ndarray, totals: np.ndarray
) -> np.ndarray:
    """(B, C) draws: within each group, multinomial(totals[b, g], counts / group's sum).

    ``group`` (C,) holds local group indices 0..G-1, sorted; ``totals`` is (B, G). Drawn as
    chains of binomials (cell j of a group given the cells before it), vectorized over the
    replicates and over the groups: one ``Generator.binomial`` call per position within a
    group, so the cost is the number of cells times B, with a Python loop only as long as the
    largest group.
    """
    n_boot, n_groups = totals.shape
    c = group.size
    out = np.zeros((n_boot, c))
    if c == 0:
        return out
    if n_groups == 1 and (totals == totals[0, 0]).all():
        # one group, fixed size: numpy's multinomial runs the same chain in C
        counts = np.asarray(counts, dtype=np.float64)
        out[:] = rng.multinomial(int(totals[0, 0]), counts / counts.sum(), size=n_boot)
        return out
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.append(starts, c))
    position = np.arange(c) - np.repeat(starts, sizes)
    last = position == np.repeat(sizes - 1, sizes)
    counts = np.asarray(counts, dtype=np.float64)
    mass_left = np.zeros(n_groups)
    np.add.at(mass_left, group, counts)
    remaining = np.asarray(totals, dtype=np.int64).copy()
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(int(sizes.max()) + 1))
    for j in range(int(sizes.max())):
        cells = order[bounds[j] : bounds[j + 1]]
        g = group[cells]
        p = np.zeros(cells.size)
        np.divide(counts[cells], mass_left[g], out=p, where=mass_left[g] > 0)
        p = np.where(last[cells], 1.0, np.clip(p, 0.0, 1.0))
        draw = rng.binomial(remaining[:, g], p)
        out[:, cells] = draw
        remaining[:, g] -= draw
        mass_left[g] -= counts[cells]
    return out


def _chunks(sizes: np.ndarray, n_boot: int) -> list[tuple[int, int]]:
    """Consecutive group ranges whose cells x replicates stay within _CHUNK_BUDGET."""
    per_chunk = max(_CHUNK_BUDGET // max(n_boot, 1), 1)
    out, start, held = [], 0, 0
    for g, size in enumerate(sizes):
        if held and held + size > per_chunk:
            out.append((start, g))
            start, held = g, 0
        held += int(size)
    out.append((start, len(sizes)))
    return out


def _sub_atoms(atoms: ScoreAtoms, g0: int, g1: int) -> ScoreAtoms:
    i0, i1 = np.searchsorted(atoms.group, [g0, g1])
    return ScoreAtoms(
        group=atoms.group[i0:i1] - g0,
        score=atoms.score[i0:i1],
        pos_w=atoms.pos_w[i0:i1],
        neg_w=atoms.neg_w[i0:i1],
        pos_n=atoms.pos_n[i0:i1],
        neg_n=atoms.neg_n[i0:i1],
    )


def _score_replicates(
    atoms: ScoreAtoms, metric: str, totals: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(B, G) replicates of a score metric on a chunk of atoms (groups 0..G-1)."""
    from fairaudit.metrics._compute import score_value

    n_groups = totals.shape[1]
    counts = np.column_stack([atoms.pos_n, atoms.neg_n]).ravel()
    masses = np.column_stack([atoms.pos_w, atoms.neg_w]).ravel()
    group = np.repeat(atoms.group, 2)
    used = np.flatnonzero(counts > 0)
    draws = grouped_multinomial(rng, group[used], counts[used], totals)
    weighted = np.zeros((totals.shape[0], counts.size))
    weighted[:, used] = draws * (masses[used] / counts[used])
    return score_value(atoms, metric, n_groups, weighted[:, 0::2], weighted[:, 1::2])


def _regression_chunk(
    atoms: np.ndarray, metric: str, totals: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(B, G) replicates of a regression metric from a chunk of regression atoms."""
    group = atoms[:, 0].astype(np.intp)
    rows = atoms[:, 1]
    draws = grouped_multinomial(rng, group, rows, totals)
    w = draws * (atoms[:, 2] / rows)
    wq = draws * (atoms[:, 3] / rows)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    w_g = np.full((totals.shape[0], totals.shape[1]), 0.0)
    wq_g = np.zeros_like(w_g)
    present = group[starts]
    w_g[:, present] = np.add.reduceat(w, starts, axis=1)
    wq_g[:, present] = np.add.reduceat(wq, starts, axis=1)
    value = _divide(wq_g, w_g)
    return np.sqrt(value) if metric == "root_mean_squared_error" else value


def _group_totals(
    sizes: np.ndarray, n_boot: int, rng: np.random.Generator, stratify: bool
) -> np.ndarray:
    """(B, G) resampled group sizes: fixed (stratified), or multinomial over the groups."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if stratify:
        return np.broadcast_to(sizes, (n_boot, sizes.size))
    return grouped_multinomial(
        rng, np.zeros(sizes.size, dtype=np.intp), sizes, np.full((n_boot, 1), sizes.sum())
    ).astype(np.int64)


def bootstrap_bounds(
    table: CountTable,
    pooled: CountTable,
    columns: list[Column],
    *,
    n_boot: int,
    rng: np.random.Generator,
    levels: tuple[float, ...],
    stratify: bool = True,
) -> BootstrapBounds:
    """Percentile bounds of the score and regression columns, per group and overall.

    Rate columns (and the others) are left NaN: their intervals are analytic. The draws are
    made one chunk of groups at a time (memory bounded by ``_CHUNK_BUDGET`` cells x
    replicates); the overall value is bootstrapped on its own from the pooled table.

    ROC AUC is resampled on :func:`rank_runs` atoms: the exact row bootstrap of the AUC. Brier
    score and calibration error are resampled on the (group, score) atoms, exactly while the
    atoms x replicates stay within ``_TOTAL_BUDGET``; beyond it scores are binned, the
    replicates shifted by the binning's effect on the point estimate, and (like every bound)
    clipped to the metric's range; ``notes`` then says so.
    """
    from fairaudit.metrics._compute import score_value

    n_levels, n_groups, n_cols = len(levels), table.n_groups, len(columns)
    lower = np.full((n_levels, n_groups, n_cols), np.nan)
    upper = np.full_like(lower, np.nan)
    o_lower = np.full((n_levels, n_cols), np.nan)
    o_upper = np.full_like(o_lower, np.nan)
    notes: list[str] = []
    quantiles = [q for level in levels for q in ((1 - level) / 2, (1 + level) / 2)]

    def store(reps: np.ndarray, g0: int, g1: int, j: int, overall: bool) -> None:
        bounds = _quantiles(reps, quantiles)  # (2L, G)
        if overall:
            o_lower[:, j], o_upper[:, j] = bounds[0::2, 0], bounds[1::2, 0]
        else:
            lower[:, g0:g1, j], upper[:, g0:g1, j] = bounds[0::2], bounds[1::2]

    rows = table.group_rows
    totals_all = _group_totals(rows, n_boot, rng, stratify)
    pooled_totals = np.full((n_boot, 1), int(rows.sum()))
    for j, col in enumerate(columns):
        definition = METRIC_REGISTRY[col.metric]
        if definition.task == "score" and table.scores is not None and pooled.scores is not None:
            exact = table.scores
            atoms = rank_runs(exact) if col.metric == "roc_auc" else exact
            p_atoms = rank_runs(pooled.scores) if col.metric == "roc_auc" else pooled.scores
            shift, p_shift = np.zeros(n_groups), np.zeros(1)
            if 2 * atoms.group.size * n_boot > _TOTAL_BUDGET:
                coarse = _coarsen(atoms, n_groups, n_boot, _TOTAL_BUDGET)
                shift = score_value(exact, col.metric, n_groups) - score_value(
                    coarse, col.metric, n_groups
                )
                notes.append(
                    f"{col.name} was bootstrapped on scores binned to {coarse.group.size} "
                    "(group, score) cells, shifted by the binning's effect on the point "
                    "estimate and clipped to its range"
                )
                atoms = coarse
            if 2 * p_atoms.group.size * n_boot > _TOTAL_BUDGET:
                coarse = _coarsen(p_atoms, 1, n_boot, _TOTAL_BUDGET)
                p_shift = score_value(pooled.scores, col.metric, 1) - score_value(
                    coarse, col.metric, 1
                )
                p_atoms = coarse
            sizes = np.bincount(atoms.group, minlength=n_groups) * 2
            for g0, g1 in _chunks(sizes, n_boot):
                reps = _score_replicates(
                    _sub_atoms(atoms, g0, g1), col.metric, totals_all[:, g0:g1], rng
                )
                store(reps + np.nan_to_num(shift[g0:g1]), g0, g1, j, False)
            reps = _score_replicates(p_atoms, col.metric, pooled_totals, rng)
            store(reps + np.nan_to_num(p_shift), 0, 1, j, True)
        elif definition.task == "regression" and table.reg_atoms is not None:
            quantity = REGRESSION_QUANTITY[col.metric]
            atoms_q = table.reg_atoms[quantity]
            group = atoms_q[:, 0].astype(np.intp)
            sizes = np.bincount(group, minlength=n_groups)
            for g0, g1 in _chunks(sizes, n_boot):
                i0, i1 = np.searchsorted(group, [g0, g1])
                chunk = atoms_q[i0:i1].copy()
                chunk[:, 0] -= g0
                reps = _regression_chunk(chunk, col.metric, totals_all[:, g0:g1], rng)
                store(reps, g0, g1, j, False)
            p_atoms_q = atoms_q.copy()
            p_atoms_q[:, 0] = 0
            if p_atoms_q.shape[0] * n_boot > _TOTAL_BUDGET:
                p_atoms_q = _merge_regression_atoms(p_atoms_q, _TOTAL_BUDGET // n_boot)
            store(_regression_chunk(p_atoms_q, col.metric, pooled_totals, rng), 0, 1, j, True)
            if any(a.shape[0] < rows.sum() for a in table.reg_atoms.values()):
                note = (
                    "regression metrics were bootstrapped on chunks of neighbouring values "
                    "(each group cut into equal-size chunks after sorting by the per-row quantity)"
                )
                if note not in notes:
                    notes.append(note)
        elif definition.numerator is not None and not definition.is_rate:
            # a ratio of counts (e.g. FN / FP): the cells resampled, multinomial per group
            for g0, g1, reps in _count_ratio_replicates(table, col, totals_all, n_boot, rng):
                store(reps, g0, g1, j, False)
            for _, _, reps in _count_ratio_replicates(pooled, col, pooled_totals, n_boot, rng):
                store(reps, 0, 1, j, True)
        low, high = definition.value_range
        lower[:, :, j] = np.clip(lower[:, :, j], low, high)
        upper[:, :, j] = np.clip(upper[:, :, j], low, high)
        o_lower[:, j] = np.clip(o_lower[:, j], low, high)
        o_upper[:, j] = np.clip(o_upper[:, j], low, high)
    return BootstrapBounds(tuple(levels), lower, upper, o_lower, o_upper, tuple(notes))


def _count_ratio_replicates(
    table: CountTable, col: Column, totals: np.ndarray, n_boot: int, rng: np.random.Generator
) -> Iterator[tuple[int, int, np.ndarray]]:
    """(g0, g1, (B, g1 - g0) replicates) of a count-ratio metric, a chunk of groups at a time.

    Each group's rows are redrawn over its four cells (TN, FP, FN, TP; one-vs-rest for a
    class of a multiclass table), each drawn row carrying its cell's mean weight.
    """
    from fairaudit.metrics._compute import binary_value, one_vs_rest

    def four(a: np.ndarray) -> np.ndarray:
        return one_vs_rest(a)[:, col.class_index, :] if table.task == "multiclass" else a

    cells = four(table.cells).astype(np.float64)
    rows = four(table.cell_n).astype(np.float64)
    mean_w = np.zeros_like(cells)
    np.divide(cells, rows, out=mean_w, where=rows > 0)
    n_groups = cells.shape[0]
    sizes = np.full(n_groups, 4)
    for g0, g1 in _chunks(sizes, n_boot):
        k = g1 - g0
        group = np.repeat(np.arange(k), 4)
        draws = grouped_multinomial(rng, group, rows[g0:g1].reshape(-1), totals[:, g0:g1])
        weighted = draws.reshape(n_boot, k, 4) * mean_w[g0:g1]
        with np.errstate(divide="ignore", invalid="ignore"):
            yield g0, g1, binary_value(weighted, col.metric)


def _merge_regression_atoms(atoms: np.ndarray, budget: int) -> np.ndarray:
    """Merge neighbouring rows of (one group's) regression atoms down to ``budget`` atoms."""
    order = np.argsort(atoms[:, 3] / atoms[:, 2], kind="stable")
    a = atoms[order]
    key = (np.arange(a.shape[0]) * max(budget, 1)) // a.shape[0]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    out = np.add.reduceat(a, starts, axis=0)
    out[:, 0] = 0
    return out


def _quantiles(reps: np.ndarray, q: list[float]) -> np.ndarray:
    """Quantiles along axis 0 of (B, G) replicates, NaN replicates ignored."""
    finite = np.isfinite(reps)
    if finite.all():
        return np.quantile(reps, q, axis=0)
    out = np.full((len(q), reps.shape[1]), np.nan)
    some = finite.any(axis=0)
    if some.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[:, some] = np.nanquantile(reps[:, some], q, axis=0)
    return out


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def fisher_exact_2x2(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Fisher's exact test of many 2x2 tables [[a, b], [c, d]] at once.

    Returns the sample odds ratios ``a d / (b c)`` (``inf`` when b or c is 0) and the
    p-values: the probability, under the hypergeometric distribution of ``a`` given the
    margins, of the tables no more likely than the observed one (relative tolerance 1e-7, as
    R's ``fisher.test``). A table with an empty row or column gets NaN and 1, as in scipy.
    The support of every table is evaluated at once, in chunks of at most a million cells.
    """
    a, b, c, d = (np.asarray(v, dtype=np.int64) for v in (a, b, c, d))
    n1, n2, col = a + b, c + d, a + c
    total = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where((b > 0) & (c > 0), (a * d) / (b * c).astype(np.float64), np.inf)
    empty = (n1 == 0) | (n2 == 0) | (col == 0) | (total - col == 0)
    odds = np.where(empty, np.nan, odds)
    p = np.ones(a.shape, dtype=np.float64)
    todo = np.flatnonzero(~empty)
    if todo.size == 0:
        return odds, p
    lo = np.maximum(0, col - n2)
    hi = np.minimum(n1, col)
    width = hi - lo + 1
    order = todo[np.argsort(width[todo], kind="stable")]
    start = 0
    while start < order.size:
        w = int(width[order[start]])
        stop = start + 1
        # rows sorted by width: take as many as fit in the chunk at the widest one's width
        while stop < order.size and (stop - start + 1) * int(width[order[stop]]) <= 1_000_000:
            stop += 1
        rows = order[start:stop]
        w = int(width[rows].max())
        k = lo[rows, None] + np.arange(w)[None, :]
        valid = k <= hi[rows, None]
        log_norm = _log_comb(total[rows], col[rows])
        logpmf = (
            _log_comb(n1[rows, None], np.minimum(k, n1[rows, None]))
            + _log_comb(n2[rows, None], np.clip(col[rows, None] - k, 0, n2[rows, None]))
            - log_norm[:, None]
        )
        obs = _log_comb(n1[rows], a[rows]) + _log_comb(n2[rows], col[rows] - a[rows]) - log_norm
        keep = valid & (logpmf <= obs[:, None] + np.log1p(1e-7))
        p[rows] = np.minimum(np.where(keep, np.exp(logpmf), 0.0).sum(axis=1), 1.0)
        start = stop
    return odds, p


def two_proportion_tests(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized :func:`two_proportion_test`: (statistics, p-values, test names) arrays."""
    from scipy.stats import norm

    x1, n1, x2, n2 = (np.asarray(v, dtype=np.float64) for v in (x1, n1, x2, n2))
    stat = np.full(x1.shape, np.nan)
    p = np.full(x1.shape, np.nan)
    test = np.full(x1.shape, "none", dtype=object)
    ok = (n1 > 0) & (n2 > 0)
    total = n1 + n2
    succ = x1 + x2
    fail = total - succ
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.minimum(n1, n2) * np.minimum(succ, fail) / total < 5
    fisher = ok & small
    z_rows = ok & ~small
    if fisher.any():
        a, c = np.rint(x1[fisher]), np.rint(x2[fisher])
        b, d = np.rint(n1[fisher] - x1[fisher]), np.rint(n2[fisher] - x2[fisher])
        stat[fisher], p[fisher] = fisher_exact_2x2(a, b, c, d)
        test[fisher] = "fisher_exact"
    if z_rows.any():
        q1, q2 = x1[z_rows] / n1[z_rows], x2[z_rows] / n2[z_rows]
        pooled = succ[z_rows] / total[z_rows]
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1[z_rows] + 1 / n2[z_rows]))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, (q1 - q2) / se, 0.0)
        stat[z_rows] = z
        p[z_rows] = np.where(se > 0, 2 * norm.sf(np.abs(z)), 1.0)
        test[z_rows] = "z"
    return stat, p, test
