"""Coverage of the comparison intervals of GroupMetrics, by simulation.

For 2, 5 and 20 groups of 20, 100 or 1,000 rows, with all groups equal (selection rate 0.3;
max - min of the estimates is biased upward there) or unequal (rates spread over 0.2-0.4),
draws binomial counts, computes the intervals exactly as ``GroupMetrics.disparities()`` does
(Jeffreys intervals at the Bonferroni-adjusted level, then the envelope; equalized odds from
the TPR and FPR of groups with half of the rows positive), and counts how often the interval
holds the true value. For contrast, the percentile bootstrap of max - min (what fairaudit
reported before) on the same data.

    python benchmarks/coverage_group_metrics.py            # 2,000 data sets per case
    python benchmarks/coverage_group_metrics.py --quick    # 300
"""

from __future__ import annotations

import argparse

import numpy as np

from fairaudit.metrics._intervals import (
    adjusted_confidence,
    envelope_difference,
    envelope_ratio,
    jeffreys_interval,
)

CONF = 0.95


def case(n_groups: int, rows: int, rates: np.ndarray, trials: int, rng, n_boot: int):
    x = rng.binomial(rows, rates, size=(trials, n_groups))
    n = np.full(x.shape, rows)
    lo, hi = jeffreys_interval(x, n, adjusted_confidence(CONF, n_groups))
    out = {}
    true_diff = rates.max() - rates.min()
    a, b = envelope_difference(lo, hi, "between_groups")
    out["difference"] = ((a <= true_diff) & (true_diff <= b)).mean(), (b - a).mean()
    true_ratio = rates.min() / rates.max()
    a, b = envelope_ratio(lo, hi, "between_groups")
    out["ratio"] = ((a <= true_ratio) & (true_ratio <= b)).mean(), (b - a).mean()
    # to_overall: groups plus the overall value, k = G + 1
    lo2, hi2 = jeffreys_interval(x, n, adjusted_confidence(CONF, n_groups + 1))
    o_lo, o_hi = jeffreys_interval(x.sum(1), n.sum(1), adjusted_confidence(CONF, n_groups + 1))
    overall = rates.mean()
    truth = np.abs(rates - overall).max()
    a, b = envelope_difference(lo2, hi2, "to_overall", overall_lower=o_lo, overall_upper=o_hi)
    out["difference to overall"] = ((a <= truth) & (truth <= b)).mean(), (b - a).mean()
    # equalized odds: TPR on the positive half, FPR on the negative half, each rate equal to
    # `rates` (the worst case for the max of the two differences); k = 2G
    half = rows // 2
    xt = rng.binomial(half, rates, size=(trials, n_groups))
    xf = rng.binomial(half, rates, size=(trials, n_groups))
    nh = np.full(xt.shape, half)
    level = adjusted_confidence(CONF, 2 * n_groups)
    at, bt = envelope_difference(*jeffreys_interval(xt, nh, level), "between_groups")
    af, bf = envelope_difference(*jeffreys_interval(xf, nh, level), "between_groups")
    a, b = np.maximum(at, af), np.maximum(bt, bf)
    out["equalized odds difference"] = ((a <= true_diff) & (true_diff <= b)).mean(), (b - a).mean()
    # before: percentile bootstrap of max - min (the row bootstrap of a rate is binomial)
    m = min(trials, 300)
    p = x[:m] / rows
    reps = rng.binomial(rows, np.broadcast_to(p, (n_boot, m, n_groups))) / rows
    spread = reps.max(-1) - reps.min(-1)
    a, b = np.quantile(spread, [(1 - CONF) / 2, (1 + CONF) / 2], axis=0)
    out["before: percentile bootstrap of max - min"] = (
        ((a <= true_diff) & (true_diff <= b)).mean(),
        (b - a).mean(),
    )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    trials = 300 if args.quick else 2000
    rng = np.random.default_rng(20261128)
    print(f"nominal level {CONF}; {trials} simulated data sets per case")
    print("| groups | rows per group | rates | interval | coverage | mean width |")
    print("|---|---|---|---|---|---|")
    for n_groups in (2, 5, 20):
        for rows in (20, 100, 1000):
            for kind in ("equal", "unequal"):
                rates = (
                    np.full(n_groups, 0.3) if kind == "equal" else np.linspace(0.2, 0.4, n_groups)
                )
                res = case(n_groups, rows, rates, trials, rng, 500)
                for name, (cov, width) in res.items():
                    print(f"| {n_groups} | {rows} | {kind} | {name} | {cov:.3f} | {width:.3f} |")


if __name__ == "__main__":
    main()
