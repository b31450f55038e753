"""Speed of the fairness monitor: updates into the durable store, and Prometheus scrapes.

1. ``FairnessMonitor.update`` of 1e6 predictions (two sensitive columns of text, 10
   intersectional groups, one timestamp per batch; then per-row timestamps over 24 hourly
   windows), against the floor: ``pd.factorize`` of the columns plus one ``np.bincount`` (the
   counting alone, nothing durable). Also 1e5 predictions with ids (each id is stored for late
   labels), the expensive path. And 1e6 labelled predictions with scores (``y_score`` floats
   rounded by the monitor's ``score_decimals=3``: at most 1,001 scores, so ~2e4 score atoms
   per window), against its floor: the same factorize + bincount plus ``np.round``,
   ``pd.factorize`` of the scores and one ``np.bincount`` over (group, score, label).
2. A scrape with 1,000 groups: an HTTP GET of ``fairaudit.monitor.serve`` (what Prometheus
   does), ``collector.exposition()`` (the text it sends) and ``generate_latest`` of a
   ``prometheus_client`` registry holding ``monitor.collector()``; cold (the store changed since
   the last scrape, so the counts are re-read and every gauge recomputed) and warm (cached),
   against the usual instrumentation: a ``prometheus_client.Gauge`` with the same 3,000
   labelled children (value, lower, upper), set beforehand, then ``generate_latest``.
3. The same cold scrape with score metrics (labelled predictions given with scores): the
   atoms of the current and the previous window are read from the store, so its cost grows
   with their number (groups x distinct rounded scores x 2).

Run: .venv/bin/python benchmarks/bench_monitor.py [--repeats 5] [--update-only | --scrape-only]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from fairaudit.monitor import FairnessMonitor, serve

CPU: list[float] = []  # CPU seconds of the last best() call (wall time is what it returns)


def best(fn, repeats: int) -> float:
    """Best wall time of ``repeats`` calls; the best CPU time goes to CPU[-1]."""
    times, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    CPU.append(min(cpus))
    return min(times)


def bench_update(folder: Path, repeats: int) -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    sex = rng.choice(np.array(["Female", "Male"], dtype=object), n)
    race = rng.choice(np.array(["A", "B", "C", "D", "E"], dtype=object), n)
    pred = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    ts = 1_767_225_600 + rng.integers(0, 24 * 3600, n)
    mon = FairnessMonitor(folder / "update.db", sensitive_features=["sex", "race"], window="1h")

    def update_one_window() -> None:
        mon.update(pred, {"sex": sex, "race": race}, timestamps=1_767_225_600)

    def update_labelled_24_windows() -> None:
        mon.update(pred, {"sex": sex, "race": race}, y_true=y, timestamps=ts)

    def floor() -> None:
        a, ua = pd.factorize(sex)
        b, ub = pd.factorize(race)
        np.bincount((a * len(ub) + b) * 6 + 4 + pred, minlength=len(ua) * len(ub) * 6)

    t_one = best(update_one_window, repeats)
    c_one = CPU[-1]
    t_24 = best(update_labelled_24_windows, repeats)
    c_24 = CPU[-1]
    t_floor = best(floor, repeats)
    c_floor = CPU[-1]
    print("update of 1e6 predictions, 10 groups (wall; CPU):")
    print(f"  one window                 {t_one:.3f} s; {c_one:.3f} s  ({c_one / c_floor:.1f}x)")
    print(f"  labelled, 24 windows       {t_24:.3f} s; {c_24:.3f} s  ({c_24 / c_floor:.1f}x)")
    print(f"  floor (factorize+bincount) {t_floor:.3f} s; {c_floor:.3f} s")
    n_ids = 100_000
    counter = iter(range(10**9))

    def update_with_ids() -> None:
        k = next(counter)
        ids = [f"{k}-{i}" for i in range(n_ids)]
        mon.update(
            pred[:n_ids],
            {"sex": sex[:n_ids], "race": race[:n_ids]},
            ids=ids,
            timestamps=1_767_225_600,
        )

    t_ids = best(update_with_ids, repeats)
    print(f"  1e5 predictions with ids   {t_ids:.3f} s  ({n_ids / t_ids:,.0f} rows/s)")
    mon.close()

    score = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0.0, 1.0)
    scored = FairnessMonitor(
        folder / "scores.db", sensitive_features=["sex", "race"], window="1h", score_decimals=3
    )

    def update_with_scores() -> None:
        scored.update(
            pred, {"sex": sex, "race": race}, y_true=y, y_score=score, timestamps=1_767_225_600
        )

    def floor_scores() -> None:
        a, ua = pd.factorize(sex)
        b, ub = pd.factorize(race)
        group = a * len(ub) + b
        np.bincount(group * 6 + 2 * y + pred, minlength=len(ua) * len(ub) * 6)
        s_code, s_values = pd.factorize(np.round(score, 3))
        key = (group * len(s_values) + s_code) * 2 + y
        np.bincount(key, minlength=len(ua) * len(ub) * len(s_values) * 2)

    t_sc = best(update_with_scores, repeats)
    c_sc = CPU[-1]
    t_fs = best(floor_scores, repeats)
    c_fs = CPU[-1]
    atoms = scored.count_table().scores
    n_atoms = 0 if atoms is None else atoms.group.size
    print(f"update of 1e6 labelled predictions with scores (score_decimals=3, {n_atoms} atoms):")
    print(f"  with y_score               {t_sc:.3f} s; {c_sc:.3f} s  ({c_sc / c_fs:.1f}x)")
    print(f"  floor (+ round, factorize, bincount) {t_fs:.3f} s; {c_fs:.3f} s")
    scored.close()


def bench_scrape(folder: Path, repeats: int) -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    groups = np.array([f"group-{i:04d}" for i in range(1000)], dtype=object)
    g = groups[rng.integers(0, 1000, n)]
    pred = rng.integers(0, 2, n)
    mon = FairnessMonitor(folder / "scrape.db", sensitive_features=["g"], min_group_size=1)
    mon.update(pred, {"g": g}, timestamps=1_767_225_600)
    mon.update(pred[::-1], {"g": g}, timestamps=1_767_225_600 + 3600)
    collector = mon.collector()
    registry = CollectorRegistry()
    registry.register(mon.collector())
    server = serve(mon, port=0, refresh_interval=None)  # computes on a scrape after a change
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    background = serve(mon, port=0)  # the default: a thread publishes, scrapes send that
    background_url = f"http://127.0.0.1:{background.server_address[1]}/metrics"
    counter = iter(range(10**9))

    def change_store() -> None:
        # a one-row update in the same window changes the store: the next scrape recomputes
        mon.update([1], {"g": [groups[next(counter) % 1000]]}, timestamps=1_767_225_600 + 3600)

    def timed(fn) -> tuple[float, float]:
        """(wall, CPU) of the best of ``repeats`` cold calls (the store changed before each)."""
        walls, cpus = [], []
        for _ in range(repeats):
            change_store()
            start, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
        return min(walls), min(cpus)

    def http_get() -> bytes:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read()

    def http_get_gzip(where: str = url) -> bytes:  # as Prometheus asks
        request = urllib.request.Request(where, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return gzip.decompress(response.read())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = {
            "default exporter (background refresh), gzip, just after a change": timed(
                lambda: http_get_gzip(background_url)
            ),
            "exporter over HTTP, cold": timed(http_get),
            "exporter over HTTP with gzip, cold": timed(http_get_gzip),
            "exposition(), cold": timed(collector.exposition),
            "generate_latest(registry), cold": timed(lambda: generate_latest(registry)),
        }
        rows["exporter over HTTP, warm"] = (best(http_get, repeats), CPU[-1])
        rows["exporter over HTTP with gzip, warm"] = (best(http_get_gzip, repeats), CPU[-1])
        rows["exposition(), warm"] = (best(collector.exposition, repeats), CPU[-1])
        rows["generate_latest(registry), warm"] = (
            best(lambda: generate_latest(registry), repeats),
            CPU[-1],
        )
        same = collector.exposition() == generate_latest(registry) == http_get() == http_get_gzip()
    for srv in (server, background):
        srv.shutdown()
        srv.server_close()
    lines = collector.exposition().decode().count("\n")
    plain = CollectorRegistry()
    gauges = [
        Gauge(name, "x", ["metric", "sensitive_feature", "group", "window"], registry=plain)
        for name in ("plain_group_metric", "plain_group_metric_lower", "plain_group_metric_upper")
    ]
    for gauge in gauges:
        for group in groups:
            gauge.labels("selection_rate", "g", group, "current").set(0.5)
    t_plain = best(lambda: generate_latest(plain), repeats)
    c_plain = CPU[-1]
    print(f"scrape with 1,000 groups ({lines} lines), drift p-values included (wall; CPU):")
    print("  (cold: the store changed since the last scrape, so every gauge is recomputed)")
    for label, (wall, cpu) in rows.items():
        print(f"  {label:66s} {wall * 1e3:6.1f} ms; {cpu * 1e3:6.1f} ms  ({wall / t_plain:.2f}x)")
    print(f"  {'plain Gauge, 3,000 children':66s} {t_plain * 1e3:6.1f} ms; {c_plain * 1e3:6.1f} ms")
    print(f"  exposition == generate_latest == HTTP body: {same}")
    mon.close()


def bench_scrape_scores(folder: Path, repeats: int) -> None:
    """Cold ``exposition()`` with and without score metrics (store changed before each)."""
    rng = np.random.default_rng(2)
    n = 200_000
    print(
        "recomputing the gauges (exposition(), store changed) with score metrics, 2 windows of "
        "200,000 rows:"
    )
    for n_groups, decimals in ((2, 3), (20, 2), (20, 3), (1000, 2)):
        groups = np.array([f"group-{i:04d}" for i in range(n_groups)], dtype=object)
        g = groups[rng.integers(0, n_groups, n)]
        y = rng.integers(0, 2, n)
        s = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0.0, 1.0)
        pred = (s > 0.5).astype(int)
        for with_scores in (False, True):
            mon = FairnessMonitor(
                folder / f"scores-{n_groups}-{decimals}-{with_scores}.db",
                sensitive_features=["g"],
                min_group_size=1,
                score_decimals=decimals,
            )
            extra: dict = {"y_score": s} if with_scores else {}
            for t in (1_767_225_600, 1_767_225_600 + 3600):
                mon.update(pred, {"g": g}, y_true=y, timestamps=t, **extra)
            collector = mon.collector()
            background = serve(mon, port=0)
            background_url = f"http://127.0.0.1:{background.server_address[1]}/metrics"
            walls, cpus, scrapes = [], [], []
            for i in range(repeats):
                one: dict = {"y_score": [0.5]} if with_scores else {}
                mon.update(
                    [1],
                    {"g": [groups[i % n_groups]]},
                    y_true=[1],
                    timestamps=1_767_225_600 + 3600,
                    **one,
                )
                start = time.perf_counter()
                with urllib.request.urlopen(background_url, timeout=30) as response:
                    response.read()
                scrapes.append(time.perf_counter() - start)
                start, cpu = time.perf_counter(), time.process_time()
                text = collector.exposition()
                walls.append(time.perf_counter() - start)
                cpus.append(time.process_time() - cpu)
            background.shutdown()
            background.server_close()
            lines = text.count(b"\n")
            table = mon.count_table(1_767_225_600 + 3600)
            atoms = 0 if table.scores is None else table.scores.group.size
            print(
                f"  {n_groups:5d} groups, {decimals} decimals, "
                f"{'scores   ' if with_scores else 'no scores'}: {min(walls) * 1e3:7.1f} ms; "
                f"{min(cpus) * 1e3:7.1f} ms CPU ({lines} lines, {atoms} atoms); a scrape of the "
                f"default exporter meanwhile {min(scrapes) * 1e3:5.1f} ms"
            )
            mon.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scrape-only", action="store_true", help="skip the update benchmark")
    parser.add_argument("--update-only", action="store_true", help="skip the scrape benchmark")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if not args.scrape_only:
            bench_update(Path(folder), args.repeats)
        if not args.update_only:
            bench_scrape(Path(folder), args.repeats)
            bench_scrape_scores(Path(folder), args.repeats)


if __name__ == "__main__":
    main()
