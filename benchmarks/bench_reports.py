"""Benchmark: the release check end to end, fairaudit's command vs the same numbers by hand
with fairlearn.

Work: read a Parquet file of predictions (y, prediction, sex, race), compute per-group metrics
by sex x race with bootstrap intervals, check a three-rule policy (selection-rate ratio vs a
reference by sex, TPR difference by sex judged on the interval, accuracy floor per race).

- fairaudit: ``fairaudit.cli.main(["audit", ...])`` in-process, writing HTML, JSON and JUnit.
- peer: pandas reads the file, ``fairlearn.metrics.MetricFrame`` with the same ``n_boot`` (row
  resampling) computes the per-group metrics and their intervals, and the three rules are
  evaluated by hand; no report is written (fairlearn has none).

Run: ``python benchmarks/bench_reports.py [--rows N] [--n-boot B]``. Prints times, their
ratio and peak traced memory (tracemalloc) of each side.

``--groups G`` (e.g. 10000) instead times one report on G groups: ``Report.save`` of HTML and
of JSON, against the floor of pandas writing the same per-group table as HTML
(``DataFrame.to_html``, every row, no plot or view model).
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

POLICY = """\
version: 1
name: bench
rules:
  - {id: four-fifths, metric: selection_rate, min: 0.8, reference_group: M, sensitive_feature: sex}
  - {id: tpr-gap, metric: true_positive_rate, compare: difference, max: 0.1, sensitive_feature: sex, judge: interval}
  - {id: accuracy, metric: accuracy, compare: value, min: 0.6, sensitive_feature: race}
"""


def make_data(folder: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["A", "B", "C", "D", "E"], n, p=[0.6, 0.2, 0.1, 0.06, 0.04])
    y = rng.integers(0, 2, n)
    p = np.where(sex == "F", 0.25, 0.4) + 0.2 * y
    pred = (rng.random(n) < p).astype(int)
    path = folder / "predictions.parquet"
    pd.DataFrame({"y": y, "pred": pred, "sex": sex, "race": race}).to_parquet(path)
    (folder / "policy.yaml").write_text(POLICY)
    return path


def run_fairaudit(folder: Path, path: Path, n_boot: int) -> int:
    from fairaudit.cli import main

    argv = [
        "audit", str(path), "--target", "y", "--prediction", "pred",
        "--sensitive", "sex", "race", "--n-boot", str(n_boot), "--seed", "0",
        "--policy", str(folder / "policy.yaml"), "--report", str(folder / "r.html"),
        "--json", str(folder / "r.json"), "--junit", str(folder / "r.xml"), "--quiet",
    ]  # fmt: skip
    return main(argv, stdout=io.StringIO(), stderr=io.StringIO())


def run_fairlearn(path: Path, n_boot: int) -> bool:
    from fairlearn.metrics import (
        MetricFrame,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    frame = pd.read_parquet(path)
    metrics = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "accuracy": accuracy_score,
    }
    results = {}
    for features in (["sex"], ["race"], ["sex", "race"]):
        results[tuple(features)] = MetricFrame(
            metrics=metrics,
            y_true=frame["y"],
            y_pred=frame["pred"],
            sensitive_features=frame[features],
            n_boot=n_boot,
            ci_quantiles=[0.025, 0.975],
            random_state=0,
        )
    sex = results[("sex",)]
    by = sex.by_group
    four_fifths = (by["selection_rate"] / by.loc["M", "selection_rate"]).min() >= 0.8
    _, upper = sex.difference_ci()
    tpr_gap = upper["true_positive_rate"] <= 0.1
    accuracy = (results[("race",)].by_group_ci[0]["accuracy"] >= 0.6).all()
    return bool(four_fifths and tpr_gap and accuracy)


def timed(func, *args):
    start = time.perf_counter()
    out = func(*args)
    return time.perf_counter() - start, out


def peak(func, *args) -> float:
    tracemalloc.start()
    func(*args)
    _, high = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return high / 2**20


def bench_groups(n_groups: int) -> None:
    import fairaudit as fa

    rng = np.random.default_rng(0)
    n = 20 * n_groups
    g = rng.integers(0, n_groups, n).astype(str)
    y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    gm = fa.group_metrics(y, p, sensitive_features=g, min_group_size=1)
    fa.Report().add(fa.group_metrics(y[:500], p[:500], sensitive_features=g[:500])).to_html()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t_html, _ = timed(fa.Report().add(gm).save, folder / "r.html")
        t_json, _ = timed(fa.Report().add(gm).save, folder / "r.json")
        t_floor, _ = timed(gm.by_group.to_html, folder / "floor.html")
        size = (folder / "r.html").stat().st_size / 2**10
    print(f"groups={n_groups:,} rows={n:,}")
    print(f"Report.save HTML: {t_html:6.2f} s ({size:,.0f} KiB)  JSON: {t_json:6.2f} s")
    print(f"pandas to_html of every row (floor): {t_floor:6.2f} s")
    print(f"ratio fairaudit HTML / floor: {t_html / t_floor:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--n-boot", type=int, default=5)
    parser.add_argument("--groups", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.groups:
        bench_groups(args.groups)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # warm-up (imports, template compilation) on a small file, not timed
        warm = folder / "warm"
        warm.mkdir()
        small = make_data(warm, 2_000)
        run_fairaudit(warm, small, 5)
        run_fairlearn(small, 5)
        path = make_data(folder, args.rows)

        t_fa, code = timed(run_fairaudit, folder, path, args.n_boot)
        t_fl, passed = timed(run_fairlearn, path, args.n_boot)
        m_fa = peak(run_fairaudit, folder, path, args.n_boot)
        m_fl = peak(run_fairlearn, path, args.n_boot)
        t_big, _ = timed(run_fairaudit, folder, path, 1000)
        print(f"rows={args.rows:,} n_boot={args.n_boot} (sex x race, 3 rules)")
        print(
            f"fairaudit audit (HTML+JSON+JUnit): {t_fa:8.2f} s  peak {m_fa:7.1f} MiB  exit {code}"
        )
        print(
            f"fairlearn MetricFrame + by hand:   {t_fl:8.2f} s  peak {m_fl:7.1f} MiB  passed {passed}"
        )
        print(f"ratio fairlearn / fairaudit: {t_fl / t_fa:.1f}x time, {m_fl / m_fa:.1f}x memory")
        print(f"fairaudit audit with n_boot=1000: {t_big:.2f} s")


if __name__ == "__main__":
    main()
