"""Prometheus export of a FairnessMonitor: a custom collector and a small HTTP exporter.

Exported families (labels in braces; all gauges unless said otherwise):

- ``fairaudit_group_metric{metric, sensitive_feature, group, window}`` with
  ``fairaudit_group_metric_lower`` / ``_upper`` (Wilson interval at the monitor's confidence):
  each metric per group of each sensitive feature in the newest window (``window="current"``);
  score metrics (``roc_auc``, ``brier_score``, ``calibration_error``, when the window holds
  labelled scores) have the value only, without ``_lower`` / ``_upper``.
- ``fairaudit_disparity{metric, sensitive_feature, kind}``: ``kind`` is ``difference``
  (max - min over groups) or ``ratio`` (min / max).
- ``fairaudit_policy_check{rule}``: 1 when the rule passes on the current window, 0 otherwise.
- ``fairaudit_drift_p_value{metric, sensitive_feature, group, against}`` and
  ``fairaudit_drift_p_value_adjusted{...}`` (Benjamini-Hochberg) of the current window against
  the previous one (or the reference).
- counters ``fairaudit_rows_received_total``, ``fairaudit_labels_received_total``,
  ``fairaudit_labels_matched_total``; gauges ``fairaudit_orphan_labels``,
  ``fairaudit_pending_labels``, ``fairaudit_window_start_seconds``.

Label values are the groups' text; ``prometheus_client`` escapes quotes, backslashes and
newlines in the exposition format. A scrape re-reads the store only when it changed (its
revision), so any process writing the store is seen by the exporter.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from fairaudit._optional import import_optional
from fairaudit.metrics._compute import rate_parts
from fairaudit.metrics._drift import _proportion_tests
from fairaudit.metrics._uncertainty import benjamini_hochberg, wilson_interval
from fairaudit.monitor._scores import RawAtoms, add_score_gauges, is_score_metric
from fairaudit.monitor._tables import cells_to_table, table_group_metrics

if TYPE_CHECKING:
    from fairaudit.monitor._monitor import FairnessMonitor

__all__ = ["FairnessCollector", "serve"]

_GROUP_LABELS = ["metric", "sensitive_feature", "group", "window"]


def _metrics_module() -> Any:
    return import_optional("prometheus_client.core", purpose="the Prometheus collector")


class FairnessCollector:
    """A ``prometheus_client`` collector reading a :class:`FairnessMonitor`'s store.

    Build it with :meth:`FairnessMonitor.collector`; the module docstring lists the families.

    Parameters
    ----------
    monitor : FairnessMonitor
        The monitor (its store, metrics, policy and confidence).
    drift_against : {"previous", "reference"} or None
        Which drift p-values to export.
    """

    def __init__(self, monitor: FairnessMonitor, *, drift_against: str | None = "previous"):
        if drift_against not in ("previous", "reference", None):
            raise ValueError(
                f"drift_against must be 'previous', 'reference' or None, got {drift_against!r}."
            )
        self.monitor = monitor
        self.drift_against = drift_against
        self._lock = threading.Lock()
        self._cache_key: tuple[int, int] | None = None
        self._cache: list[Any] = []
        _metrics_module()  # fail now, with the install line, when prometheus_client is missing

    def describe(self) -> list[Any]:
        """Families without samples (so that registering does not read the store)."""
        core = _metrics_module()
        return [
            core.GaugeMetricFamily("fairaudit_group_metric", "", labels=_GROUP_LABELS),
            core.GaugeMetricFamily("fairaudit_group_metric_lower", "", labels=_GROUP_LABELS),
            core.GaugeMetricFamily("fairaudit_group_metric_upper", "", labels=_GROUP_LABELS),
            core.GaugeMetricFamily("fairaudit_disparity", "", labels=[]),
            core.GaugeMetricFamily("fairaudit_policy_check", "", labels=[]),
            core.GaugeMetricFamily("fairaudit_drift_p_value", "", labels=[]),
            core.GaugeMetricFamily("fairaudit_drift_p_value_adjusted", "", labels=[]),
            core.CounterMetricFamily("fairaudit_rows_received", ""),
            core.CounterMetricFamily("fairaudit_labels_received", ""),
            core.CounterMetricFamily("fairaudit_labels_matched", ""),
            core.GaugeMetricFamily("fairaudit_orphan_labels", ""),
            core.GaugeMetricFamily("fairaudit_pending_labels", ""),
            core.GaugeMetricFamily("fairaudit_window_start_seconds", ""),
        ]

    def collect(self) -> Iterator[Any]:
        """Yield the metric families of the current window (cached until the store changes)."""
        mon = self.monitor
        counters = mon.counters
        ids = mon._window_ids()
        key = (counters["revision"], ids[-1] if ids else -1)
        with self._lock:
            if key != self._cache_key:
                self._cache = list(self._families(ids)) if ids else []
                self._cache_key = key
            cached = list(self._cache)
        yield from cached
        yield from self._counter_families(counters)

    def _counter_families(self, counters: dict[str, int]) -> Iterator[Any]:
        core = _metrics_module()
        for name, doc in (
            ("rows_received", "Predictions received by the monitor's store."),
            ("labels_received", "Late labels received."),
            ("labels_matched", "Labels joined to a stored prediction."),
        ):
            fam = core.CounterMetricFamily(f"fairaudit_{name}", doc)
            fam.add_metric([], float(counters[name]))
            yield fam
        for name, doc in (
            ("orphan_labels", "Labels whose id matches no stored prediction."),
            ("pending_labels", "Predictions with an id still waiting for their label."),
        ):
            fam = core.GaugeMetricFamily(f"fairaudit_{name}", doc)
            fam.add_metric([], float(counters[name]))
            yield fam

    @staticmethod
    def _marginal(
        cells: np.ndarray, keys: list[tuple[str, ...]], j: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Labels (sorted text) of feature j and their (L, 4) cells summed over the others."""
        if not keys:
            return np.empty(0, dtype=object), np.zeros((0, 4))
        column = np.asarray([k[j] for k in keys], dtype=object)
        labels, inverse = np.unique(column, return_inverse=True)
        marg = np.zeros((len(labels), 4))
        np.add.at(marg, inverse.ravel(), cells)
        return labels, marg

    def _families(self, ids: list[int]) -> Iterator[Any]:
        core = _metrics_module()
        mon = self.monitor
        wid = ids[-1]
        cells6, keys, atoms = mon._snapshot([wid])
        previous = self._comparison(ids)
        value = core.GaugeMetricFamily(
            "fairaudit_group_metric",
            "A group metric in the current window.",
            labels=_GROUP_LABELS,
        )
        lower = core.GaugeMetricFamily(
            "fairaudit_group_metric_lower",
            "Lower Wilson bound of fairaudit_group_metric.",
            labels=_GROUP_LABELS,
        )
        upper = core.GaugeMetricFamily(
            "fairaudit_group_metric_upper",
            "Upper Wilson bound of fairaudit_group_metric.",
            labels=_GROUP_LABELS,
        )
        disparity = core.GaugeMetricFamily(
            "fairaudit_disparity",
            "Difference (max - min) or ratio (min / max) of a metric over groups.",
            labels=["metric", "sensitive_feature", "kind"],
        )
        drift_labels: list[list[str]] = []
        drift_p: list[np.ndarray] = []
        for m in mon.metrics:
            if m == "balanced_accuracy" or is_score_metric(m):
                continue  # not a single proportion: no Wilson interval, no test
            rows = mon._rows_for(None, (m,))
            cells = mon._select(cells6, rows)
            for j, feature in enumerate(mon.sensitive_features):
                labels, marg = self._marginal(cells, keys, j)
                x, n = rate_parts(marg, m)
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.where(n > 0, x / np.where(n > 0, n, 1), np.nan)
                lo, hi = wilson_interval(x, n, mon.confidence)
                for i, g in enumerate(labels):
                    if n[i] <= 0:
                        continue
                    lab = [m, feature, str(g), "current"]
                    value.add_metric(lab, float(v[i]))
                    lower.add_metric(lab, float(lo[i]))
                    upper.add_metric(lab, float(hi[i]))
                finite = v[np.isfinite(v)]
                if finite.size >= 2:
                    disparity.add_metric(
                        [m, feature, "difference"], float(finite.max() - finite.min())
                    )
                    if finite.max() > 0:
                        disparity.add_metric(
                            [m, feature, "ratio"], float(finite.min() / finite.max())
                        )
                if previous is not None:
                    # the tests of fairaudit.metrics.drift, on the same marginal counts
                    prev_labels, prev_marg = self._marginal(
                        mon._select(previous[0], rows), previous[1], j
                    )
                    union = np.union1d(labels, prev_labels)
                    cur_al = np.zeros((len(union), 4))
                    prev_al = np.zeros((len(union), 4))
                    cur_al[np.searchsorted(union, labels)] = marg
                    prev_al[np.searchsorted(union, prev_labels)] = prev_marg
                    xa, na = rate_parts(prev_al, m)
                    xb, nb = rate_parts(cur_al, m)
                    drift_p.append(_proportion_tests(xa, na, xb, nb)[1])
                    drift_labels += [[m, feature, str(g)] for g in union]
        add_score_gauges(mon, atoms, keys, previous, value, disparity, drift_labels, drift_p)
        start = core.GaugeMetricFamily(
            "fairaudit_window_start_seconds",
            "Start of the current window (Unix seconds; the window number for row windows).",
        )
        start.add_metric([], float(wid))
        yield from (value, lower, upper, disparity, start)
        if mon.policy is not None:
            yield self._policy_family(cells6, keys, atoms)
        if self.drift_against is not None:
            yield from self._drift_families(drift_labels, drift_p)

    def _comparison(
        self, ids: list[int]
    ) -> tuple[np.ndarray, list[tuple[str, ...]], RawAtoms] | None:
        """Cells, keys and atoms of the window the drift p-values compare with (or None)."""
        mon = self.monitor
        if self.drift_against is None:
            return None
        if self.drift_against == "previous":
            ref = ids[-2:-1]
        else:
            try:
                ref = mon._reference_ids(ids)
            except (TypeError, ValueError):  # a reference the windows cannot place
                return None
        if not ref:
            return None
        return mon._snapshot(ref)

    def _policy_family(
        self, cells6: np.ndarray, keys: list[tuple[str, ...]], atoms: RawAtoms
    ) -> Any:
        core = _metrics_module()
        mon = self.monitor
        fam = core.GaugeMetricFamily(
            "fairaudit_policy_check",
            "1 when the policy rule passes on the current window.",
            labels=["rule"],
        )
        scored = atoms.has_labelled()
        names = tuple(m for m in mon._names(None, scored) if scored or not is_score_metric(m))
        which = mon._rows_for(None, names)
        cells = mon._select(cells6, which)
        if cells.sum() == 0:
            return fam
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = table_group_metrics(
                cells_to_table(
                    cells, keys, mon.sensitive_features, pos_label=mon.pos_label, atoms=atoms
                ),
                metrics=names,
                pos_label=mon.pos_label,
                confidence=mon.confidence,
                n_boot=0,
                random_state=None,
                min_group_size=mon.min_group_size,
            )
            outcome = mon.policy.check(gm)
        for result in outcome.results:
            fam.add_metric([result.name], 1.0 if result.passed else 0.0)
        return fam

    def _drift_families(self, names: list[list[str]], p_values: list[np.ndarray]) -> Iterator[Any]:
        core = _metrics_module()
        labels = ["metric", "sensitive_feature", "group", "against"]
        raw = core.GaugeMetricFamily(
            "fairaudit_drift_p_value",
            "p-value of the test that a group's metric is unchanged against the comparison.",
            labels=labels,
        )
        adjusted = core.GaugeMetricFamily(
            "fairaudit_drift_p_value_adjusted",
            "Benjamini-Hochberg adjusted fairaudit_drift_p_value.",
            labels=labels,
        )
        against = str(self.drift_against)
        if p_values:
            p_raw = np.concatenate(p_values)
            p_adj = benjamini_hochberg(p_raw)
            for i, name in enumerate(names):
                if np.isfinite(p_raw[i]):
                    raw.add_metric([*name, against], float(p_raw[i]))
                    adjusted.add_metric([*name, against], float(p_adj[i]))
        yield raw
        yield adjusted


