"""A model behind an HTTP endpoint: rows in, predictions out, over a serving protocol.

:class:`Endpoint` turns the rows of ``X`` into the body of a serving protocol (KServe v1 /
TF Serving, the MLflow scoring server, Open Inference v2, bare records, or the caller's own
``request``/``response`` callables), sends batches concurrently over one pooled httpx client,
retries what is retryable, validates every response, and puts the answers back in row order.
:func:`fairaudit.wrap` accepts it like any other model, so everything that takes a model
(``audit``, ``orthogonal_importance``, ``flip_test``, ``compare``) takes an endpoint.

httpx is imported only when the first request is sent (the ``endpoint`` extra).

Secrets: ``headers`` are kept in a private attribute and never appear in ``repr``,
:meth:`Endpoint.describe` (what reports and provenance record), log lines or error messages;
the URL is recorded without its query string, and a URL carrying credentials is refused.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import math
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from fairaudit._validation import format_values
from fairaudit.exceptions import DataError, ModelError

__all__ = ["Endpoint"]

logger = logging.getLogger(__name__)

Protocol = Literal["kserve-v1", "mlflow", "open-inference", "records"]

PROTOCOLS: tuple[str, ...] = ("kserve-v1", "mlflow", "open-inference", "records")
RETRY_STATUS = frozenset({429, 502, 503, 504})
_MAX_WAIT_S = 120.0  # longest single pause between two attempts (Retry-After included)
_SQL_CHUNK = 500  # keys per SELECT ... IN (...) (SQLite allows 999 variables)


# --------------------------------------------------------------------------------------------
# rows -> JSON-ready records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """The rows of X as JSON-ready Python values: one list per column."""

    columns: list[str] | None  # None for an array (rows are lists)
    values: list[list[Any]]  # per column
    n: int

    def records(self, index: Sequence[int]) -> list[Any]:
        if self.columns is None:
            return [[col[i] for col in self.values] for i in index]
        names = self.columns
        return [{name: col[i] for name, col in zip(names, self.values, strict=True)} for i in index]

    def row_lists(self, index: Sequence[int]) -> list[list[Any]]:
        return [[col[i] for col in self.values] for i in index]


def _json_value(value: Any, column: str) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise DataError(
                f"X column {column!r} has an infinite value, which JSON cannot carry; replace "
                "it before querying the endpoint."
            )
        return value
    if isinstance(value, np.generic):
        return _json_value(value.item(), column)
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(
        f"X column {column!r} holds a value of type {type(value).__name__} ({value!r:.40}), "
        "which has no JSON form; convert the column to numbers or strings first."
    )


def _column_values(values: Any, name: str) -> list[Any]:
    """One column as JSON-ready Python values (NaN -> None; numpy scalars -> Python)."""
    array = np.asarray(values)
    if array.dtype.kind in "biu":
        return array.tolist()
    if array.dtype.kind == "f":
        if np.isinf(array).any():
            raise DataError(
                f"X column {name!r} has infinite values, which JSON cannot carry; replace them "
                "before querying the endpoint."
            )
        out = array.tolist()
        if np.isnan(array).any():
            out = [None if v != v else v for v in out]
        return out
    if array.dtype.kind == "M":
        return [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in array]
    return [_json_value(v, name) for v in array.tolist()]


def _to_rows(X: Any) -> _Rows:
    module = type(X).__module__
    if module.startswith(("polars", "pyarrow")):
        X = X.to_pandas()
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        if len(set(names)) != len(names):
            dup = sorted({c for c in names if names.count(c) > 1})
            raise DataError(
                f"X has duplicate column names {format_values(dup)}; a JSON record needs "
                "unique keys."
            )
        values = []
        for name, col in zip(names, X.columns, strict=True):
            series = X[col]
            if isinstance(series.dtype, pd.CategoricalDtype):
                values.append([_json_value(v, name) for v in series.tolist()])
            elif series.dtype.kind in "biufM":
                values.append(_column_values(series.to_numpy(), name))
            else:
                values.append([_json_value(v, name) for v in series.tolist()])
        return _Rows(columns=names, values=values, n=len(X))
    array = np.asarray(X)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise TypeError(
            f"X must be 2-dimensional (n_samples, n_features) for an endpoint, got shape "
            f"{array.shape}."
        )
    values = [_column_values(array[:, j], str(j)) for j in range(array.shape[1])]
    return _Rows(columns=None, values=values, n=array.shape[0])


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# --------------------------------------------------------------------------------------------
# protocols: body builders and response parsers
# --------------------------------------------------------------------------------------------


def _v2_datatype(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "BOOL"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "INT64" if len(present) == len(values) else "FP64"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "FP64"
    return "BYTES"


def _build_body(protocol: str, rows: _Rows, index: Sequence[int]) -> Any:
    if protocol == "kserve-v1":
        return {"instances": rows.records(index)}
    if protocol == "records":
        return rows.records(index)
    if protocol == "mlflow":
        if rows.columns is None:
            return {"inputs": rows.row_lists(index)}
        return {"dataframe_split": {"columns": rows.columns, "data": rows.row_lists(index)}}
    # open-inference (KServe v2): one tensor per column, as MLServer's pandas codec reads them
    if rows.columns is None:
        data = rows.row_lists(index)
        flat = [v for row in data for v in row]
        return {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [len(index), len(rows.values)],
                    "datatype": _v2_datatype(flat),
                    "data": flat,
                }
            ]
        }
    inputs = []
    for name, col in zip(rows.columns, rows.values, strict=True):
        data = [col[i] for i in index]
        inputs.append(
            {"name": name, "shape": [len(index)], "datatype": _v2_datatype(data), "data": data}
        )
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def _parse_body(
    protocol: str, body: Any, *, fields: tuple[str | None, str | None], where: str
) -> list[Any]:
    """Return the list of per-row items in a protocol's response body."""
    if protocol == "records":
        if not isinstance(body, list):
            raise ModelError(
                f"{where}: the records protocol expects a JSON list, got "
                f"{type(body).__name__} {_preview(body)}."
            )
        return body
    if protocol in ("kserve-v1", "mlflow"):
        if not isinstance(body, dict) or not isinstance(body.get("predictions"), list):
            got = (
                f"an object with keys {format_values(list(body))}"
                if isinstance(body, dict)
                else f"{type(body).__name__} {_preview(body)}"
            )
            raise ModelError(
                f"{where}: the {protocol} protocol expects a JSON object with a 'predictions' "
                f"list, got {got}."
            )
        return list(body["predictions"])
    # open-inference
    outputs = body.get("outputs") if isinstance(body, dict) else None
    if not isinstance(outputs, list) or not outputs:
        raise ModelError(
            f"{where}: the open-inference protocol expects a JSON object with an 'outputs' list "
            f"of tensors, got {_preview(body)}."
        )
    columns: dict[str, list[Any]] = {}
    for k, tensor in enumerate(outputs):
        if not isinstance(tensor, dict) or not isinstance(tensor.get("data"), list):
            raise ModelError(
                f"{where}: outputs[{k}] is not a tensor object with a 'data' list: "
                f"{_preview(tensor)}."
            )
        name = str(tensor.get("name", f"output-{k}"))
        data = tensor["data"]
        shape = tensor.get("shape") or [len(data)]
        if not isinstance(shape, list) or not all(isinstance(d, int) for d in shape):
            raise ModelError(f"{where}: outputs[{k}] ({name!r}) has a bad shape {shape!r}.")
        width = math.prod(shape[1:]) if len(shape) > 1 else 1
        if shape and math.prod(shape) != len(data):
            raise ModelError(
                f"{where}: outputs[{k}] ({name!r}) has shape {shape} but {len(data)} values."
            )
        columns[name] = (
            data if width == 1 else [data[i : i + width] for i in range(0, len(data), width)]
        )
    if fields == (None, None) and len(columns) == 1:
        return next(iter(columns.values()))
    names = list(columns)
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ModelError(
            f"{where}: the output tensors {format_values(names)} have different numbers of "
            f"rows {sorted(lengths)}."
        )
    return [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)]


