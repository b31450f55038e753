"""Record every prediction a served model makes into a FairnessMonitor: one line for FastAPI.

::

    recorder = record_predictions(app, monitor, path="/predict")

adds an ASGI middleware to a FastAPI (or any Starlette) app. For each successful ``POST`` to
``path`` it reads the JSON request and response, takes the sensitive features from the
request's records and the decisions from the response, and adds them to the monitor, so
that Prometheus (``monitor.collector()``) sees the served model's group metrics as it sees
its latency. The defaults read KServe v1 / TF Serving bodies: ``{"instances": [record, ...]}``
in, ``{"predictions": [label or {"label": ..., "score": ...}, ...]}`` out (the score, when
every prediction of a response has one, is recorded as ``y_score``); ``extract`` handles any
other shape.

By default rows are buffered and written by a background thread every ``flush_interval``
seconds (one durable transaction per flush, off the request path); ``flush_interval=0``
writes each request's rows before its response is sent (the response then acknowledges a
durable record, at the cost of a synchronous disk write per request). Call
``recorder.close()`` when the app stops (e.g. in its lifespan) to write what is buffered.
Nothing here imports FastAPI: the middleware is plain ASGI.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fairaudit.monitor._monitor import FairnessMonitor

__all__ = ["Extract", "PredictionRecorder", "record_predictions"]

logger = logging.getLogger(__name__)

Extract = Callable[[Any, Any], tuple[Any, ...]]
"""``extract(request_json, response_json)`` -> ``(labels, {feature: values}, ids or None)``,
or the same with a fourth item, the scores (or None)."""

_Rows = tuple[list[Any], dict[str, list[Any]], list[Any] | None, list[Any] | None]


class PredictionRecorder:
    """Turns served request/response pairs into monitor updates (see the module docstring).

    Build it with :func:`record_predictions`.

    Attributes
    ----------
    stats : dict
        ``requests`` recorded, ``rows`` recorded, ``skipped`` (bodies that could not be read:
        logged, never raised into the request), ``flushes`` (updates written).
    """

    def __init__(
        self,
        monitor: FairnessMonitor,
        *,
        path: str,
        label_key: str,
        id_key: str | None,
        extract: Extract | None,
        flush_interval: float,
        score_key: str | None = "score",
    ) -> None:
        self.monitor = monitor
        self.path = path
        self.label_key = label_key
        self.score_key = score_key
        self.id_key = id_key
        self.extract = extract if extract is not None else self._default_extract
        self.flush_interval = float(flush_interval)
        self.stats = {"requests": 0, "rows": 0, "skipped": 0, "flushes": 0}
        self._lock = threading.Lock()
        self._buffer: list[tuple[_Rows, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.flush_interval > 0:
            self._thread = threading.Thread(
                target=self._run, name="fairaudit-recorder", daemon=True
            )
            self._thread.start()

    def _default_extract(self, request: Any, response: Any) -> _Rows:
        records = request["instances"] if isinstance(request, dict) else request
        predictions = response["predictions"] if isinstance(response, dict) else response
        if not isinstance(records, list) or not isinstance(predictions, list):
            raise TypeError("expected a list of records and a list of predictions")
        if len(records) != len(predictions):
            raise ValueError(f"{len(records)} records but {len(predictions)} predictions")
        labels = [p[self.label_key] if isinstance(p, dict) else p for p in predictions]
        features = {c: [r[c] for r in records] for c in self.monitor.sensitive_features}
        ids = None if self.id_key is None else [r[self.id_key] for r in records]
        key = self.score_key
        scores = None
        if key is not None and all(isinstance(p, dict) and key in p for p in predictions):
            scores = [p[key] for p in predictions]
        return labels, features, ids, scores

    def record(self, request_body: bytes, response_body: bytes) -> None:
        """Record one request's predictions (buffered, or written now when not buffering)."""
        try:
            out = tuple(
                self.extract(
                    json.loads(request_body or b"null"), json.loads(response_body or b"null")
                )
            )
            if len(out) not in (3, 4):
                raise TypeError(f"extract returned {len(out)} items, not 3 or 4")
            labels, features, ids = out[:3]
            scores = out[3] if len(out) == 4 else None
        except (ValueError, TypeError, KeyError) as exc:
            with self._lock:
                self.stats["skipped"] += 1
            logger.warning("fairaudit: could not read a served prediction (%s); skipped", exc)
            return
        if not labels:
            return
        now = time.time()
        if self.flush_interval <= 0:
            self.monitor.update(labels, features, ids=ids, y_score=scores, timestamps=now)
            with self._lock:
                self.stats["flushes"] += 1
        else:
            with self._lock:
                self._buffer.append(((labels, features, ids, scores), now))
        with self._lock:
            self.stats["requests"] += 1
            self.stats["rows"] += len(labels)

    def flush(self) -> int:
        """Write the buffered rows as one update; returns the number of rows written."""
        with self._lock:
            buffer, self._buffer = self._buffer, []
        # responses with scores and without them (if a model gives both) are two updates
        written = 0
        for scored in (True, False):
            part = [b for b in buffer if (b[0][3] is not None) == scored]
            if part:
                written += self._write(part, scored)
        return written

    def _write(self, buffer: list[tuple[_Rows, float]], scored: bool) -> int:
        labels = [v for b, _ in buffer for v in b[0]]
        features = {
            c: [v for b, _ in buffer for v in b[1][c]] for c in self.monitor.sensitive_features
        }
        ids = None
        if all(b[2] is not None for b, _ in buffer):
            ids = [v for b, _ in buffer for v in (b[2] or [])]
        scores = [v for b, _ in buffer for v in (b[3] or [])] if scored else None
        stamps = np.concatenate([np.full(len(b[0]), t) for b, t in buffer])
        try:
            self.monitor.update(labels, features, ids=ids, y_score=scores, timestamps=stamps)
        except Exception:  # a bad batch must not kill the flusher; it is logged
            logger.exception("fairaudit: could not record %d served predictions", len(labels))
            with self._lock:
                self.stats["skipped"] += len(buffer)
            return 0
        with self._lock:
            self.stats["flushes"] += 1
        return len(labels)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    def close(self) -> None:
        """Stop the background writer and write what is buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()


class _RecordingMiddleware:
    """Plain ASGI middleware: copies the body of requests to one path and their responses."""

    def __init__(self, app: Any, recorder: PredictionRecorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or scope.get("path") != self.recorder.path
        ):
            await self.app(scope, receive, send)
            return
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        status = [0]

        async def receive_copy() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                request_chunks.append(message.get("body", b""))
            return message

        async def send_copy(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            elif message["type"] == "http.response.body" and 200 <= status[0] < 300:
                response_chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    import anyio.to_thread

                    await anyio.to_thread.run_sync(
                        self.recorder.record, b"".join(request_chunks), b"".join(response_chunks)
                    )
            await send(message)

        await self.app(scope, receive_copy, send_copy)


def record_predictions(
    app: Any,
    monitor: FairnessMonitor,
    *,
    path: str = "/predict",
    label_key: str = "label",
    id_key: str | None = None,
    extract: Extract | None = None,
    flush_interval: float = 1.0,
    score_key: str | None = "score",
) -> PredictionRecorder:
    """Record each prediction served on ``path`` into ``monitor`` (adds an ASGI middleware).

    Parameters
    ----------
    app : FastAPI or Starlette app
        Anything with ``add_middleware`` (call before the app starts serving).
    monitor : FairnessMonitor
        Where the predictions go; its sensitive features are read from each request record.
    path : str, default "/predict"
        The route whose ``POST`` requests are recorded (responses with a 2xx status only).
    label_key : str, default "label"
        Key of the decision when each prediction is an object (``{"label": 1, "score": .9}``).
    id_key : str, optional
        Key of an id in each request record, so that late labels can be joined.
    extract : callable, optional
        ``extract(request_json, response_json) -> (labels, {feature: values}, ids or None)``
        for other body shapes, optionally with the scores (or None) as a fourth item.
    flush_interval : float, default 1.0
        Seconds between background writes; 0 writes each request before its response.
    score_key : str or None, default "score"
        Key of the model's score (probability of the positive label) in each prediction
        object; recorded as ``y_score`` when every prediction of a response has it (set the
        monitor's ``score_decimals`` so that raw floats do not make one atom per request).
        ``None`` records no scores.

    Returns
    -------
    PredictionRecorder
        Call its ``close()`` when the app shuts down; ``stats`` counts what was recorded.

    Examples
    --------
    >>> import asyncio, tempfile, os
    >>> import httpx
    >>> from fastapi import FastAPI
    >>> from fairaudit.monitor import FairnessMonitor
    >>> from fairaudit.monitor.fastapi import record_predictions
    >>> app = FastAPI()
    >>> @app.post("/predict")
    ... def predict(body: dict) -> dict:
    ...     return {"predictions": [int(r["age"] > 40) for r in body["instances"]]}
    >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
    ...                       sensitive_features=["sex"], min_group_size=1)
    >>> recorder = record_predictions(app, mon)  # the one line
    >>> async def serve_one_request():
    ...     transport = httpx.ASGITransport(app=app)
    ...     async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
    ...         await client.post("/predict", json={"instances": [{"age": 50, "sex": "F"},
    ...                                                           {"age": 30, "sex": "M"}]})
    >>> asyncio.run(serve_one_request())
    >>> recorder.close()  # writes what is buffered
    >>> mon.current().by_group["selection_rate"].tolist()
    [1.0, 0.0]
    >>> mon.close()
    """
    if not hasattr(app, "add_middleware"):
        raise TypeError(f"app must be a FastAPI or Starlette app, got {type(app).__name__}.")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"path must be a route such as '/predict', got {path!r}.")
    if flush_interval < 0:
        raise ValueError(f"flush_interval must be >= 0 seconds, got {flush_interval!r}.")
    recorder = PredictionRecorder(
        monitor,
        path=path,
        label_key=label_key,
        id_key=id_key,
        extract=extract,
        flush_interval=flush_interval,
        score_key=score_key,
    )
    app.add_middleware(_RecordingMiddleware, recorder=recorder)
    return recorder
