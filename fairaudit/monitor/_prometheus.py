"""Prometheus export of a FairnessMonitor: a custom collector and a small HTTP exporter.

Exported families (labels in braces; all gauges unless said otherwise):

- ``fairaudit_group_metric{metric, sensitive_feature, group, window}`` with
  ``fairaudit_group_metric_lower`` / ``_upper`` (Wilson interval at the monitor's confidence):
  each metric per group of each sensitive feature in the newest window (``window="current"``);
  score metrics (when the window holds labelled scores) have normal-approximation bounds
  (DeLong's variance for ``roc_auc``, the standard error for ``brier_score``; NaN for
  ``calibration_error``).
- ``fairaudit_disparity{metric, sensitive_feature, kind}``: ``kind`` is ``difference``
  (max - min over groups) or ``ratio`` (min / max).
- ``fairaudit_policy_check{rule}``: 1 when the rule passes on the current window, 0 otherwise.
- ``fairaudit_drift_p_value{metric, sensitive_feature, group, against}`` and
  ``fairaudit_drift_p_value_adjusted{...}`` (Benjamini-Hochberg) of the current window against
  the previous one (or the reference).
- counters ``fairaudit_rows_received_total``, ``fairaudit_labels_received_total``,
  ``fairaudit_labels_matched_total``; gauges ``fairaudit_orphan_labels``,
  ``fairaudit_pending_labels``, ``fairaudit_window_start_seconds``.

Label values are the groups' text, escaped as the exposition format requires (quotes,
backslashes and newlines). A scrape re-reads the store only when it changed (its revision), so
any process writing the store is seen by the exporter.

How a scrape stays fast: the families are computed once per store revision into plain arrays
(:class:`_Family`), from which both outputs are made and cached: the ``prometheus_client``
families of :meth:`FairnessCollector.collect` (for a caller's registry), and the text of
:meth:`FairnessCollector.exposition`, which :func:`serve` sends as it is. The text is what
``prometheus_client.generate_latest`` writes for the same families, byte for byte (a test
checks it), without its per-sample validation, which costs more than computing the metrics.
"""

from __future__ import annotations

import gzip
import http.server
import logging
import math
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
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

_GROUP_LABELS = ("metric", "sensitive_feature", "group", "window")
_DRIFT_LABELS = ("metric", "sensitive_feature", "group", "against")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_log = logging.getLogger("fairaudit.monitor")


def _metrics_module() -> Any:
    return import_optional("prometheus_client.core", purpose="the Prometheus collector")


@dataclass(frozen=True, eq=False)
class _Family:
    """One metric family as plain data: its samples' label values and values."""

    name: str
    kind: str  # "gauge" or "counter"
    doc: str
    label_names: tuple[str, ...]
    labels: list[tuple[str, ...]]
    values: list[float]


def _go_float(value: float) -> str:
    """Write a sample value as the Prometheus text format (and ``prometheus_client``) does."""
    if value != value:
        return "NaN"
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    text = repr(value)
    dot = text.find(".")
    if value > 0 and dot > 6:  # Go switches to exponents sooner than Python
        mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
        return f"{mantissa}e+{dot - 1:02d}"
    return text


def _escape(value: str) -> str:
    """Escape a label value for the text format: backslash, newline and double quote."""
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


class _Escaped(dict[str, str]):
    """Memo of escaped label values (a group's name is escaped once per rendering)."""

    def __missing__(self, value: str) -> str:
        self[value] = text = _escape(value)
        return text


def _values_text(values: list[float]) -> list[str]:
    """Sample values as text: ``repr`` where it is what Go writes, else :func:`_go_float`."""
    return [repr(v) if -math.inf < v < 1e6 else _go_float(v) for v in values]