def serve(
    monitor: FairnessMonitor,
    *,
    port: int = 9464,
    addr: str = "127.0.0.1",
    drift_against: str | None = "previous",
) -> Any:
    """Serve the monitor's gauges on ``http://addr:port/metrics`` from a background thread.

    Parameters
    ----------
    monitor : FairnessMonitor
        The monitor to export.
    port : int, default 9464
        TCP port (0 picks a free one).
    addr : str, default "127.0.0.1"
        Address to bind; ``"0.0.0.0"`` to accept scrapes from other hosts.
    drift_against : {"previous", "reference"} or None, default "previous"
        As in :meth:`FairnessMonitor.collector`.

    Returns
    -------
    http.server.HTTPServer
        Call ``shutdown()`` (then ``server_close()``) to stop it; ``server_address[1]`` is the
        port.

    Examples
    --------
    >>> import tempfile, os, urllib.request
    >>> from fairaudit.monitor import FairnessMonitor, serve
    >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
    ...                       sensitive_features=["g"], min_group_size=1)
    >>> _ = mon.update([1, 0], {"g": ["a", "b"]})
    >>> server = serve(mon, port=0)
    >>> url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    >>> "fairaudit_rows_received_total 2.0" in urllib.request.urlopen(url).read().decode()
    True
    >>> server.shutdown(); server.server_close(); mon.close()
    """
    prom = import_optional("prometheus_client", purpose="fairaudit monitor serve")
    registry = prom.CollectorRegistry(auto_describe=True)
    registry.register(monitor.collector(drift_against=drift_against))  # type: ignore[arg-type]
    server, _thread = prom.start_http_server(port, addr=addr, registry=registry)
    return server
