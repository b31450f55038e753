"""Servers for the endpoint tests: the reference Adult server and a fault-injecting proxy.

The reference server (examples/serve_adult.py) runs in a uvicorn subprocess on 127.0.0.1 and a
free port, serving a model pickled here, so that tests hold the very same fitted object. The
fault server is a stdlib HTTP server in a thread, in front of the reference server: a path
``/<fault>/<route>`` forwards to ``<route>`` upstream, and injects the fault (503 every k-th
request, slow answers past the client's timeout, malformed JSON, wrong item counts, a 401...).
It counts every request it receives.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

import serve_adult  # noqa: E402  (examples/ is not a package)

TRAIN_ROWS = 4000  # the served model is fitted on the first rows of Adult train (fast start)
TEST_ROWS = 1200  # rows of Adult test most tests send


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def adult_model():
    return serve_adult.train_adult_model(random_state=0, n_rows=TRAIN_ROWS)


@pytest.fixture(scope="session")
def adult_test():
    import fairaudit as fa

    ds = fa.datasets.load_adult(split="test")
    X = ds.X.iloc[:TEST_ROWS].reset_index(drop=True)
    y = ds.y.iloc[:TEST_ROWS].reset_index(drop=True)
    return X, y


@pytest.fixture(scope="session")
def adult_server(adult_model, tmp_path_factory):
    """Base URL of the reference server, serving ``adult_model`` (always stopped after)."""
    path = tmp_path_factory.mktemp("served") / "adult.pkl"
    with path.open("wb") as fh:
        pickle.dump(adult_model, fh)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "examples" / "serve_adult.py"),
            "--port",
            str(port),
            "--model",
            str(path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve_adult.py exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve_adult.py did not answer /health within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def server_requests(base: str) -> int:
    return int(httpx.get(f"{base}/stats", timeout=5.0).json()["requests"])


@pytest.fixture(name="server_requests")
def server_requests_fixture():
    """``server_requests(base)``: requests the reference server has answered so far."""
    return server_requests


@pytest.fixture(name="free_port")
def free_port_fixture():
    """A free TCP port on 127.0.0.1 (nothing listens there)."""
    return free_port()


class FaultServer:
    """Counts requests and injects faults in front of an upstream server."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.every = 3  # 503 on every k-th request of /flaky
        self.slow_s = 1.5  # how long /slow sleeps (past the client's timeout)
        self.fail_after = 2  # /interrupt answers 400 after this many requests
        self.seen_headers: list[dict[str, str]] = []
        self.client = httpx.Client(timeout=60.0)

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.seen_headers.clear()

    def count(self, fault: str) -> int:
        with self.lock:
            self.counts[fault] = self.counts.get(fault, 0) + 1
            return self.counts[fault]

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.counts.values())


def _make_handler(state: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def send(
            self,
            status: int,
            body: bytes,
            ctype: str = "application/json",
            extra: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            _, fault, *rest = self.path.split("?")[0].split("/")
            route = "/" + "/".join(rest)
            k = state.count(fault)
            with state.lock:
                state.seen_headers.append(dict(self.headers))
            if fault == "flaky" and k % state.every == 0:
                return self.send(503, b'{"error": "overloaded"}', extra={"Retry-After": "0"})
            if fault == "ratelimit" and k == 1:
                return self.send(429, b'{"error": "slow down"}', extra={"Retry-After": "0.05"})
            if fault == "slow" and k % 2 == 1:
                time.sleep(state.slow_s)
            if fault == "down":
                return self.send(503, b'{"error": "down"}', extra={"Retry-After": "0"})
            if fault == "unauthorized" and self.headers.get("Authorization") != "Bearer good":
                return self.send(401, b'{"detail": "invalid token"}')
            if fault == "badrequest":
                return self.send(422, b'{"detail": "field age: expected an integer"}')
            if fault == "servererror":
                return self.send(500, b"Internal Server Error", "text/plain")
            if fault == "html":
                return self.send(200, b"<html><body>Gateway says hi</body></html>", "text/html")
            if fault == "interrupt" and k > state.fail_after:
                return self.send(400, b'{"error": "quota exhausted"}')
            upstream = state.client.post(
                state.upstream + route,
                content=body,
                headers={"Content-Type": "application/json"},
            )
            if upstream.status_code != 200:
                return self.send(upstream.status_code, upstream.content)
            payload = upstream.json()
            items = payload.get("predictions")
            if fault == "short":
                items.pop()
            elif fault == "long":
                items.append(items[0])
            elif fault == "nan":
                items[1]["score"] = float("nan")
            elif fault == "text":
                items[2]["score"] = "high"
            elif fault == "outside":
                items[0]["score"] = 1.5
            elif fault == "badlabel":
                items[3]["label"] = 7
            elif fault == "missing":
                del items[1]["score"]
            elif fault == "bare":
                payload["predictions"] = [item["score"] for item in items]
            elif fault == "malformed":
                return self.send(200, json.dumps(payload).encode()[:-7])
            self.send(200, json.dumps(payload).encode())

    return Handler


@pytest.fixture(scope="session")
def fault_server(adult_server):
    state = FaultServer(adult_server)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    server.daemon_threads = True
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        state.client.close()
        thread.join(timeout=10)


@pytest.fixture
def faults(fault_server):
    fault_server.reset()
    return fault_server
