"""Write store_v1.db with the store schema version 1 code of main (commit 2d9f02c).

Run it from the repository root with that version of fairaudit installed; the file it writes
is what ``test_monitor_scores.py`` migrates. Importing it does nothing (pytest collects
modules for doctests).
"""

from __future__ import annotations


def main() -> None:
    import sqlite3

    import numpy as np

    from fairaudit.monitor import FairnessMonitor

    path = "tests/monitor/data/store_v1.db"
    mon = FairnessMonitor(
        path,
        sensitive_features=["sex"],
        window="1h",
        metrics=["selection_rate", "true_positive_rate"],
    )
    rng = np.random.default_rng(1)
    n = 200
    g = rng.choice(["F", "M"], n)
    p = rng.integers(0, 2, n)
    y = rng.integers(0, 2, n)
    ts = 1767225600 + rng.integers(0, 7200, n)
    mon.update(p[:100], {"sex": g[:100]}, y_true=y[:100], timestamps=ts[:100], batch_id="labelled")
    ids = [f"id{i}" for i in range(100, 200)]
    mon.update(p[100:], {"sex": g[100:]}, ids=ids, timestamps=ts[100:], batch_id="pending")
    mon.update_labels(
        [f"id{i}" for i in range(100, 150)] + ["unknown"], y[100:151], batch_id="late"
    )
    mon.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()


if __name__ == "__main__":
    main()