def _preview(obj: Any, limit: int = 120) -> str:
    try:
        text = _dumps(obj)
    except (TypeError, ValueError):
        text = repr(obj)
    return text if len(text) <= limit else text[:limit] + "..."


def _server_message(response: Any, limit: int = 300) -> str:
    """Return the server's own words from an error response (JSON detail/error/message)."""
    text = response.text or ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("detail", "error", "message", "msg"):
            if key in body:
                text = body[key] if isinstance(body[key], str) else _dumps(body[key])
                break
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# --------------------------------------------------------------------------------------------
# the cache
# --------------------------------------------------------------------------------------------


class _Cache:
    """Row answers in an SQLite file, keyed by the SHA-256 of the endpoint and the record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path))
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS predictions (key TEXT PRIMARY KEY, item TEXT NOT NULL)"
            )
            self._db.commit()
        except sqlite3.Error as exc:
            raise ValueError(
                f"cache={str(path)!r} cannot be used as an SQLite cache file ({exc}); give a new "
                "file name or a file this library created."
            ) from exc

    def get(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(keys))
        for s in range(0, len(unique), _SQL_CHUNK):
            chunk = unique[s : s + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, item FROM predictions WHERE key IN ({marks})"
            found.update(self._db.execute(query, chunk).fetchall())
        return found

    def put(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO predictions VALUES (?, ?)", pairs)
        self._db.commit()

    def close(self) -> None:
        self._db.close()


# --------------------------------------------------------------------------------------------
# the endpoint
# --------------------------------------------------------------------------------------------


def _public_url(url: str) -> str:
    """Return the URL as recorded: scheme, host, port, path; no credentials, query, fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _check_positive(name: str, value: Any, *, kind: type = int, allow_zero: bool = False) -> Any:
    ok_type = (int, np.integer) if kind is int else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise TypeError(f"{name} must be {'an int' if kind is int else 'a number'}, got {value!r}.")
    if not (value >= 0 if allow_zero else value > 0) or (kind is float and math.isnan(value)):
        bound = ">= 0" if allow_zero else ">= 1" if kind is int else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}.")
    return int(value) if kind is int else float(value)


