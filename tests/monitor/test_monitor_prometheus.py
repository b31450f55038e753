"""The Prometheus collector, the exporter, and a real Prometheus server scraping it."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.monitor import FairnessMonitor, serve

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

T0 = pd.Timestamp("2026-02-01T00:00:00Z")
ODD = 'say "hi"\\ back\nslash'  # a group name with quotes, a backslash and a newline


def _scrape(mon: FairnessMonitor, **kw) -> dict[str, list]:
    registry = prometheus_client.CollectorRegistry()
    registry.register(mon.collector(**kw))
    text = prometheus_client.generate_latest(registry).decode()
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def _value(samples, **labels):
    found = [v for lab, v in samples if all(lab.get(k) == val for k, val in labels.items())]
    assert len(found) == 1, (labels, samples)
    return found[0]


def test_collector_exports_the_current_window_with_wilson_bounds(tmp_path, rng):
    n = 3000
    sex = rng.choice(["F", "M", ODD], size=n)
    pred = (rng.random(n) < np.where(sex == "F", 0.3, 0.5)).astype(int)
    y = rng.integers(0, 2, size=n)
    with FairnessMonitor(
        tmp_path / "s.db",
        sensitive_features=["sex"],
        metrics=["selection_rate", "true_positive_rate"],
    ) as mon:
        mon.update(pred[:1000], {"sex": sex[:1000]}, timestamps=T0)
        mon.update(
            pred[1000:],
            {"sex": sex[1000:]},
            y_true=y[1000:],
            timestamps=T0 + pd.Timedelta(hours=1),
            ids=[str(i) for i in range(2000)],
        )
        mon.update_labels(["nope"], [1])
        got = _scrape(mon)
        current = mon.current(rows="all", metrics=["selection_rate"])
        labelled = mon.current(metrics=["true_positive_rate"])
    for metric, gm in (("selection_rate", current), ("true_positive_rate", labelled)):
        for group in ("F", "M", ODD):  # the odd name round-trips through the escaping
            labels = {
                "metric": metric,
                "sensitive_feature": "sex",
                "group": group,
                "window": "current",
            }
            assert _value(got["fairaudit_group_metric"], **labels) == pytest.approx(
                gm.by_group.loc[group, metric]
            )
            assert _value(got["fairaudit_group_metric_lower"], **labels) == pytest.approx(
                gm.ci.loc[group, (metric, "lower")]
            )
            assert _value(got["fairaudit_group_metric_upper"], **labels) == pytest.approx(
                gm.ci.loc[group, (metric, "upper")]
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            diff = float(gm.difference()[metric])
            ratio = float(gm.ratio()[metric])
        assert _value(got["fairaudit_disparity"], metric=metric, kind="difference") == (
            pytest.approx(diff)
        )
        assert _value(got["fairaudit_disparity"], metric=metric, kind="ratio") == (
            pytest.approx(ratio)
        )
    assert got["fairaudit_rows_received_total"][0][1] == 3000
    assert got["fairaudit_labels_received_total"][0][1] == 1
    assert got["fairaudit_orphan_labels"][0][1] == 1
    assert got["fairaudit_window_start_seconds"][0][1] == (T0 + pd.Timedelta(hours=1)).timestamp()
    # drift of the current window against the previous one, as monitor.drift computes it
    with FairnessMonitor(tmp_path / "s.db", metrics=["selection_rate"]) as mon:
        d = mon.drift(against="previous", n_boot=0).groups.set_index("group")
    for group in ("F", "M", ODD):
        assert _value(
            got["fairaudit_drift_p_value"], metric="selection_rate", group=group
        ) == pytest.approx(d.loc[group, "p_value"])


def test_policy_check_gauge(tmp_path):
    policy = fa.Policy.from_yaml_text(
        "version: 1\nrules:\n"
        "  - {id: four-fifths, metric: selection_rate, min: 0.8}\n"
        "  - {id: loose, metric: selection_rate, compare: difference, max: 0.9}\n"
    )
    with FairnessMonitor(
        tmp_path / "s.db", sensitive_features=["g"], policy=policy, min_group_size=1
    ) as mon:
        mon.update([1, 1, 1, 0] * 10 + [1, 0, 0, 0] * 10, {"g": ["a"] * 40 + ["b"] * 40})
        got = _scrape(mon)
    assert _value(got["fairaudit_policy_check"], rule="four-fifths [g]") == 0.0
    assert _value(got["fairaudit_policy_check"], rule="loose [g]") == 1.0


def test_scrape_is_cached_until_the_store_changes(tmp_path):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1) as mon:
        mon.update([1, 0], {"g": ["a", "b"]}, timestamps=T0)
        collector = mon.collector()
        first = list(collector.collect())
        again = list(collector.collect())
        assert first[0] is again[0]  # same family objects: nothing recomputed
        # another process (here: another connection) writes: the next scrape sees it
        with FairnessMonitor(tmp_path / "s.db") as other:
            other.update([1, 1], {"g": ["a", "b"]}, timestamps=T0)
        fresh = list(collector.collect())
        assert fresh[0] is not first[0]
        values = {s.labels["group"]: s.value for s in fresh[0].samples}
        assert values == {"a": 1.0, "b": 0.5}


def test_exporter_serves_http(tmp_path):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1) as mon:
        mon.update([1, 0], {"g": ["a", "b"]})
        server = serve(mon, port=0)
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
            text = urllib.request.urlopen(url, timeout=10).read().decode()
        finally:
            server.shutdown()
            server.server_close()
    assert "fairaudit_rows_received_total 2.0" in text


def _busy_monitor(path, rng, policy=None) -> FairnessMonitor:
    """Two windows, two sensitive features (one with the odd name), labels, an orphan."""
    n = 4000
    sex = rng.choice(["F", "M", ODD], size=n)
    age = rng.choice(["<30", "30-60", ">60"], size=n)
    pred = (rng.random(n) < np.where(sex == "F", 0.3, 0.5)).astype(int)
    y = rng.integers(0, 2, size=n)
    mon = FairnessMonitor(
        path,
        sensitive_features=["sex", "age"],
        metrics=["selection_rate", "true_positive_rate", "false_positive_rate"],
        policy=policy,
    )
    half = n // 2
    mon.update(pred[:half], {"sex": sex[:half], "age": age[:half]}, y_true=y[:half], timestamps=T0)
    mon.update(
        pred[half:],
        {"sex": sex[half:], "age": age[half:]},
        y_true=y[half:],
        timestamps=T0 + pd.Timedelta(hours=1),
    )
    mon.update_labels(["nope"], [1])
    return mon


def test_exposition_is_what_prometheus_client_writes_byte_for_byte(tmp_path, rng):
    policy = fa.Policy.from_yaml_text(
        "version: 1\nrules:\n  - {id: four-fifths, metric: selection_rate, min: 0.8}\n"
    )
    with _busy_monitor(tmp_path / "s.db", rng, policy=policy) as mon:
        for against in ("previous", "reference", None):
            collector = mon.collector(drift_against=against)
            registry = prometheus_client.CollectorRegistry()
            registry.register(mon.collector(drift_against=against))
            text = collector.exposition()
            assert text == prometheus_client.generate_latest(registry)
            assert gzip.decompress(collector.exposition(compress=True)) == text
        names = {f.name for f in text_string_to_metric_families(text.decode())}
    assert {"fairaudit_policy_check", "fairaudit_group_metric", "fairaudit_rows_received"} <= names


def test_exposition_is_cached_until_the_store_changes(tmp_path):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1) as mon:
        mon.update([1, 0], {"g": ["a", "b"]}, timestamps=T0)
        collector = mon.collector()
        first = collector.exposition()
        assert collector.exposition() is first  # nothing recomputed
        with FairnessMonitor(tmp_path / "s.db") as other:  # another writer
            other.update([1, 1], {"g": ["a", "b"]}, timestamps=T0)
        fresh = collector.exposition().decode()
    assert 'group="b",metric="selection_rate",sensitive_feature="g",window="current"} 0.5' in fresh
    assert "fairaudit_rows_received_total 4.0" in fresh


def test_go_float_matches_prometheus_client():
    from prometheus_client.utils import floatToGoString

    from fairaudit.monitor._prometheus import _go_float, _values_text

    values = [0.0, -0.0, 0.1, 1 / 3, 1.0, 2.5e-300, 123456.0, 1234567.0, 1e6, 1e21, 5e-324]
    values += [float("nan"), float("inf"), float("-inf"), -1234567.0, 999999.9999999999]
    assert [_go_float(v) for v in values] == [floatToGoString(v) for v in values]
    assert _values_text(values) == [floatToGoString(v) for v in values]


def test_exporter_speaks_gzip_and_refuses_other_paths(tmp_path):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1) as mon:
        mon.update([1, 0], {"g": ["a", "b"]})
        server = serve(mon, port=0)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            request = urllib.request.Request(f"{base}/metrics", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.headers["Content-Encoding"] == "gzip"
                assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                body = gzip.decompress(response.read())
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(f"{base}/nothing", timeout=10)
            assert info.value.code == 404
            info.value.close()
        finally:
            server.shutdown()
            server.server_close()
        assert body == mon.collector().exposition()


def test_exporter_answers_500_when_the_store_cannot_be_read(tmp_path, caplog):
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1)
    mon.update([1, 0], {"g": ["a", "b"]})
    server = serve(mon, port=0)
    try:
        mon.close()  # the exporter's monitor can no longer read its store
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/metrics")
        assert info.value.code == 500
        assert info.value.reason == "fairaudit could not read the store"
        assert b"closed database" in info.value.read()  # the error, in the body
        info.value.close()
    finally:
        server.shutdown()
        server.server_close()
    assert "the scrape failed" in caplog.text


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_background_exporter_serves_the_last_published_text_and_catches_up(tmp_path):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1) as mon:
        mon.update([1, 0], {"g": ["a", "b"]}, timestamps=T0)
        server = serve(mon, port=0, refresh_interval=0.05)
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        try:
            assert "fairaudit_rows_received_total 2.0" in _get(url)
            mon.update([1, 1], {"g": ["a", "b"]}, timestamps=T0)
            deadline = time.monotonic() + 30
            while "fairaudit_rows_received_total 4.0" not in (text := _get(url)):
                assert time.monotonic() < deadline, text
                time.sleep(0.05)
            assert text.encode() == mon.collector().exposition()  # the published text is whole
        finally:
            server.shutdown()
            server.server_close()
        assert not server.refresher.is_alive()


def test_exporter_without_background_refresh_computes_on_each_changed_scrape(tmp_path):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"], min_group_size=1) as mon:
        mon.update([1, 0], {"g": ["a", "b"]}, timestamps=T0)
        server = serve(mon, port=0, refresh_interval=None)
        url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
        try:
            assert "fairaudit_rows_received_total 2.0" in _get(url)
            mon.update([1, 1], {"g": ["a", "b"]}, timestamps=T0)
            assert "fairaudit_rows_received_total 4.0" in _get(url)  # at once
        finally:
            server.shutdown()
            server.server_close()
        assert server.refresher is None


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (-1.0, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (True, TypeError),
        ("1", TypeError),
    ],
)
def test_serve_refuses_a_bad_refresh_interval(tmp_path, bad, error):
    mon = FairnessMonitor(tmp_path / "s.db", sensitive_features=["g"])
    try:
        with pytest.raises(error, match="refresh_interval must be a number of seconds"):
            serve(mon, port=0, refresh_interval=bad)
    finally:
        mon.close()


# -- a real Prometheus server ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read().decode())


@pytest.fixture
def prometheus(tmp_path):
    """Start Debian's prometheus on a free loopback port; yields (start(target), base URL)."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    procs: list[subprocess.Popen] = []
    logs: list = []

    def start(target_port: int) -> str:
        port = _free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: fairaudit\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{target_port}']\n"
        )
        log = (tmp_path / "prometheus.log").open("w")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/-/ready", timeout=2).read()
                return base
            except OSError:
                if procs[-1].poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "prometheus did not start: " + (tmp_path / "prometheus.log").read_text()
                    ) from None
                time.sleep(0.2)

    try:
        yield start
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def _query_until(base: str, query: str, expected: dict, timeout: float = 60) -> dict:
    """Poll Prometheus's HTTP API until the query returns the expected value per group."""
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        payload = _get_json(url)
        last = {
            r["metric"].get("group", ""): float(r["value"][1]) for r in payload["data"]["result"]
        }
        if last.keys() == expected.keys() and all(
            abs(last[k] - v) < 1e-9 for k, v in expected.items()
        ):
            return last
        time.sleep(0.5)
    raise AssertionError(f"{query}: Prometheus returned {last}, expected {expected}")


@pytest.mark.slow
def test_a_real_prometheus_scrapes_the_exporter(tmp_path, prometheus):
    with FairnessMonitor(tmp_path / "s.db", sensitive_features=["sex"], min_group_size=1) as mon:
        mon.update([1, 1, 1, 0, 1, 0, 0, 0], {"sex": ["F"] * 4 + [ODD] * 4}, timestamps=T0)
        server = serve(mon, port=0)
        try:
            base = prometheus(server.server_address[1])
            query = 'fairaudit_group_metric{metric="selection_rate",window="current"}'
            _query_until(base, query, {"F": 0.75, ODD: 0.25})
            _query_until(base, "fairaudit_rows_received_total", {"": 8.0})
            # a new window: Prometheus's next scrapes carry the new values
            mon.update(
                [1, 1, 0, 0], {"sex": ["F", ODD, ODD, ODD]}, timestamps=T0 + pd.Timedelta(hours=1)
            )
            _query_until(base, query, {"F": 1.0, ODD: 1 / 3})
            _query_until(base, 'fairaudit_disparity{kind="difference"}', {"": 2 / 3})
            _query_until(base, "fairaudit_rows_received_total", {"": 12.0})
        finally:
            server.shutdown()
            server.server_close()