def render(families: list[_Family]) -> str:
    """Write ``families`` in the text exposition format (version 0.0.4).

    Label names are written sorted, values as Go formats floats: the bytes
    ``prometheus_client.generate_latest`` writes for the same families. Families that share
    one list of label values (a metric and its bounds) have their label text made once.
    """
    out: list[str] = []
    escaped = _Escaped()
    bodies: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    for fam in families:
        name = f"{fam.name}_total" if fam.kind == "counter" else fam.name
        doc = fam.doc.replace("\\", "\\\\").replace("\n", "\\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {fam.kind}\n")
        values = _values_text(fam.values)
        if not fam.label_names:
            out.extend(f"{name} {v}\n" for v in values)
            continue
        key = (id(fam.labels), fam.label_names)
        body = bodies.get(key)
        if body is None:
            order = sorted(range(len(fam.label_names)), key=fam.label_names.__getitem__)
            template = "{" + ",".join(f'{fam.label_names[i]}="%s"' for i in order) + "} "
            body = bodies[key] = [
                template % tuple([escaped[labels[i]] for i in order]) for labels in fam.labels
            ]
        out.extend([f"{name}{b}{v}\n" for b, v in zip(body, values, strict=True)])
    return "".join(out)


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
        self._key: tuple[int, int] | None = None
        self._families: list[_Family] = []
        self._client: list[Any] | None = None  # prometheus_client families, made on demand
        self._text: bytes | None = None
        self._gzip: bytes | None = None
        # what a background-refreshed exporter serves: (text, gzip) of the last computation
        self._published: tuple[bytes, bytes] | None = None

    def describe(self) -> list[Any]:
        """Families without samples (so that registering does not read the store)."""
        core = _metrics_module()
        gauges = [
            "fairaudit_group_metric",
            "fairaudit_group_metric_lower",
            "fairaudit_group_metric_upper",
            "fairaudit_disparity",
            "fairaudit_policy_check",
            "fairaudit_drift_p_value",
            "fairaudit_drift_p_value_adjusted",
            "fairaudit_orphan_labels",
            "fairaudit_pending_labels",
            "fairaudit_window_start_seconds",
        ]
        counters = [
            "fairaudit_rows_received",
            "fairaudit_labels_received",
            "fairaudit_labels_matched",
        ]
        return [core.GaugeMetricFamily(n, "") for n in gauges] + [
            core.CounterMetricFamily(n, "") for n in counters
        ]

    # -- the two outputs -----------------------------------------------------------------------

    def collect(self) -> Iterator[Any]:
        """Yield the metric families of the current window (cached until the store changes)."""
        with self._lock:
            self._refresh()
            if self._client is None:
                self._client = [self._to_client(f) for f in self._families]
            cached = list(self._client)
        yield from cached

    def exposition(self, *, compress: bool = False) -> bytes:
        """Return the families in the Prometheus text format (what a scrape receives).

        Parameters
        ----------
        compress : bool, default False
            Return the text gzip-compressed (for ``Accept-Encoding: gzip``).

        Returns
        -------
        bytes
            UTF-8 text, version 0.0.4 of the format (``CONTENT_TYPE``); cached until the
            store changes, so repeated scrapes cost one read of the store's revision.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], min_group_size=1)
        >>> _ = mon.update([1, 0, 1], {"g": ["a", "a", "b"]})
        >>> text = mon.collector().exposition().decode()
        >>> print([line for line in text.splitlines() if line.startswith("fairaudit_group")][0])
        fairaudit_group_metric{group="a",metric="selection_rate",sensitive_feature="g",window="current"} 0.5
        >>> mon.close()
        """
        with self._lock:
            text, compressed = self._texts(compress)
        return text if compressed is None else compressed

    def _texts(self, compress: bool) -> tuple[bytes, bytes | None]:
        """Return the text of the store as it is now, and its gzip if asked (lock held)."""
        self._refresh()
        if self._text is None:
            self._text = render(self._families).encode("utf-8")
            self._gzip = None
        if compress and self._gzip is None:
            self._gzip = gzip.compress(self._text, compresslevel=1)
        return self._text, self._gzip if compress else None

    def publish(self) -> None:
        """Recompute the text if the store changed, and publish it (with its gzip) for scrapes.

        :func:`serve` calls this from a background thread, so that a scrape only sends the
        last published bytes: its time does not depend on the number of groups or score atoms.
        :meth:`published` has an example.
        """
        with self._lock:  # one read of the store: the text and its gzip always match
            text, compressed = self._texts(compress=True)
        assert compressed is not None
        self._published = (text, compressed)

    def published(self, *, compress: bool = False) -> bytes:
        """Return the last published text (see :meth:`publish`), published now if none was.

        Reads the store's revision first, so that a store that can no longer be read fails
        the scrape instead of serving old gauges as if they were current.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], min_group_size=1)
        >>> _ = mon.update([1, 0], {"g": ["a", "b"]})
        >>> collector = mon.collector()
        >>> first = collector.published()
        >>> _ = mon.update([1], {"g": ["b"]})
        >>> collector.published() == first  # not yet published again
        True
        >>> collector.publish()
        >>> b"fairaudit_rows_received_total 3.0" in collector.published()
        True
        >>> mon.close()
        """
        self.monitor.revision()
        latest = self._published
        if latest is None:
            self.publish()
            latest = self._published
            assert latest is not None
        return latest[1] if compress else latest[0]

    @staticmethod
    def _to_client(fam: _Family) -> Any:
        core = _metrics_module()
        kind = core.CounterMetricFamily if fam.kind == "counter" else core.GaugeMetricFamily
        if not fam.label_names:
            out = kind(fam.name, fam.doc)
            for v in fam.values:
                out.add_metric([], v)
            return out
        out = kind(fam.name, fam.doc, labels=list(fam.label_names))
        for labels, v in zip(fam.labels, fam.values, strict=True):
            out.add_metric(list(labels), v)
        return out

    def _refresh(self) -> None:
        """Recompute the families when the store changed (the caller holds the lock)."""
        mon = self.monitor
        counters = mon.counters
        ids = mon._window_ids()
        key = (counters["revision"], ids[-1] if ids else -1)
        if key == self._key:
            return
        families = list(self._window_families(ids)) if ids else []
        families += self._counter_families(counters)
        self._families, self._key = families, key
        self._client = self._text = self._gzip = None

    # -- the families --------------------------------------------------------------------------

    @staticmethod
    def _counter_families(counters: dict[str, int]) -> list[_Family]:
        out = [
            _Family(f"fairaudit_{name}", "counter", doc, (), [()], [float(counters[name])])
            for name, doc in (
                ("rows_received", "Predictions received by the monitor's store."),
                ("labels_received", "Late labels received."),
                ("labels_matched", "Labels joined to a stored prediction."),
            )
        ]
        out += [
            _Family(f"fairaudit_{name}", "gauge", doc, (), [()], [float(counters[name])])
            for name, doc in (
                ("orphan_labels", "Labels whose id matches no stored prediction."),
                ("pending_labels", "Predictions with an id still waiting for their label."),
            )
        ]
        return out

    @staticmethod
    def _marginals(
        cells6: np.ndarray, keys: list[tuple[str, ...]], n_features: int
    ) -> list[tuple[list[str], np.ndarray]]:
        """Per sensitive feature: its labels (sorted text) and their (L, 6) summed cells."""
        out: list[tuple[list[str], np.ndarray]] = []
        for j in range(n_features):
            if not keys:
                out.append(([], np.zeros((0, cells6.shape[1]), dtype=cells6.dtype)))
                continue
            column = np.asarray([str(k[j]) for k in keys], dtype=object)
            labels, inverse = np.unique(column, return_inverse=True)
            marg = np.zeros((len(labels), cells6.shape[1]), dtype=cells6.dtype)
            np.add.at(marg, inverse.ravel(), cells6)
            out.append((labels.tolist(), marg))
        return out

    def _window_families(self, ids: list[int]) -> Iterator[_Family]:
        mon = self.monitor
        wid = ids[-1]
        cells6, keys, atoms = mon._snapshot([wid], atoms=mon._reports_scores)
        features = list(mon.sensitive_features)
        current = self._marginals(cells6, keys, len(features))
        comparison = self._comparison(ids)
        previous = (
            None
            if comparison is None
            else self._marginals(comparison[0], comparison[1], len(features))
        )
        names: list[tuple[str, ...]] = []  # one list for the metric and its two bounds
        value = _Family(
            "fairaudit_group_metric",
            "gauge",
            "A group metric in the current window.",
            _GROUP_LABELS,
            names,
            [],
        )
        lower = _Family(
            "fairaudit_group_metric_lower",
            "gauge",
            "Lower Wilson bound of fairaudit_group_metric.",
            _GROUP_LABELS,
            names,
            [],
        )
        upper = _Family(
            "fairaudit_group_metric_upper",
            "gauge",
            "Upper Wilson bound of fairaudit_group_metric.",
            _GROUP_LABELS,
            names,
            [],
        )
        disparity = _Family(
            "fairaudit_disparity",
            "gauge",
            "Difference (max - min) or ratio (min / max) of a metric over groups.",
            ("metric", "sensitive_feature", "kind"),
            [],
            [],
        )
        drift_labels: list[tuple[str, str, str]] = []
        drift_p: list[np.ndarray] = []
        for m in mon.metrics:
            if m == "balanced_accuracy" or is_score_metric(m):
                continue  # not a single proportion: no Wilson interval, no test
            rows = mon._rows_for(None, (m,))
            for j, feature in enumerate(features):
                labels, marg = current[j]
                x, n = rate_parts(mon._select(marg, rows), m)
                shown = n > 0
                v = x[shown] / n[shown]
                lo, hi = wilson_interval(x[shown], n[shown], mon.confidence)
                names += [
                    (m, feature, g, "current") for g, s in zip(labels, shown, strict=True) if s
                ]
                value.values.extend(v.tolist())
                lower.values.extend(lo.tolist())
                upper.values.extend(hi.tolist())
                if v.size >= 2:
                    disparity.labels.append((m, feature, "difference"))
                    disparity.values.append(float(v.max() - v.min()))
                    if v.max() > 0:
                        disparity.labels.append((m, feature, "ratio"))
                        disparity.values.append(float(v.min() / v.max()))
                if previous is not None:
                    # the tests of fairaudit.metrics.drift, on the same marginal counts
                    prev_labels, prev_marg = previous[j]
                    union = sorted(set(labels) | set(prev_labels))
                    where = {g: i for i, g in enumerate(union)}
                    cur_al = np.zeros((len(union), 4))
                    prev_al = np.zeros((len(union), 4))
                    cur_al[[where[g] for g in labels]] = mon._select(marg, rows)
                    prev_al[[where[g] for g in prev_labels]] = mon._select(prev_marg, rows)
                    xa, na = rate_parts(prev_al, m)
                    xb, nb = rate_parts(cur_al, m)
                    drift_p.append(_proportion_tests(xa, na, xb, nb)[1])
                    drift_labels += [(m, feature, g) for g in union]
        add_score_gauges(
            mon,
            atoms,
            keys,
            comparison,
            (names, value, lower, upper, disparity),
            drift_labels,
            drift_p,
        )
        start = _Family(
            "fairaudit_window_start_seconds",
            "gauge",
            "Start of the current window (Unix seconds; the window number for row windows).",
            (),
            [()],
            [float(wid)],
        )
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
        return mon._snapshot(ref, atoms=mon._reports_scores)

    def _policy_family(
        self, cells6: np.ndarray, keys: list[tuple[str, ...]], atoms: RawAtoms
    ) -> _Family:
        mon = self.monitor
        fam = _Family(
            "fairaudit_policy_check",
            "gauge",
            "1 when the policy rule passes on the current window.",
            ("rule",),
            [],
            [],
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
            fam.labels.append((result.name,))
            fam.values.append(1.0 if result.passed else 0.0)
        return fam

    def _drift_families(
        self, names: list[tuple[str, str, str]], p_values: list[np.ndarray]
    ) -> Iterator[_Family]:
        shared: list[tuple[str, ...]] = []
        raw = _Family(
            "fairaudit_drift_p_value",
            "gauge",
            "p-value of the test that a group's metric is unchanged against the comparison.",
            _DRIFT_LABELS,
            shared,
            [],
        )
        adjusted = _Family(
            "fairaudit_drift_p_value_adjusted",
            "gauge",
            "Benjamini-Hochberg adjusted fairaudit_drift_p_value.",
            _DRIFT_LABELS,
            shared,
            [],
        )
        against = str(self.drift_against)
        if p_values:
            p_raw = np.concatenate(p_values)
            p_adj = benjamini_hochberg(p_raw)
            keep = np.isfinite(p_raw)
            labels = [(*name, against) for name, k in zip(names, keep, strict=True) if k]
            raw.labels.extend(labels)  # adjusted shares the list
            raw.values.extend(p_raw[keep].tolist())
            adjusted.values.extend(p_adj[keep].tolist())
        yield raw
        yield adjusted


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /metrics (or /): the collector's exposition, gzip when the scraper accepts it."""

    collector: FairnessCollector  # set on the subclass made by serve()
    background: bool  # True: send the last published text (a thread keeps it fresh)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] not in ("/metrics", "/"):
            self.send_error(404, "fairaudit serves /metrics")
            return
        compress = "gzip" in self.headers.get("Accept-Encoding", "")
        try:
            if self.background:
                body = self.collector.published(compress=compress)
            else:
                body = self.collector.exposition(compress=compress)
        except Exception as exc:  # the scrape fails visibly; the exporter keeps serving
            _log.exception("fairaudit exporter: the scrape failed")
            # the reason phrase is a header line: a fixed text there, the error in the body
            # (one line of it, clipped; http.server escapes it as HTML)
            detail = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
            self.send_error(500, "fairaudit could not read the store", detail)
            return
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE)
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("fairaudit exporter: " + format, *args)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    refresher: threading.Thread | None = None
    stop_refreshing: threading.Event

    def shutdown(self) -> None:
        """Stop serving, and stop the background refresh."""
        self.stop_refreshing.set()
        super().shutdown()
        if self.refresher is not None:
            self.refresher.join()