class Endpoint:
    """A model served behind an HTTP endpoint, usable wherever fairaudit takes a model.

    Parameters
    ----------
    url : str
        The prediction URL, e.g. ``"http://127.0.0.1:8080/v1/models/adult:predict"``. http or
        https. It may carry a query string (sent, never recorded) but not credentials: pass a
        token in ``headers`` instead.
    protocol : {"kserve-v1", "mlflow", "open-inference", "records"}, default "kserve-v1"
        The body format. ``"kserve-v1"`` (TF Serving, KServe v1, Seldon's v1):
        ``{"instances": [record, ...]}`` -> ``{"predictions": [...]}``. ``"mlflow"`` (MLflow
        scoring server): ``{"dataframe_split": {"columns": [...], "data": [[...], ...]}}`` ->
        ``{"predictions": [...]}``. ``"open-inference"`` (KServe v2, Triton, MLServer): one
        input tensor per column -> ``{"outputs": [tensor, ...]}`` (each output tensor is a
        field of the items). ``"records"``: a bare JSON list of records in, a bare list out.
        A record is ``{column: value}`` for a DataFrame, the row as a list for an array;
        missing values are sent as ``null``.
    request : callable, optional
        ``request(records) -> body``: overrides the protocol's body (a JSON-able object, or
        ``str``/``bytes`` sent as they are). ``records`` is the batch as a list of records.
    response : callable, optional
        ``response(body) -> list``: overrides the protocol's parser; receives the decoded JSON
        body and returns one item per row.
    label, score : str, optional
        When each returned item is a JSON object: the field holding the predicted label and
        the field holding the probability of the positive class (a number in [0, 1], or a list
        of per-class probabilities). None when the items are bare values: then they are labels,
        or probabilities when wrapped with ``fa.wrap(endpoint, response_method="predict_proba")``.
        With both set, labels are the server's own and scores come from the same answer.
    batch_size : int, default 256
        Rows per request.
    max_concurrency : int, default 4
        Requests in flight at once (over one pooled connection set).
    timeout : float, default 30.0
        Seconds to wait for connecting, and for each read, per attempt.
    retries : int, default 5
        Further attempts of a batch after a connection error, a timeout or an answer 429, 502,
        503 or 504, with exponential backoff and jitter (``Retry-After`` is honoured). Other
        4xx and 5xx answers are not retried.
    headers : mapping of str to str, optional
        Sent with every request (e.g. ``{"Authorization": f"Bearer {token}"}``); never
        recorded anywhere.
    cache : str or path, optional
        An SQLite file storing each row's answer, keyed by the SHA-256 of the endpoint's URL,
        protocol and fields and of the canonical JSON record. Rows found there are not sent
        again, so an interrupted audit resumes where it stopped and a flip test does not
        re-send the original rows.
    classes : sequence, optional
        The labels the endpoint may return (default ``[0, 1]``); a label outside them is an
        error. Pass e.g. ``["<=50K", ">50K"]`` with ``pos_label=">50K"`` for string labels.
    backoff : float, default 0.5
        Base of the exponential backoff in seconds (attempt k waits about
        ``backoff * 2**(k-1)``, with jitter).
    progress : bool, optional
        Show a tqdm bar. Default: when stderr is a terminal, tqdm is installed and there are at
        least 20 batches to send.

    Attributes
    ----------
    url : str
        The URL as recorded (no query string).
    stats : dict
        Counters since creation: ``requests`` (attempts sent), ``retries``, ``rows_sent``,
        ``cache_hits``, ``batches``.

    Notes
    -----
    Every response is validated: the item count must equal the batch's row count, each
    item must hold the named fields, scores must be finite numbers (in [0, 1]), labels
    must be among ``classes``; otherwise :class:`~fairaudit.exceptions.ModelError` names the
    JSON field and the row positions. No row is ever dropped or shifted. The answers to the
    last ``X`` are kept in memory, so that the labels and scores of one audit come from one
    pass over the endpoint.

    Examples
    --------
    >>> import fairaudit as fa
    >>> ep = fa.models.Endpoint("http://127.0.0.1:8080/predict", label="label", score="score",
    ...                         headers={"Authorization": "Bearer s3cr3t"}, batch_size=128)
    >>> ep
    Endpoint('http://127.0.0.1:8080/predict', protocol='kserve-v1', batch_size=128)
    >>> "s3cr3t" in str(ep.describe())
    False
    >>> fa.wrap(ep).output_kind
    'score'
    """

    def __init__(
        self,
        url: str,
        *,
        protocol: Protocol = "kserve-v1",
        request: Callable[[list[Any]], Any] | None = None,
        response: Callable[[Any], list[Any]] | None = None,
        label: str | None = None,
        score: str | None = None,
        batch_size: int = 256,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        retries: int = 5,
        headers: Mapping[str, str] | None = None,
        cache: str | Path | None = None,
        classes: Sequence[Any] | None = None,
        backoff: float = 0.5,
        progress: bool | None = None,
    ) -> None:
        if not isinstance(url, str):
            raise TypeError(f"url must be a str, got {type(url).__name__}.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"url must be an http:// or https:// URL with a host, got {_public_url(url)!r}."
            )
        if parts.username is not None or parts.password is not None:
            raise ValueError(
                f"url carries credentials (user:password@); they would be logged and recorded. "
                f"Pass them in headers= instead, e.g. headers={{'Authorization': 'Bearer ...'}}, "
                f"and use url={_public_url(url)!r}."
            )
        try:
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"url has an invalid port: {exc}.") from None
        if protocol not in PROTOCOLS:
            close = difflib.get_close_matches(str(protocol), PROTOCOLS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"protocol={protocol!r} is not a known protocol.{hint} Known: "
                f"{format_values(PROTOCOLS)}; or pass request= and response= callables."
            )
        for name, fn in (("request", request), ("response", response)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be a callable or None, got {type(fn).__name__}.")
        for name, field in (("label", label), ("score", score)):
            if field is not None and not isinstance(field, str):
                raise TypeError(f"{name} must be a field name (str) or None, got {field!r}.")
        if headers is not None:
            if not isinstance(headers, Mapping):
                raise TypeError(
                    f"headers must be a mapping of header names to values, got "
                    f"{type(headers).__name__}."
                )
            bad = [
                k for k, v in headers.items() if not isinstance(k, str) or not isinstance(v, str)
            ]
            if bad:
                raise TypeError(
                    f"headers must map str to str; the header(s) {format_values(bad)} are not "
                    "(values are not shown)."
                )
        if classes is not None:
            classes_list = list(np.asarray(classes).tolist())
            if len(classes_list) < 2 or len(set(classes_list)) != len(classes_list):
                raise ValueError(
                    f"classes must list at least two distinct labels, got "
                    f"{format_values(classes_list)}."
                )
        if progress is not None and not isinstance(progress, bool):
            raise TypeError(f"progress must be True, False or None, got {progress!r}.")
        self._raw_url = url
        self.url = _public_url(url)
        self.protocol = protocol
        self.request = request
        self.response = response
        self.label = label
        self.score = score
        self.batch_size = _check_positive("batch_size", batch_size)
        self.max_concurrency = _check_positive("max_concurrency", max_concurrency)
        self.timeout = _check_positive("timeout", timeout, kind=float)
        self.retries = _check_positive("retries", retries, allow_zero=True)
        self.backoff = _check_positive("backoff", backoff, kind=float, allow_zero=True)
        self.cache = None if cache is None else Path(cache)
        self.classes = None if classes is None else list(np.asarray(classes).tolist())
        self.progress = progress
        self._headers = dict(headers or {})
        self._lock = threading.Lock()
        self._stats = {"requests": 0, "retries": 0, "rows_sent": 0, "cache_hits": 0, "batches": 0}
        self._memo: tuple[str, list[Any]] | None = None
        self._random = random.Random()  # jitter only; never a global seed

    # -- description -------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"Endpoint({self.url!r}, protocol={self.protocol!r}, batch_size={self.batch_size})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def stats(self) -> dict[str, int]:
        """Counters since creation: requests, retries, rows_sent, cache_hits, batches."""
        with self._lock:
            return dict(self._stats)

    def describe(self) -> dict[str, Any]:
        """Return a JSON-safe description for provenance (never the headers or query string).

        Returns
        -------
        dict
            ``url``, ``protocol``, ``request`` and ``response`` (callable names or None),
            ``label``, ``score``, ``batch_size``, ``max_concurrency``, ``timeout``, ``retries``,
            ``cache`` (whether a cache file is used), ``classes``.

        Examples
        --------
        >>> from fairaudit.models import Endpoint
        >>> Endpoint("https://models.example.com/adult?key=abc").describe()["url"]
        'https://models.example.com/adult'
        """

        def name(fn: Any) -> str | None:
            return None if fn is None else str(getattr(fn, "__qualname__", type(fn).__name__))

        return {
            "url": self.url,
            "protocol": self.protocol,
            "request": name(self.request),
            "response": name(self.response),
            "label": self.label,
            "score": self.score,
            "batch_size": self.batch_size,
            "max_concurrency": self.max_concurrency,
            "timeout": self.timeout,
            "retries": self.retries,
            "cache": self.cache is not None,
            "classes": self.classes,
        }

    # -- querying ----------------------------------------------------------------------------

    def query(self, X: Any) -> list[Any]:
        """Send the rows of ``X`` and return the endpoint's items, one per row, in row order.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Rows to send (a DataFrame's rows as ``{column: value}`` records).

        Returns
        -------
        list
            The decoded JSON item of each row, as the protocol's parser returns it.

        Raises
        ------
        ModelError
            The endpoint could not be reached after the retries, answered an error, or gave
            an unusable answer (the message names the URL, the batch's first row and the
            problem).
        """
        rows = _to_rows(X)
        if rows.n == 0:
            raise DataError("X has no rows; pass at least one sample.")
        memo_key = self._memo_key(rows)
        memo = self._memo
        if memo is not None and memo[0] == memo_key:
            return memo[1]
        items = self._query_rows(rows)
        self._memo = (memo_key, items)
        return items

    def _identity(self) -> str:
        def name(fn: Any) -> str:
            return "" if fn is None else str(getattr(fn, "__qualname__", type(fn).__name__))

        return "\x1e".join(
            [
                self._raw_url,
                self.protocol,
                self.label or "",
                self.score or "",
                name(self.request),
                name(self.response),
            ]
        )

    def _memo_key(self, rows: _Rows) -> str:
        digest = hashlib.sha256(self._identity().encode())
        digest.update(_dumps(rows.columns).encode())
        for col in rows.values:
            digest.update(_dumps(col).encode())
        return digest.hexdigest()

    def _row_keys(self, rows: _Rows) -> list[str]:
        prefix = self._identity().encode() + b"\x1d"
        keys = []
        if rows.columns is None:
            for i in range(rows.n):
                record = [col[i] for col in rows.values]
                keys.append(hashlib.sha256(prefix + _dumps(record).encode()).hexdigest())
        else:
            columns = rows.columns
            order = sorted(range(len(columns)), key=lambda j: columns[j])
            names = [columns[j] for j in order]
            for i in range(rows.n):
                canonical = dict(zip(names, (rows.values[j][i] for j in order), strict=True))
                keys.append(hashlib.sha256(prefix + _dumps(canonical).encode()).hexdigest())
        return keys

    def _query_rows(self, rows: _Rows) -> list[Any]:
        items: list[Any] = [None] * rows.n
        pending = list(range(rows.n))
        cache = _Cache(self.cache) if self.cache is not None else None
        keys: list[str] = []
        try:
            if cache is not None:
                keys = self._row_keys(rows)
                found = cache.get(keys)
                pending = []
                for i, key in enumerate(keys):
                    if key in found:
                        items[i] = json.loads(found[key])
                    else:
                        pending.append(i)
                with self._lock:
                    self._stats["cache_hits"] += rows.n - len(pending)
            if pending:
                self._send_all(rows, pending, items, cache, keys)
        finally:
            if cache is not None:
                cache.close()
        return items

    def _new_client(self) -> Any:
        """One pooled client per query: connections are reused across its batches."""
        from fairaudit._optional import import_optional

        httpx = import_optional("httpx", purpose="fairaudit.models.Endpoint")
        return httpx.Client(
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=self.max_concurrency,
                max_keepalive_connections=self.max_concurrency,
            ),
            headers={"Content-Type": "application/json", **self._headers},
        )

    def _send_all(
        self,
        rows: _Rows,
        pending: list[int],
        items: list[Any],
        cache: _Cache | None,
        keys: list[str],
    ) -> None:
        batches = [
            pending[s : s + self.batch_size] for s in range(0, len(pending), self.batch_size)
        ]
        logger.info(
            "querying %s (%s): %d rows in %d batches",
            self.url,
            self.protocol,
            len(pending),
            len(batches),
        )
        bar = self._progress_bar(len(pending), len(batches))
        workers = min(self.max_concurrency, len(batches))
        error: BaseException | None = None
        with (
            self._new_client() as client,
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fairaudit-ep") as pool,
        ):
            stop = threading.Event()  # set by the first batch that fails: send nothing more
            futures: dict[Future[list[Any] | None], list[int]] = {
                pool.submit(self._send_guarded, client, rows, batch, stop): batch
                for batch in batches
            }
            not_done = set(futures)
            while not_done:
                done, not_done = wait(not_done, return_when=FIRST_EXCEPTION)
                for future in done:
                    batch = futures[future]
                    exc = future.exception() if not future.cancelled() else None
                    if future.cancelled():
                        continue
                    if exc is not None:
                        if error is None:
                            error = exc
                            for other in not_done:
                                other.cancel()
                        continue
                    answer = future.result()
                    if answer is None:  # skipped after another batch failed
                        continue
                    for i, item in zip(batch, answer, strict=True):
                        items[i] = item
                    if cache is not None:
                        cache.put(
                            [(keys[i], _dumps(item)) for i, item in zip(batch, answer, strict=True)]
                        )
                    if bar is not None:
                        bar.update(len(batch))
        if bar is not None:
            bar.close()
        if error is not None:
            raise error

    def _progress_bar(self, n_rows: int, n_batches: int) -> Any:
        show = self.progress
        if show is None:
            isatty = getattr(sys.stderr, "isatty", None)
            show = bool(n_batches >= 20 and callable(isatty) and isatty())
            if show:
                try:
                    import tqdm.auto
                except ImportError:
                    return None
        if not show:
            return None
        from fairaudit._optional import import_optional

        tqdm = import_optional("tqdm.auto", purpose="Endpoint(progress=True)")
        return tqdm.tqdm(total=n_rows, unit="row", desc=f"fairaudit {self.url}", leave=False)

    def _where(self, first_row: int) -> str:
        return f"{self.url} (batch starting at row {first_row})"

    def _send_guarded(
        self, client: Any, rows: _Rows, batch: list[int], stop: threading.Event
    ) -> list[Any] | None:
        if stop.is_set():
            return None
        try:
            return self._send_batch(client, rows, batch)
        except BaseException:
            stop.set()
            raise

    def _send_batch(self, client: Any, rows: _Rows, batch: list[int]) -> list[Any]:
        first = batch[0]
        where = self._where(first)
        records = rows.records(batch)
        if self.request is not None:
            try:
                body = self.request(records)
            except Exception as exc:
                raise ModelError(f"request(records) raised {type(exc).__name__}: {exc}") from exc
        else:
            body = _build_body(self.protocol, rows, batch)
        if isinstance(body, bytes):
            content = body
        elif isinstance(body, str):
            content = body.encode()
        else:
            try:
                content = _dumps(body).encode()
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"the request body is not JSON-serializable ({exc}); return a JSON-able "
                    "object, str or bytes from request=."
                ) from exc
        response = self._post(client, content, first)
        decoded = self._decode(response, where)
        if self.response is not None:
            try:
                answer = self.response(decoded)
            except Exception as exc:
                raise ModelError(
                    f"{where}: response(body) raised {type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(answer, list):
                raise ModelError(
                    f"{where}: response(body) returned {type(answer).__name__}; it must return a "
                    "list with one item per row."
                )
        else:
            answer = _parse_body(
                self.protocol, decoded, fields=(self.label, self.score), where=where
            )
        if len(answer) != len(batch):
            raise ModelError(
                f"{where}: the endpoint returned {len(answer)} items for a batch of "
                f"{len(batch)} rows (rows {first}..{batch[-1]}); it must return exactly one "
                "item per row, in order."
            )
        with self._lock:
            self._stats["rows_sent"] += len(batch)
            self._stats["batches"] += 1
        return answer

    def _decode(self, response: Any, where: str) -> Any:
        content = response.content
        try:
            return json.loads(content)
        except ValueError:
            kind = response.headers.get("content-type", "no content-type")
            text = " ".join(content[:200].decode("utf-8", "replace").split())
            raise ModelError(
                f"{where}: the endpoint answered HTTP {response.status_code} with a body that is "
                f"not JSON ({kind}): {text!r}"
            ) from None

    def _post(self, client: Any, content: bytes, first_row: int) -> Any:
        import httpx

        attempt = 0
        while True:
            wait_s: float | None = None
            with self._lock:
                self._stats["requests"] += 1
            try:
                response = client.post(self._raw_url, content=content)
            except httpx.TimeoutException as exc:
                reason = f"timed out after {self.timeout:g} s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                reason = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status not in RETRY_STATUS:
                    hint = (
                        " Check the credentials passed in headers= (they are never shown)."
                        if status in (401, 403)
                        else ""
                    )
                    raise ModelError(
                        f"{self._where(first_row)}: the endpoint answered HTTP {status} "
                        f"{response.reason_phrase}: {_server_message(response)!r}.{hint}"
                    )
                reason = f"HTTP {status} {response.reason_phrase}"
                wait_s = _retry_after(response)
            if attempt >= self.retries:
                raise ModelError(
                    f"{self._where(first_row)}: no usable answer after {attempt + 1} attempt(s); "
                    f"last: {reason}. Check that the server is running and the URL is right, "
                    "or raise retries= / timeout=."
                )
            attempt += 1
            with self._lock:
                self._stats["retries"] += 1
            if wait_s is None:
                base = self.backoff * 2 ** (attempt - 1)
                wait_s = base / 2 + self._random.uniform(0, base / 2)
            wait_s = min(wait_s, _MAX_WAIT_S)
            logger.info(
                "%s: %s; retry %d/%d in %.2f s",
                self._where(first_row),
                reason,
                attempt,
                self.retries,
                wait_s,
            )
            time.sleep(wait_s)

    # -- fields --------------------------------------------------------------------------------

    def _field_values(
        self, items: list[Any], what: Literal["label", "score"], *, bare: bool
    ) -> list[Any]:
        """Return the label or score of every item, validated (naming the JSON field and rows)."""
        field = self.label if what == "label" else self.score
        objects = [i for i, item in enumerate(items) if isinstance(item, dict)]
        if field is None:
            if objects:
                keys = sorted(items[objects[0]])
                raise ModelError(
                    f"{self.url} returned JSON objects (keys {format_values(keys)}) for rows "
                    f"{format_values(objects)}; name the field holding the {what} with "
                    f"Endpoint(..., {what}=...)."
                )
            if not bare:
                raise ModelError(
                    f"{self.url}: no {what} field is configured; pass {what}= to Endpoint."
                )
            return items
        if len(objects) != len(items):
            others = [i for i, item in enumerate(items) if not isinstance(item, dict)]
            raise ModelError(
                f"{self.url}: {what}={field!r} names a field of each returned item, but rows "
                f"{format_values(others)} got bare values (e.g. {_preview(items[others[0]])}); "
                f"leave {what}= unset when the items are not objects."
            )
        missing = [i for i, item in enumerate(items) if field not in item]
        if missing:
            keys = sorted(items[missing[0]])
            raise ModelError(
                f"{self.url}: the JSON field {field!r} is missing from the items of "
                f"{len(missing)} row(s), at positions {format_values(missing)} (their keys: "
                f"{format_values(keys)})."
            )
        return [item[field] for item in items]

    def _scores(self, items: list[Any], *, bare: bool) -> np.ndarray:
        values = self._field_values(items, "score", bare=bare)
        name = repr(self.score) if self.score is not None else "(the bare item)"

        def bad(i: int, v: Any) -> bool:
            if isinstance(v, list):
                return not v or any(bad(i, x) for x in v)
            return isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)

        wrong = [i for i, v in enumerate(values) if bad(i, v)]
        if wrong:
            shown = ", ".join(_preview(values[i], 40) for i in wrong[:5])
            raise ModelError(
                f"{self.url}: the JSON field {name} holds values that are not finite numbers "
                f"(NaN, null, text) for {len(wrong)} row(s), at positions "
                f"{format_values(wrong)}: {shown}."
            )
        widths = {len(v) if isinstance(v, list) else 0 for v in values}
        if len(widths) != 1:
            raise ModelError(
                f"{self.url}: the JSON field {name} mixes numbers and lists of different lengths "
                "across rows; every row must have the same shape."
            )
        scores = np.asarray(values, dtype=np.float64)
        out_of_range = np.flatnonzero(((scores < 0) | (scores > 1)).reshape(len(values), -1).any(1))
        if out_of_range.size:
            raise ModelError(
                f"{self.url}: the JSON field {name} holds probabilities outside [0, 1] for "
                f"{out_of_range.size} row(s), at positions {format_values(out_of_range)} "
                f"(e.g. {scores[out_of_range[0]]!r}); scores must be probabilities."
            )
        return scores

    def _labels(self, items: list[Any], classes: Sequence[Any]) -> list[Any]:
        values = self._field_values(items, "label", bare=True)
        name = repr(self.label) if self.label is not None else "(the bare item)"
        lookup: dict[Any, Any] = {}
        for c in classes:
            lookup.setdefault(c, c)
        out = []
        wrong = []
        for i, v in enumerate(values):
            hashable = not isinstance(v, list | dict)
            if hashable and v is not None and not (isinstance(v, float) and v != v) and v in lookup:
                out.append(lookup[v])
            else:
                wrong.append(i)
        if wrong:
            seen = list(dict.fromkeys(_preview(values[i], 30) for i in wrong))
            raise ModelError(
                f"{self.url}: the JSON field {name} holds labels outside the model's classes "
                f"{format_values(list(classes))} for {len(wrong)} row(s), at positions "
                f"{format_values(wrong)} (values {format_values(seen)}); pass the endpoint's "
                "labels as Endpoint(..., classes=[...])."
            )
        return out


