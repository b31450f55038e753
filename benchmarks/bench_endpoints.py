"""Throughput of fa.models.Endpoint against the reference server (examples/serve_adult.py).

    python benchmarks/bench_endpoints.py [--repeats 3] [--single-rows 300]

Starts the reference server (uvicorn, one worker) on 127.0.0.1 with the Adult model, then
sends the 15,060 rows of Adult test three ways, in one process:

1. fairaudit: ``fa.wrap(Endpoint(url, label=, score=, batch_size=256, max_concurrency=4))``
   then ``predict`` and ``predict_score`` (one pass: records built from the DataFrame, batches
   sent concurrently, every answer validated, reassembled in row order);
2. the floor: a bare httpx loop posting the same 256-row batches sequentially (records
   prepared outside the timing, ``json=`` encoding, ``.json()`` decoding, no validation);
3. one row per request (a naive client, one pooled connection): a random subsample of
   ``--single-rows`` rows is timed and extrapolated to 15,060 rows.

Prints the times (best of ``--repeats``) and the ratios. Benchmarks are not tests.
"""

from __future__ import annotations

import argparse
import pickle
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

import fairaudit as fa
from fairaudit.models import Endpoint

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import serve_adult  # noqa: E402

BATCH = 256


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(model_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "examples" / "serve_adult.py"),
            "--port",
            str(port),
            "--model",
            str(model_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1.0).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the reference server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single-rows", type=int, default=300)
    args = parser.parse_args()

    test = fa.datasets.load_adult(split="test")
    X = test.X
    n = len(X)
    model = serve_adult.train_adult_model(random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "adult.pkl"
        path.write_bytes(pickle.dumps(model))
        proc, base = start_server(path)
        try:
            url = base + "/predict"
            records = X.astype(object).to_dict(orient="records")
            batches = [records[s : s + BATCH] for s in range(0, n, BATCH)]

            def run_fairaudit() -> float:
                ep = Endpoint(
                    url,
                    label="label",
                    score="score",
                    batch_size=BATCH,
                    max_concurrency=4,
                    progress=False,
                )
                t0 = time.perf_counter()
                m = fa.wrap(ep)
                labels, scores = m.predict(X), m.predict_score(X)
                elapsed = time.perf_counter() - t0
                assert np.array_equal(labels, model.predict(X))
                assert np.array_equal(scores, model.predict_proba(X)[:, 1])
                return elapsed

            def run_bare() -> float:
                with httpx.Client(timeout=30.0) as client:
                    t0 = time.perf_counter()
                    out = []
                    for batch in batches:
                        out.extend(
                            client.post(url, json={"instances": batch}).json()["predictions"]
                        )
                    elapsed = time.perf_counter() - t0
                assert len(out) == n
                return elapsed

            rng = np.random.default_rng(0)
            sample = rng.choice(n, size=args.single_rows, replace=False)

            def run_single() -> float:
                with httpx.Client(timeout=30.0) as client:
                    t0 = time.perf_counter()
                    for i in sample:
                        client.post(url, json={"instances": [records[i]]}).json()
                    elapsed = time.perf_counter() - t0
                return elapsed * n / len(sample)

            run_bare()  # warm the server
            timings = {"fairaudit": [], "bare": [], "single": []}
            for _ in range(args.repeats):
                timings["fairaudit"].append(run_fairaudit())
                timings["bare"].append(run_bare())
                timings["single"].append(run_single())
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    best = {k: min(v) for k, v in timings.items()}
    print(f"rows: {n:,}; batch_size {BATCH}; max_concurrency 4; best of {args.repeats}")
    print(
        f"fairaudit Endpoint (validated, labels + scores): {best['fairaudit']:.2f} s "
        f"({n / best['fairaudit']:,.0f} rows/s)"
    )
    print(f"bare httpx loop, same batches, sequential, no validation: {best['bare']:.2f} s")
    print(
        f"one row per request (extrapolated from {args.single_rows} rows): {best['single']:.1f} s"
    )
    print(f"speed-up over one row per request: {best['single'] / best['fairaudit']:.1f}x")
    print(f"fairaudit / bare loop: {best['fairaudit'] / best['bare']:.2f}x")


if __name__ == "__main__":
    main()