def _refresh_loop(collector: FairnessCollector, stop: threading.Event, interval: float) -> None:
    """Publish the collector's text now and whenever the store changed, until ``stop``."""
    while True:
        try:
            collector.publish()
        except Exception:  # a store that cannot be read fails the scrapes, which log it
            _log.debug("fairaudit exporter: background refresh failed", exc_info=True)
        if stop.wait(interval):
            return


def serve(
    monitor: FairnessMonitor,
    *,
    port: int = 9464,
    addr: str = "127.0.0.1",
    drift_against: str | None = "previous",
    refresh_interval: float | None = 0.5,
) -> Any:
    """Serve the monitor's gauges on ``http://addr:port/metrics`` from a background thread.

    The exporter needs no ``prometheus_client``. A second thread checks the store every
    ``refresh_interval`` seconds and, when it changed, computes the gauges and their text
    once; a scrape sends the last text computed, so it takes a few milliseconds whatever the
    number of groups and score atoms. A scrape first reads the store's revision: a store
    that can no longer be read answers HTTP 500 rather than old gauges.

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
    refresh_interval : float or None, default 0.5
        Seconds between checks of the store; a scrape may miss writes of the last
        ``refresh_interval`` seconds plus one computation. ``None``: no background thread,
        each scrape checks the store and computes the gauges when it changed.

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
    if refresh_interval is not None:
        if isinstance(refresh_interval, bool) or not isinstance(refresh_interval, int | float):
            raise TypeError(
                f"refresh_interval must be a number of seconds or None, got {refresh_interval!r}."
            )
        if not 0 < refresh_interval < math.inf:
            raise ValueError(
                f"refresh_interval must be a number of seconds > 0, got {refresh_interval!r}."
            )
    collector = monitor.collector(drift_against=drift_against)  # type: ignore[arg-type]
    background = refresh_interval is not None
    handler = type(
        "FairauditHandler", (_Handler,), {"collector": collector, "background": background}
    )
    server = _Server((addr, port), handler)
    server.stop_refreshing = threading.Event()
    if refresh_interval is not None:
        server.refresher = threading.Thread(
            target=_refresh_loop,
            args=(collector, server.stop_refreshing, float(refresh_interval)),
            name="fairaudit-exporter-refresh",
            daemon=True,
        )
        server.refresher.start()
    thread = threading.Thread(target=server.serve_forever, name="fairaudit-exporter", daemon=True)
    thread.start()
    return server
