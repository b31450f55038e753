"""Benchmark: the scale cliffs of the metrics engine (issue 11, "No cliffs at scale").

Each line times one operation in this process and prints its figure; run it once on the
branch and once on an older checkout (``PYTHONPATH=/path/to/old``) to compare.

- intervals with 1,000 groups and ``n_boot=1000`` (rates: Jeffreys, closed form);
- a bootstrapped score metric (ROC AUC, exact) with 1,000 groups and 1,000 replicates, and
  its peak memory with 20,000 groups (chunked over groups);
- ``y_score`` with 1e7 distinct values: time and peak memory over the input's size;
- ``tests()`` with 10,000 groups.

    python benchmarks/bench_cliffs.py            # everything (the 1e7-row case takes a while)
    python benchmarks/bench_cliffs.py --quick    # 1e6 distinct scores instead of 1e7
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

import fairaudit as fa

RATES = [
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "accuracy",
]


def gm(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fa.group_metrics(*args, min_group_size=0, **kwargs)


def timed(func):
    t0 = time.perf_counter()
    out = func()
    return time.perf_counter() - t0, out


def peak(func):
    tracemalloc.start()
    func()
    out = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)

    n = 1_000_000
    g = rng.integers(0, 1000, n)
    yt, yp = rng.integers(0, 2, n), rng.integers(0, 2, n)
    t0, _ = timed(lambda: gm(yt, yp, sensitive_features=g, metrics=RATES))
    t1, _ = timed(
        lambda: gm(yt, yp, sensitive_features=g, metrics=RATES, n_boot=1000, random_state=0)
    )
    print(
        f"1,000 groups, 6 rates, 1e6 rows: no intervals {t0:.3f} s, n_boot=1000 {t1:.3f} s "
        f"(intervals cost {t1 - t0:.3f} s)"
    )

    n = 200_000
    g = rng.integers(0, 1000, n)
    yt = rng.integers(0, 2, n)
    score = np.round(rng.random(n), 3)
    yp = (score > 0.5).astype(int)
    t, _ = timed(
        lambda: gm(
            yt,
            yp,
            sensitive_features=g,
            y_score=score,
            metrics=["roc_auc"],
            n_boot=1000,
            random_state=0,
        )
    )
    print(f"ROC AUC bootstrap, 1,000 groups x 1,000 replicates, 2e5 rows: {t:.2f} s")
    g = rng.integers(0, 20_000, n)
    mb = (
        peak(
            lambda: gm(
                yt,
                yp,
                sensitive_features=g,
                y_score=score,
                metrics=["roc_auc"],
                n_boot=1000,
                random_state=0,
            )
        )
        / 1e6
    )
    print(f"ROC AUC bootstrap, 20,000 groups x 1,000 replicates: peak {mb:.0f} MB")

    n = 1_000_000 if args.quick else 10_000_000
    y = rng.integers(0, 2, n)
    s = rng.random(n)
    p = (s > 0.5).astype(np.int64)
    g = rng.integers(0, 10, n)
    size = (y.nbytes + s.nbytes + p.nbytes + g.nbytes) / 1e6
    t, _ = timed(lambda: gm(y, p, sensitive_features=g, y_score=s))
    mb = peak(lambda: gm(y, p, sensitive_features=g, y_score=s)) / 1e6
    print(
        f"y_score with {n:.0e} distinct values, 10 groups: {t:.2f} s, peak {mb:.0f} MB = "
        f"{mb / size:.2f}x the input ({size:.0f} MB)"
    )

    n = 1_000_000
    res = gm(
        rng.integers(0, 2, n), rng.integers(0, 2, n), sensitive_features=rng.integers(0, 10_000, n)
    )
    t, table = timed(res.tests)
    print(f"tests() with 10,000 groups, 8 rates: {t:.2f} s ({len(table)} rows)")


if __name__ == "__main__":
    main()
