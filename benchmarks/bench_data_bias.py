"""Benchmark: data (pre-training) bias through fairaudit vs SageMaker Clarify's smclarify.

The same work in both: the seven label measures (CI, DPL, KL, JS, LP, TVD, KS) and CDDL
(strata: education) for every group of sex and of race on Adult (30,162 rows), each group
against the rest. smclarify computes one measure for one group per call; fairaudit all of
them in one pass (and, at n_boot=1000, with intervals, which smclarify does not give).

    python benchmarks/bench_data_bias.py            # Adult as shipped
    python benchmarks/bench_data_bias.py --rows 1000000   # Adult resampled to 1e6 rows

smclarify: pip install --no-deps smclarify==0.5 pyfunctional dill tabulate
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import fairaudit as fa


def clarify(y, sensitive, strata):
    from smclarify.bias.metrics import pretraining as pre

    positive = pd.Series(np.asarray(y == 1))
    out = {}
    for col in sensitive.columns:
        values = pd.Series(np.asarray(sensitive[col], dtype=object))
        for group in values.unique():
            facet = pd.Series(np.asarray(values == group))
            out[col, group] = [
                pre.CI(y, facet),
                pre.DPL(y, facet, positive),
                pre.KL(y, facet),
                pre.JS(y, facet),
                pre.LP(y, facet),
                pre.TVD(y, facet),
                pre.KS(y, facet),
                pre.CDDL(y, facet, positive, strata),
            ]
    return out


def ours(y, sensitive, strata, n_boot):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fa.data_bias(
            y,
            sensitive_features={c: sensitive[c] for c in sensitive.columns},
            strata=strata,
            n_boot=n_boot,
            random_state=0,
        )


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=0, help="resample Adult to this many rows")
    args = parser.parse_args()
    ds = fa.datasets.load_adult()
    frame = ds.frame.assign(y=ds.y.to_numpy())
    if args.rows:
        frame = frame.sample(args.rows, replace=True, random_state=0).reset_index(drop=True)
    y = pd.Series(np.asarray(frame["y"]))
    sensitive = pd.DataFrame({c: np.asarray(frame[c], dtype=object) for c in ["sex", "race"]})
    strata = pd.Series(np.asarray(frame["education"], dtype=object))
    # the two agree before anything is timed (one feature at a time: no intersection here)
    ref = clarify(y, sensitive, strata)
    db = ours(y, sensitive, strata, 0).to_frame()
    for (col, group), values in ref.items():
        mine = db[(db.sensitive_feature == col) & (db.group == group)]["value"].to_numpy()
        np.testing.assert_allclose(mine, values, rtol=1e-10, atol=1e-12)
    t_clarify = best_of(lambda: clarify(y, sensitive, strata), repeat=1 if args.rows else 3)
    t_ours = best_of(lambda: ours(y, sensitive, strata, 0))
    t_boot = best_of(lambda: ours(y, sensitive, strata, 1000))
    print(f"rows: {len(y):,}; groups: sex 2, race 5 (+10 intersections in fairaudit only)")
    print(f"smclarify, 8 measures x 7 groups: {t_clarify:8.3f} s")
    print(f"fairaudit.data_bias, n_boot=0:     {t_ours:8.3f} s  ({t_clarify / t_ours:.0f}x faster)")
    print(f"fairaudit.data_bias, n_boot=1000:  {t_boot:8.3f} s  ({t_clarify / t_boot:.0f}x faster)")


if __name__ == "__main__":
    main()
