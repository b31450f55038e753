"""Tests that a score metric changed between two independent samples, from score atoms.

ROC AUC: DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988) for each sample, from the
placement values of its positives and negatives, and a z-test of the difference with the two
variances added (the samples, two windows or two tables, share no rows). Brier score: the
per-row squared error ``(s - y)^2`` takes one value per atom and outcome, so its mean and
variance are exact from the atoms; Welch's unequal-variance t-test compares the means. The
calibration error has no test here (its sampling distribution depends on the binning).
"""

from __future__ import annotations

import numpy as np

from fairaudit.metrics._counts import ScoreAtoms

__all__ = ["SCORE_TESTS", "auc_delong", "brier_moments", "score_test"]

SCORE_TESTS = {"roc_auc": "delong", "brier_score": "welch"}
# smallest samples the normal approximations are trusted with (per table and group): DeLong's
# z needs this many positives and as many negatives, Welch's t this many scored rows
MIN_AUC_CLASS = 5
MIN_BRIER_ROWS = 20


def _group_starts(atoms: ScoreAtoms) -> tuple[np.ndarray, np.ndarray]:
    """Start of each group's run of atoms, and the group each run belongs to."""
    g = atoms.group
    if g.size == 0:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    new = np.empty(g.size, dtype=bool)
    new[0] = True
    np.not_equal(g[1:], g[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return starts, g[starts]


def auc_delong(atoms: ScoreAtoms, n_groups: int) -> tuple[np.ndarray, ...]:
    """Per group: ROC AUC, DeLong variance, positives, negatives (unweighted counts).

    With ``V10`` the share of the group's negatives below a positive (ties one half) and
    ``V01`` the share of positives above a negative, AUC is the mean of ``V10`` and
    ``var = S10 / P + S01 / N`` with ``S10``, ``S01`` their sample variances. Every positive
    at one atom has the same ``V10`` (every negative the same ``V01``), so the sums run over
    atoms. NaN where a group lacks two positives and two negatives (variance undefined).
    """
    auc = np.full(n_groups, np.nan)
    var = np.full(n_groups, np.nan)
    n_pos = np.zeros(n_groups)
    n_neg = np.zeros(n_groups)
    starts, present = _group_starts(atoms)
    if starts.size == 0:
        return auc, var, n_pos, n_neg
    pos, neg = atoms.pos_n.astype(np.float64), atoms.neg_n.astype(np.float64)
    sizes = np.diff(np.append(starts, pos.size))
    p_tot = np.add.reduceat(pos, starts)
    n_tot = np.add.reduceat(neg, starts)
    n_pos[present], n_neg[present] = p_tot, n_tot
    neg_below = np.cumsum(neg) - neg
    neg_below -= np.repeat(neg_below[starts], sizes)
    pos_upto = np.cumsum(pos)
    pos_upto -= np.repeat(pos_upto[starts] - pos[starts], sizes)
    p_rep, n_rep = np.repeat(p_tot, sizes), np.repeat(n_tot, sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = (neg_below + 0.5 * neg) / n_rep
        v01 = (p_rep - pos_upto + 0.5 * pos) / p_rep
        a = np.add.reduceat(np.nan_to_num(pos * v10), starts) / p_tot
        a_rep = np.repeat(a, sizes)
        s10 = np.add.reduceat(np.nan_to_num(pos * (v10 - a_rep) ** 2), starts) / (p_tot - 1)
        s01 = np.add.reduceat(np.nan_to_num(neg * (v01 - a_rep) ** 2), starts) / (n_tot - 1)
        v = s10 / p_tot + s01 / n_tot
    ok = (p_tot >= 1) & (n_tot >= 1)
    auc[present[ok]] = a[ok]
    ok2 = (p_tot >= 2) & (n_tot >= 2)
    var[present[ok2]] = v[ok2]
    return auc, var, n_pos, n_neg


def brier_moments(atoms: ScoreAtoms, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: mean and sample variance (ddof 1) of ``(s - y)^2``, and the row count."""
    mean = np.full(n_groups, np.nan)
    var = np.full(n_groups, np.nan)
    count = np.zeros(n_groups)
    starts, present = _group_starts(atoms)
    if starts.size == 0:
        return mean, var, count
    s = atoms.score
    pos, neg = atoms.pos_n.astype(np.float64), atoms.neg_n.astype(np.float64)
    e_pos, e_neg = (s - 1.0) ** 2, s**2
    sizes = np.diff(np.append(starts, s.size))
    n = np.add.reduceat(pos + neg, starts)
    m = np.add.reduceat(pos * e_pos + neg * e_neg, starts) / n
    m_rep = np.repeat(m, sizes)
    ss = np.add.reduceat(pos * (e_pos - m_rep) ** 2 + neg * (e_neg - m_rep) ** 2, starts)
    count[present] = n
    mean[present] = m
    with np.errstate(divide="ignore", invalid="ignore"):
        var[present] = np.where(n >= 2, ss / np.maximum(n - 1, 1), np.nan)
    return mean, var, count


def score_test(
    metric: str, atoms_a: ScoreAtoms, atoms_b: ScoreAtoms, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per group: rows in A, rows in B, statistic, two-sided p-value and the test's name.

    ``"delong"``: z of the AUC difference; ``"welch"``: Welch's t of the Brier scores;
    ``"none"`` (NaN) for metrics without a test, and when a table's group has fewer than
    ``MIN_AUC_CLASS`` (5) positives or negatives (AUC) or ``MIN_BRIER_ROWS`` (20) scored rows
    (Brier): the normal approximations are not trusted on so few rows.
    """
    from scipy.stats import norm
    from scipy.stats import t as student_t

    stat = np.full(n_groups, np.nan)
    p = np.full(n_groups, np.nan)
    test = np.full(n_groups, "none", dtype=object)
    if metric == "roc_auc":
        va, var_a, pa, na = auc_delong(atoms_a, n_groups)
        vb, var_b, pb, nb = auc_delong(atoms_b, n_groups)
        n_a, n_b = pa + na, pb + nb
        ok = np.isfinite(var_a) & np.isfinite(var_b)
        ok &= (np.minimum(pa, na) >= MIN_AUC_CLASS) & (np.minimum(pb, nb) >= MIN_AUC_CLASS)
        se = np.sqrt(np.where(ok, var_a + var_b, 0.0))
        diff = np.where(ok, vb - va, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.sign(diff) * np.inf)
        z = np.where(diff == 0, 0.0, z)
        stat[ok] = z[ok]
        p[ok] = 2 * norm.sf(np.abs(z[ok]))
        test[ok] = SCORE_TESTS[metric]
        return n_a, n_b, stat, p, test
    if metric == "brier_score":
        ma, var_a, n_a = brier_moments(atoms_a, n_groups)
        mb, var_b, n_b = brier_moments(atoms_b, n_groups)
        ok = np.isfinite(var_a) & np.isfinite(var_b)
        ok &= (n_a >= MIN_BRIER_ROWS) & (n_b >= MIN_BRIER_ROWS)
        with np.errstate(divide="ignore", invalid="ignore"):
            qa, qb = var_a / n_a, var_b / n_b
            se2 = qa + qb
            diff = mb - ma
            t = np.where(se2 > 0, diff / np.sqrt(np.where(se2 > 0, se2, 1.0)), 0.0)
            t = np.where((se2 == 0) & (diff != 0), np.sign(diff) * np.inf, t)
            df = se2**2 / (qa**2 / (n_a - 1) + qb**2 / (n_b - 1))
        stat[ok] = t[ok]
        # df is NaN when both variances are 0 (then t is 0 or infinite: p 1 or 0)
        p[ok] = np.where(
            se2[ok] > 0,
            2 * student_t.sf(np.abs(t[ok]), np.where(se2[ok] > 0, df[ok], 1.0)),
            np.where(diff[ok] == 0, 1.0, 0.0),
        )
        test[ok] = SCORE_TESTS[metric]
        return n_a, n_b, stat, p, test
    _, _, n_a = brier_moments(atoms_a, n_groups)
    _, _, n_b = brier_moments(atoms_b, n_groups)
    return n_a, n_b, stat, p, test
