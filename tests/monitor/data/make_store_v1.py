"""Write a store with the schema version 1 code of main (commit 2d9f02c)."""
import sqlite3, numpy as np
from fairaudit.monitor import FairnessMonitor
path = "tests/monitor/data/store_v1.db"
mon = FairnessMonitor(path, sensitive_features=["sex"], window="1h", metrics=["selection_rate", "true_positive_rate"])
rng = np.random.default_rng(1)
n = 200
g = rng.choice(["F", "M"], n); p = rng.integers(0, 2, n); y = rng.integers(0, 2, n)
ts = 1767225600 + rng.integers(0, 7200, n)
mon.update(p[:100], {"sex": g[:100]}, y_true=y[:100], timestamps=ts[:100], batch_id="labelled")
mon.update(p[100:], {"sex": g[100:]}, ids=[f"id{i}" for i in range(100, 200)], timestamps=ts[100:], batch_id="pending")
mon.update_labels([f"id{i}" for i in range(100, 150)] + ["unknown"], y[100:151], batch_id="late")
mon.close()
con = sqlite3.connect(path); con.execute("PRAGMA wal_checkpoint(TRUNCATE)"); con.execute("PRAGMA journal_mode=DELETE"); con.close()
