"""A writer for the crash test: a fork server whose children write batches until killed.

Protocol on stdin/stdout (one line each):
  test -> server  ``run START``   fork a child that writes batches START, START+1, ...
  server -> test  ``pid PID``     the child's pid (the test kills it with SIGKILL)
  child -> test   ``ack K``       batch K was acknowledged (``update`` returned)
  server -> test  ``dead``        the child has exited (killed)

The server imports fairaudit once, so that each of the many kills costs a fork, not an
interpreter start. ``batch(k)`` is deterministic, so the test can replay the acknowledged
batches into an independent model of the expected counts.
"""

from __future__ import annotations

import os
import sys

import numpy as np

GROUPS = np.array(["a", "b", 'c "quoted"'], dtype=object)
WINDOW = "1min"
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def _prediction_batch(k: int) -> dict:
    rng = np.random.default_rng(1000 + k)
    n = int(rng.integers(20, 200))
    return {
        "ids": np.array([f"{k}-{i}" for i in range(n)], dtype=object),
        "y_pred": rng.integers(0, 2, size=n),
        "group": GROUPS[rng.integers(0, 3, size=n)],
        "timestamps": T0 + k * 7 + rng.integers(-90, 90, size=n),  # out of order
        "y_true": np.where(rng.random(n) < 0.3, rng.integers(0, 2, size=n), -1),
        # scores on a grid of 101 values, so that rows share atoms
        "y_score": rng.integers(0, 101, size=n) / 100,
    }


def units(k: int) -> list[dict]:
    """The updates of batch k, each acknowledged on its own ("ack K.J").

    Batches with k % 3 == 2 carry late labels: for half of the previous batch's unlabelled
    predictions, for an unknown id (an orphan) and for the first id of batch k + 1 (a label
    that arrives before its prediction). Other batches carry predictions with ids and scores,
    in two updates: those without a label yet, then those whose label is known now.
    """
    if k % 3 == 2:
        prev = _prediction_batch(k - 1)
        waiting = prev["ids"][prev["y_true"] < 0]
        rng = np.random.default_rng(2000 + k)
        chosen = rng.choice(waiting, size=len(waiting) // 2, replace=False).tolist()
        ids = [*chosen, f"unknown-{k}", _prediction_batch(k + 1)["ids"][0]]
        return [{"kind": "labels", "ids": ids, "y_true": rng.integers(0, 2, size=len(ids))}]
    b = _prediction_batch(k)
    out = []
    for labelled in (False, True):
        rows = (b["y_true"] >= 0) == labelled
        out.append(
            {
                "kind": "predictions",
                "ids": b["ids"][rows],
                "y_pred": b["y_pred"][rows],
                "group": b["group"][rows],
                "timestamps": b["timestamps"][rows],
                "y_true": b["y_true"][rows] if labelled else None,
                "y_score": b["y_score"][rows],
            }
        )
    return out


def write(path: str, start: int) -> None:
    """Write batches from ``start`` on, acknowledging each update after it returns."""
    from fairaudit.monitor import FairnessMonitor

    mon = FairnessMonitor(path, sensitive_features=["g"], window=WINDOW, min_group_size=1)
    k = start
    while True:
        for j, u in enumerate(units(k)):
            batch_id = f"batch-{k}.{j}"
            if u["kind"] == "labels":
                mon.update_labels(u["ids"], u["y_true"], batch_id=batch_id)
            elif len(u["ids"]):
                mon.update(
                    u["y_pred"],
                    {"g": u["group"]},
                    ids=u["ids"],
                    y_true=u["y_true"],
                    y_score=u["y_score"],
                    timestamps=u["timestamps"],
                    batch_id=batch_id,
                )
            os.write(1, f"ack {k}.{j}\n".encode())
        k += 1


def burst(path: str, prefix: str) -> None:
    """20 updates of 25 rows, ids prefixed, as fast as the lock allows."""
    from fairaudit.monitor import FairnessMonitor

    mon = FairnessMonitor(path, sensitive_features=["g"], window=WINDOW, min_group_size=1)
    for i in range(20):
        mon.update(
            [1, 0, 1, 1, 0] * 5,
            {"g": ["a", "b", "a", "b", "a"] * 5},
            ids=[f"{prefix}-{i}-{r}" for r in range(25)],
            timestamps=T0,
        )
    os.write(1, f"done {prefix}\n".encode())


def main() -> None:
    """Serve ``run START`` commands until stdin closes."""
    import fairaudit.monitor  # noqa: F401  (import once, before forking)

    path = sys.argv[1]
    for line in sys.stdin:
        command, arg = line.split()
        if command == "burst":  # a child writing 20 updates concurrently with others
            pid = os.fork()
            if pid == 0:
                try:
                    burst(path, arg)
                finally:
                    os._exit(0)
            os.write(1, f"pid {pid}\n".encode())
            continue
        if command == "wait":
            for _ in range(int(arg)):
                os.wait()
            os.write(1, b"waited\n")
            continue
        start = int(arg)
        pid = os.fork()
        if pid == 0:
            try:
                write(path, start)
            finally:
                os._exit(0)
        os.write(1, f"pid {pid}\n".encode())
        os.waitpid(pid, 0)
        os.write(1, b"dead\n")


if __name__ == "__main__":
    main()
