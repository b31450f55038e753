"""Fairness in production: windows of count tables in a durable store, drift, Prometheus.

A :class:`FairnessMonitor` turns a stream of predictions (and labels that arrive later) into
one count table per time or row-count window in an SQLite file that survives crashes;
:meth:`FairnessMonitor.drift` tests a window against a reference, and
:meth:`FairnessMonitor.collector` exports gauges to Prometheus (``pip install
'fairaudit[monitor]'``).

Examples
--------
>>> import tempfile, os
>>> from fairaudit.monitor import FairnessMonitor
>>> with FairnessMonitor(os.path.join(tempfile.mkdtemp(), "store.db"),
...                      sensitive_features=["sex"], min_group_size=1) as mon:
...     mon.update([1, 0, 1, 1], {"sex": ["F", "F", "M", "M"]})
...     mon.current().by_group["selection_rate"].tolist()
4
[0.5, 1.0]
"""

from __future__ import annotations

from fairaudit.metrics._drift import DriftResult
from fairaudit.monitor._monitor import FairnessMonitor
from fairaudit.monitor._prometheus import FairnessCollector, serve

__all__ = ["DriftResult", "FairnessCollector", "FairnessMonitor", "serve"]