# --------------------------------------------------------------------------------------------
# configuration file (the CLI's --endpoint-config)
# --------------------------------------------------------------------------------------------

_CONFIG_KEYS = (
    "protocol",
    "label",
    "score",
    "batch_size",
    "max_concurrency",
    "timeout",
    "retries",
    "cache",
    "classes",
    "backoff",
    "headers",
)


def endpoint_from_config(
    url: str, config: str | Path | Mapping[str, Any] | None = None, *, environ: Any = None
) -> Endpoint:
    """Build an :class:`Endpoint` from a URL and a YAML file (or mapping) of its options.

    Parameters
    ----------
    url : str
        The prediction URL.
    config : path or mapping, optional
        Keys are :class:`Endpoint`'s keyword names (``protocol``, ``label``, ``score``,
        ``batch_size``, ``max_concurrency``, ``timeout``, ``retries``, ``cache``, ``classes``,
        ``backoff``) plus ``headers``, which maps header names to the names of ENVIRONMENT
        VARIABLES holding their values (so that no secret is ever written in the file).
    environ : mapping, optional
        Where to read the variables (default ``os.environ``).

    Returns
    -------
    Endpoint

    Raises
    ------
    ValueError
        An unknown key (with a did-you-mean), a header whose variable is not set, or a file
        that is not a YAML mapping.

    Examples
    --------
    >>> ep = endpoint_from_config(
    ...     "http://127.0.0.1:8000/predict",
    ...     {"label": "label", "batch_size": 64, "headers": {"Authorization": "MODEL_TOKEN"}},
    ...     environ={"MODEL_TOKEN": "Bearer abc"},
    ... )
    >>> ep.batch_size, "abc" in repr(ep)
    (64, False)
    """
    import os

    source = "endpoint config"
    if config is None:
        options: dict[str, Any] = {}
    elif isinstance(config, Mapping):
        options = dict(config)
    else:
        from fairaudit._optional import import_optional

        yaml = import_optional("yaml", purpose="--endpoint-config")
        path = Path(config)
        source = str(path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"endpoint config: cannot read {path}: {exc.strerror}.") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"endpoint config: {path} is not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ValueError(
                f"endpoint config: {path} must hold a mapping of Endpoint options, got "
                f"{type(loaded).__name__}."
            )
        options = loaded
    unknown = [k for k in options if k not in _CONFIG_KEYS]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), _CONFIG_KEYS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"{source}: unknown key {unknown[0]!r}.{hint} Known: {format_values(_CONFIG_KEYS)}."
        )
    env = os.environ if environ is None else environ
    headers_spec = options.pop("headers", None) or {}
    if not isinstance(headers_spec, Mapping):
        raise ValueError(
            f"{source}: headers must map header names to environment variable names, e.g. "
            "{'Authorization': 'MODEL_TOKEN'}."
        )
    headers = {}
    for name, variable in headers_spec.items():
        if not isinstance(variable, str):
            raise ValueError(
                f"{source}: header {name!r} must name an environment variable (a string), not "
                "hold a value; secrets never go in the file."
            )
        if variable not in env:
            raise ValueError(
                f"{source}: header {name!r} reads the environment variable {variable!r}, which "
                "is not set; export it before running."
            )
        headers[str(name)] = env[variable]
    return Endpoint(url, headers=headers or None, **options)
