"""FairnessMonitor: windows of count tables in a durable store, fed by batches and late labels."""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import time
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._validation import as_1d, find_missing, format_values
from fairaudit.exceptions import DataError, FairauditWarning, MissingValueError
from fairaudit.metrics import METRIC_REGISTRY, GroupMetrics
from fairaudit.metrics._drift import DriftResult, drift
from fairaudit.monitor._scores import (
    SCORE_METRICS,
    UNLABELED_SCORE,
    RawAtoms,
    batch_atoms,
    check_score_decimals,
    is_score_metric,
    validate_scores,
)
from fairaudit.monitor._store import UNLABELED, Store
from fairaudit.monitor._tables import cells_to_table, table_group_metrics

__all__ = ["FairnessMonitor", "parse_duration", "parse_window"]

_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*(s|min|h|d|w)\s*$")
_ROWS = re.compile(r"^\s*(\d+)\s*rows?\s*$")
# metrics that need no y_true: computed on every prediction
_LABEL_FREE = frozenset({"selection_rate", "count"})
_CHUNK = 500  # ids per SQL "IN (...)" list


def parse_duration(text: str, *, name: str) -> int:
    """Seconds in a duration such as ``"90d"``, ``"1h"``, ``"15min"`` or ``"30s"``.

    Examples
    --------
    >>> parse_duration("90d", name="keep")
    7776000
    """
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"{name} must be a positive duration such as '30s', '15min', '1h', '1d' or '4w', "
            f"got {text!r}."
        )
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_window(window: str | int) -> tuple[str, int]:
    """``("time", seconds)`` or ``("rows", n)`` of a window specification.

    Examples
    --------
    >>> parse_window("1h"), parse_window("10000rows"), parse_window(500)
    (('time', 3600), ('rows', 10000), ('rows', 500))
    """
    if isinstance(window, bool):
        raise TypeError(f"window must be a duration string or a row count, got {window!r}.")
    if isinstance(window, int | np.integer):
        if window <= 0:
            raise ValueError(f"window must be a positive number of rows, got {window!r}.")
        return "rows", int(window)
    if not isinstance(window, str):
        raise TypeError(
            f"window must be a duration string ('1h') or a row count (10000), got "
            f"{type(window).__name__}."
        )
    rows = _ROWS.match(window)
    if rows is not None and int(rows.group(1)) > 0:
        return "rows", int(rows.group(1))
    return "time", parse_duration(window, name="window")


def _epoch_seconds(values: Any, *, name: str, n: int | None) -> np.ndarray:
    """Timestamps (datetimes, strings or epoch seconds; naive means UTC) -> float seconds."""
    if isinstance(values, pd.Series):
        series = values.reset_index(drop=True)
    elif isinstance(values, pd.Index | np.ndarray):
        series = pd.Series(values)
    elif isinstance(values, str) or np.isscalar(values) or hasattr(values, "isoformat"):
        series = pd.Series([values])
    else:
        series = pd.Series(list(values))
    if n is not None and len(series) != n:
        raise DataError(f"{name} has {len(series)} rows but y_pred has {n}; pass one per row.")
    if pd.api.types.is_bool_dtype(series.dtype):
        raise TypeError(f"{name} must be datetimes or epoch seconds, got booleans.")
    if pd.api.types.is_numeric_dtype(series.dtype):
        out = series.to_numpy(dtype=np.float64)
    else:
        try:
            parsed = pd.to_datetime(series, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{name} could not be read as datetimes ({exc}); pass datetimes, ISO strings "
                "or epoch seconds."
            ) from exc
        if parsed.isna().any():
            bad = np.flatnonzero(parsed.isna().to_numpy())
            raise MissingValueError(f"{name} has missing values at rows {format_values(bad)}.")
        out = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy()
    if not np.all(np.isfinite(out)):
        bad = np.flatnonzero(~np.isfinite(out))
        raise MissingValueError(f"{name} has missing values at rows {format_values(bad)}.")
    return out


def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct values and each row's position among them.

    As ``np.unique(values, return_inverse=True)``, without a sort when the values span a
    small range (group codes and window starts do).
    """
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span > 4 * len(values) + 1024:
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.astype(np.int64).ravel()
    shifted = values - lo
    present = np.flatnonzero(np.bincount(shifted, minlength=span))
    lookup = np.zeros(span, dtype=np.int64)
    lookup[present] = np.arange(present.size)
    return present + lo, lookup[shifted]


def _binary(values: Any, *, name: str, pos_label: Any, n: int | None) -> np.ndarray:
    """0/1 int8 array: whether each label equals ``pos_label`` (at most two distinct labels)."""
    s = as_1d(values, name=name)
    if n is not None and len(s) != n:
        raise DataError(f"{name} has {len(s)} rows but y_pred has {n}; pass one per row.")
    missing = find_missing(s)
    if missing.size:
        raise MissingValueError(
            f"{name} has {missing.size} missing value(s) at rows {format_values(missing)}; "
            "drop or fill them before updating the monitor."
        )
    arr = s.to_numpy()
    distinct = pd.unique(arr) if len(arr) < 1 or arr.dtype != object else pd.unique(s)
    if len(distinct) > 2:
        raise DataError(
            f"{name} has {len(distinct)} distinct values {format_values(list(distinct))}; the "
            "monitor counts binary decisions: pass two labels, one of them pos_label."
        )
    pos = arr == pos_label
    if len(distinct) == 2 and not pos.any():
        raise DataError(
            f"{name} has the labels {format_values(list(distinct))}, neither equal to "
            f"pos_label={pos_label!r}; pass the positive label as pos_label."
        )
    return np.asarray(pos, dtype=np.int8)


def _ids(ids: Any, *, name: str, n: int) -> list[str]:
    """Ids as text, one per row, without missing values or duplicates."""
    s = as_1d(ids, name=name)
    if len(s) != n:
        raise DataError(f"{name} has {len(s)} rows but the batch has {n}; pass one id per row.")
    missing = find_missing(s)
    if missing.size:
        raise MissingValueError(f"{name} has missing values at rows {format_values(missing)}.")
    text = s.astype(str)
    dup = text.duplicated(keep=False)
    if dup.any():
        shown = list(dict.fromkeys(text[dup].tolist()))
        raise DataError(
            f"{name} has duplicated ids {format_values(shown)}; each prediction needs its own id."
        )
    return text.tolist()


class FairnessMonitor:
    """Group metrics of a model in production, per time (or row-count) window, in a durable store.

    Predictions arrive in batches (:meth:`update`), ground truth may arrive much later and is
    joined by id (:meth:`update_labels`). Every batch becomes per-window, per-group counts in
    an SQLite file; :meth:`current`, :meth:`window` and :meth:`history` turn those counts into
    :class:`~fairaudit.metrics.GroupMetrics`, :meth:`drift` tests two windows against each
    other, and :meth:`collector` exposes everything to Prometheus.

    Parameters
    ----------
    store : str or path-like
        SQLite file of the store; created when missing. An existing store keeps its
        sensitive features, window and ``pos_label``.
    sensitive_features : list of str, optional
        Names of the sensitive columns every batch carries (text values; intersectional groups
        when several). Required for a new store; ``None`` reads them from an existing one.
    metrics : list of str, optional
        Metrics to report (names from :data:`fairaudit.metrics.METRIC_REGISTRY`): rate
        metrics, and the score metrics ``roc_auc``, ``brier_score``, ``calibration_error``.
        Default ``["selection_rate"]``, plus the three score metrics for windows holding
        labelled predictions given with ``y_score``. Metrics that need ``y_true`` are computed
        on the predictions whose label has arrived; score metrics on the labelled predictions
        that came with a score (whatever ``rows``).
    window : str or int, default "1h"
        Tumbling windows: a duration (``"30s"``, ``"15min"``, ``"1h"``, ``"1d"``, ``"1w"``;
        windows start at multiples of it since the Unix epoch, UTC) or a number of rows
        (``10000`` or ``"10000rows"``; windows in arrival order).
    reference : optional
        The reference of :meth:`drift` with ``against="reference"``: a time in the reference
        window (a row window's number), a ``(start, end)`` pair of times whose windows are
        pooled, or ``None`` for the first window in the store.
    policy : fairaudit.Policy, optional
        Checked on the current window by the Prometheus collector.
    min_group_size : int, default 30
        Groups with fewer rows raise a ``SmallGroupWarning`` in the GroupMetrics.
    pos_label : default 1
        The positive (favourable) decision.
    keep : str or int, optional
        Retention: windows older than this before the newest window are deleted on each update
        (``"90d"``, or a number of windows). ``None`` keeps everything.
    confidence : float, default 0.95
        Confidence of the intervals.
    timeout : float, default 30.0
        Seconds to wait for another process's write lock on the store.
    score_decimals : int, optional
        Round every ``y_score`` to this many decimals before storing it (``np.round``).
        The store keeps one row per distinct (window, group, score, label), so raw float
        scores make one row per prediction; 3 or 4 decimals keep a window's rows to a few
        thousand while ROC AUC changes by less than the rounding. A store keeps the setting
        it was created with (default: no rounding) and refuses another.

    Examples
    --------
    >>> import tempfile, os
    >>> import fairaudit as fa
    >>> path = os.path.join(tempfile.mkdtemp(), "store.db")
    >>> mon = fa.monitor.FairnessMonitor(path, sensitive_features=["sex"], window="1h",
    ...                                  min_group_size=1)
    >>> mon.update([1, 0, 1, 1], {"sex": ["F", "F", "M", "M"]},
    ...            timestamps=["2026-01-01T10:05", "2026-01-01T10:20",
    ...                        "2026-01-01T10:30", "2026-01-01T10:59"])
    4
    >>> mon.current().by_group
         selection_rate  count
    sex
    F               0.5      2
    M               1.0      2
    >>> mon.close()
    """

    def __init__(
        self,
        store: str | os.PathLike[str],
        *,
        sensitive_features: list[str] | tuple[str, ...] | str | None = None,
        metrics: list[str] | tuple[str, ...] | None = None,
        window: str | int | None = None,
        reference: Any = None,
        policy: Any = None,
        min_group_size: int = 30,
        pos_label: Any = None,
        keep: str | int | None = None,
        confidence: float = 0.95,
        timeout: float = 30.0,
        score_decimals: int | None = None,
    ) -> None:
        if not isinstance(store, str | os.PathLike):
            raise TypeError(f"store must be a file path, got {type(store).__name__}.")
        config: dict[str, Any] = {}
        if sensitive_features is not None:
            names = (
                [sensitive_features]
                if isinstance(sensitive_features, str)
                else list(sensitive_features)
            )
            if not names or not all(isinstance(c, str) for c in names):
                raise TypeError(
                    f"sensitive_features must be a non-empty list of column names, got "
                    f"{sensitive_features!r}."
                )
            if len(set(names)) != len(names):
                raise ValueError(f"sensitive_features has duplicated names {names}.")
            config["sensitive_features"] = names
        if window is not None:
            kind, size = parse_window(window)
            config["window"] = [kind, size]
        if pos_label is not None:
            json.dumps(pos_label)  # must be storable
            config["pos_label"] = pos_label
        decimals = check_score_decimals(score_decimals)
        if decimals is not None:
            config["score_decimals"] = decimals
        if "sensitive_features" in config:  # a new store gets the defaults
            config.setdefault("window", list(parse_window("1h")))
            config.setdefault("pos_label", 1)
            config.setdefault("score_decimals", None)
        names_metrics = ["selection_rate"] if metrics is None else list(metrics)
        for m in names_metrics:
            d = METRIC_REGISTRY.get(m)
            if d is None or (not d.is_rate and m != "balanced_accuracy" and d.task != "score"):
                rates = sorted(k for k, v in METRIC_REGISTRY.items() if v.is_rate)
                raise ValueError(
                    f"metrics: {m!r} is not a rate or score metric; use one of "
                    f"{rates + list(SCORE_METRICS)}."
                )
        if not (isinstance(confidence, float | int) and 0 < confidence < 1):
            raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}.")
        if isinstance(min_group_size, bool) or not isinstance(min_group_size, int):
            raise TypeError(f"min_group_size must be an int, got {min_group_size!r}.")
        self._store = Store(store, config or None, timeout=float(timeout))
        stored = self._store.config
        self.sensitive_features: tuple[str, ...] = tuple(stored["sensitive_features"])
        self.window_kind: str = stored["window"][0]
        self.window_size: int = int(stored["window"][1])
        self.pos_label: Any = stored["pos_label"]
        self.metrics: tuple[str, ...] = tuple(names_metrics)
        self.score_decimals: int | None = stored.get("score_decimals")
        # metrics=None: the score metrics join for windows that hold labelled scores
        self._auto_scores = metrics is None
        self.reference = reference
        self.policy = policy
        self.min_group_size = int(min_group_size)
        self.confidence = float(confidence)
        self.keep: tuple[str, int] | None = None
        if keep is not None:
            if isinstance(keep, int) and not isinstance(keep, bool):
                if keep <= 0:
                    raise ValueError(f"keep must be a positive number of windows, got {keep}.")
                self.keep = ("windows", keep)
            elif self.window_kind == "rows":
                raise ValueError(
                    f"keep={keep!r} is a duration but the windows count rows; pass keep as a "
                    "number of windows."
                )
            else:
                self.keep = ("time", parse_duration(str(keep), name="keep"))
        self._clock = time.time

    # -- properties ----------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """Path of the store file."""
        return str(self._store.path)

    def __repr__(self) -> str:
        spec = f"{self.window_size}s" if self.window_kind == "time" else f"{self.window_size}rows"
        return (
            f"FairnessMonitor({self.path!r}, sensitive_features={list(self.sensitive_features)}, "
            f"window={spec!r})"
        )

    def close(self) -> None:
        """Close the store (everything acknowledged is already on disk)."""
        self._store.close()

    def __enter__(self) -> FairnessMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------

    def _encode_groups(self, sensitive_features: Any, n: int) -> tuple[np.ndarray, list[tuple]]:
        """Per-row local group code and each code's sensitive values (as text)."""
        if isinstance(sensitive_features, pd.DataFrame):
            columns = {str(c): sensitive_features[c] for c in sensitive_features.columns}
        elif isinstance(sensitive_features, Mapping):
            columns = {str(k): v for k, v in sensitive_features.items()}
        else:
            raise TypeError(
                "sensitive_features must be a DataFrame or a mapping of column name to values, "
                f"got {type(sensitive_features).__name__}."
            )
        expected = set(self.sensitive_features)
        got = set(columns)
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            raise DataError(
                f"sensitive_features has columns {sorted(got)} but the monitor counts by "
                f"{list(self.sensitive_features)} (missing {missing}, unexpected {extra}); "
                "pass exactly the monitor's sensitive features."
            )
        codes = np.zeros(n, dtype=np.int64)
        uniques_per: list[list[str]] = []
        for name in self.sensitive_features:
            raw = columns[name]
            if isinstance(raw, pd.Series | pd.Index) or (
                isinstance(raw, np.ndarray) and raw.ndim == 1
            ):
                col = raw  # factorized as is: no conversion to a pandas string column
            else:
                col = as_1d(raw, name=f"sensitive_features[{name!r}]")
            if len(col) != n:
                raise DataError(
                    f"sensitive_features[{name!r}] has {len(col)} rows but y_pred has {n}."
                )
            c, u = pd.factorize(col, use_na_sentinel=True)
            if (c < 0).any():
                bad = np.flatnonzero(c < 0)
                raise MissingValueError(
                    f"sensitive_features[{name!r}] has missing values at rows "
                    f"{format_values(bad)}; fill them (e.g. with 'unknown') first."
                )
            text = [str(v.item() if isinstance(v, np.generic) else v) for v in u]
            # values that read the same as text (1 and "1") are one group
            t_codes, t_uniques = pd.factorize(pd.Index(text, dtype=object))
            uniques_per.append(list(t_uniques))
            codes = codes * len(t_uniques) + t_codes[c]
        local, inverse = _compact(codes)
        keys = []
        for value in local:
            parts = []
            rest = int(value)
            for levels in reversed(uniques_per):
                parts.append(levels[rest % len(levels)])
                rest //= len(levels)
            keys.append(tuple(reversed(parts)))
        return inverse.astype(np.int64), keys

    def _windows_of(self, ts: np.ndarray, cur: sqlite3.Cursor, n: int) -> np.ndarray:
        if self.window_kind == "rows":
            seen = int(Store.get_meta(cur, "rows_seen"))
            Store.add_meta(cur, "rows_seen", n)
            return (seen + np.arange(n, dtype=np.int64)) // self.window_size
        return (np.floor(ts / self.window_size) * self.window_size).astype(np.int64)

    def update(
        self,
        y_pred: Any,
        sensitive_features: Any,
        *,
        y_true: Any = None,
        y_score: Any = None,
        ids: Any = None,
        timestamps: Any = None,
        batch_id: str | None = None,
    ) -> int:
        """Add a batch of predictions; returns once the batch is durable on disk.

        Parameters
        ----------
        y_pred : array-like of shape (n_samples,)
            Decisions (two labels, one of them the monitor's ``pos_label``).
        sensitive_features : DataFrame or mapping of str to array-like
            Exactly the monitor's sensitive columns; values are kept as text.
        y_true : array-like of shape (n_samples,), optional
            Outcomes, when known now. Otherwise give ``ids`` and send them later with
            :meth:`update_labels`.
        y_score : array-like of shape (n_samples,), optional
            The model's probability of the positive label (in [0, 1]), rounded to the
            monitor's ``score_decimals`` when set. Kept per window and group as score atoms
            (distinct score x outcome -> count) for ROC AUC, the Brier score and the
            calibration error; a prediction whose label has not arrived keeps its score
            until :meth:`update_labels` (by id) moves it to its outcome, and until then counts
            only in the label-free ``scored`` / ``mean_score`` of :meth:`counts`.
        ids : array-like of shape (n_samples,), optional
            Unique ids (text) of the predictions, to join late labels. Ids must be new.
        timestamps : array-like of shape (n_samples,) or scalar, optional
            When each prediction was made (datetimes, ISO strings or Unix seconds; naive means
            UTC); default now. Out-of-order times are fine: each row goes to its own window.
            Ignored by row-count windows.
        batch_id : str, optional
            An id for the batch. A batch whose id the store already holds is skipped (returns
            0), so a producer may resend after a crash without counting twice.

        Returns
        -------
        int
            Rows added (0 when ``batch_id`` was already applied).

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["sex"])
        >>> mon.update([1, 0], {"sex": ["F", "M"]}, batch_id="b1")
        2
        >>> mon.update([1, 0], {"sex": ["F", "M"]}, batch_id="b1")  # resent: skipped
        0
        >>> mon.close()

        With scores, ROC AUC and the Brier score per group follow once labels arrive:

        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["sex"], min_group_size=1, score_decimals=2)
        >>> mon.update([1, 0, 1, 0], {"sex": ["F", "F", "M", "M"]}, y_score=[0.904, 0.2, 0.7, 0.4],
        ...            ids=["a", "b", "c", "d"])
        4
        >>> mon.update_labels(["a", "b", "c", "d"], [1, 0, 0, 1])
        4
        >>> mon.current().by_group[["roc_auc", "brier_score"]]
             roc_auc  brier_score
        sex
        F        1.0        0.025
        M        0.0        0.425
        >>> mon.close()
        """
        if batch_id is not None and not isinstance(batch_id, str):
            raise TypeError(f"batch_id must be a str, got {type(batch_id).__name__}.")
        pred = _binary(y_pred, name="y_pred", pos_label=self.pos_label, n=None)
        n = len(pred)
        if n == 0:
            raise DataError("y_pred is empty; pass at least one prediction.")
        group, keys = self._encode_groups(sensitive_features, n)
        true = (
            None
            if y_true is None
            else _binary(y_true, name="y_true", pos_label=self.pos_label, n=n)
        )
        score = (
            None if y_score is None else validate_scores(y_score, n=n, decimals=self.score_decimals)
        )
        id_list = None if ids is None else _ids(ids, name="ids", n=n)
        if timestamps is None:
            ts = np.full(1, self._clock())
        else:
            ts = _epoch_seconds(timestamps, name="timestamps", n=None)
            if ts.size not in (1, n):
                raise DataError(
                    f"timestamps has {ts.size} rows but y_pred has {n}; pass one per row "
                    "(or one for the whole batch)."
                )
        cell = (2 * true + pred) if true is not None else (UNLABELED + pred)
        cell = cell.astype(np.int64)
        with self._store.transaction() as cur:
            if batch_id is not None and self._seen_batch(cur, batch_id):
                return 0
            window = self._windows_of(ts, cur, n)
            gids = self._store.group_ids(cur, keys)
            if window.size == 1:
                w_unique, w_local = window, np.zeros(n, dtype=np.int64)
            else:
                w_unique, w_local = _compact(window)
            n_groups = len(keys)
            code = (w_local * n_groups + group) * 6 + cell
            counts = np.bincount(code, minlength=len(w_unique) * n_groups * 6)
            nz = np.flatnonzero(counts)
            rows = [
                (
                    int(w_unique[k // (6 * n_groups)]),
                    int(gids[(k // 6) % n_groups]),
                    int(k % 6),
                    int(counts[k]),
                )
                for k in nz
            ]
            cur.executemany(
                "INSERT INTO counts VALUES (?, ?, ?, ?) ON CONFLICT (window, group_id, cell) "
                "DO UPDATE SET n = n + excluded.n",
                rows,
            )
            if score is not None:
                self._insert_atoms(cur, w_unique, w_local, gids, group, score, true)
            if id_list is not None:
                self._insert_ids(cur, id_list, window, gids[group], pred, true, score)
            Store.add_meta(cur, "rows_received", n)
            self._finish(cur, batch_id, "predictions", n)
        return n

    @staticmethod
    def _insert_atoms(
        cur: sqlite3.Cursor,
        w_unique: np.ndarray,
        w_local: np.ndarray,
        gids: np.ndarray,
        group: np.ndarray,
        score: np.ndarray,
        true: np.ndarray | None,
    ) -> None:
        """Add the batch's rows to the score atoms (window, group, score, label)."""
        n_groups = len(gids)
        wg_distinct, wg = _compact(w_local * n_groups + group)
        label = (
            np.full(len(score), UNLABELED_SCORE, dtype=np.int64)
            if true is None
            else true.astype(np.int64)
        )
        cell, values, lab, counts = batch_atoms(wg, score, label)
        key = wg_distinct[cell]
        cur.executemany(
            "INSERT INTO score_atoms VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (window, group_id, score, label) DO UPDATE SET n = n + excluded.n",
            zip(
                w_unique[key // n_groups].tolist(),
                gids[key % n_groups].tolist(),
                values.tolist(),
                lab.tolist(),
                counts.tolist(),
                strict=True,
            ),
        )

    def _seen_batch(self, cur: sqlite3.Cursor, batch_id: str) -> bool:
        row = cur.execute("SELECT 1 FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        return row is not None

    def _finish(self, cur: sqlite3.Cursor, batch_id: str | None, kind: str, n: int) -> None:
        if batch_id is not None:
            cur.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?)", (batch_id, kind, n, self._clock())
            )
        Store.add_meta(cur, "revision", 1)
        if self.keep is not None:
            self._apply_retention(cur)

    def _insert_ids(
        self,
        cur: sqlite3.Cursor,
        id_list: list[str],
        window: np.ndarray,
        gid_per_row: np.ndarray,
        pred: np.ndarray,
        true: np.ndarray | None,
        score: np.ndarray | None,
    ) -> None:
        n = len(id_list)
        w = np.broadcast_to(window, (n,)).tolist()
        g = gid_per_row.tolist()
        p = pred.tolist()
        labels: list[Any] = [None] * n if true is None else true.tolist()
        scores: list[Any] = [None] * n if score is None else score.tolist()
        try:
            cur.executemany(
                "INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?)",
                zip(id_list, w, g, p, labels, scores, strict=True),
            )
        except sqlite3.IntegrityError as exc:
            found: list[str] = []
            for start in range(0, n, _CHUNK):
                chunk = id_list[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                found += [
                    r[0]
                    for r in cur.execute(f"SELECT id FROM predictions WHERE id IN ({marks})", chunk)
                ]
                if len(found) >= 5:
                    break
            raise DataError(
                f"ids {format_values(found)} were already recorded by an earlier batch; "
                "each prediction needs a new id (nothing of this batch was stored)."
            ) from exc
        if true is None:
            Store.add_meta(cur, "pending_labels", n)
        # labels that arrived before their prediction
        if cur.execute("SELECT 1 FROM orphan_labels LIMIT 1").fetchone() is not None:
            rows = cur.execute(
                "SELECT o.id, o.label, p.window, p.group_id, p.pred, p.score FROM orphan_labels o "
                "JOIN predictions p ON p.id = o.id WHERE p.label IS NULL"
            ).fetchall()
            if rows:
                self._move_labels(cur, [(r[2], r[3], r[4], r[1], 1) for r in rows])
                self._move_score_labels(
                    cur, [(r[2], r[3], r[5], r[1], 1) for r in rows if r[5] is not None]
                )
                cur.executemany(
                    "UPDATE predictions SET label = ? WHERE id = ?", [(r[1], r[0]) for r in rows]
                )
                cur.executemany("DELETE FROM orphan_labels WHERE id = ?", [(r[0],) for r in rows])
                Store.add_meta(cur, "labels_matched", len(rows))
                Store.add_meta(cur, "pending_labels", -len(rows))
                Store.add_meta(cur, "orphan_labels", -len(rows))

    @staticmethod
    def _move_labels(cur: sqlite3.Cursor, moves: list[tuple[int, int, int, int, int]]) -> None:
        """(window, group, pred, label, count): unlabelled cell -> labelled cell."""
        cur.executemany(
            "UPDATE counts SET n = n - ? WHERE window = ? AND group_id = ? AND cell = ?",
            [(c, w, g, UNLABELED + p) for w, g, p, _, c in moves],
        )
        cur.executemany(
            "INSERT INTO counts VALUES (?, ?, ?, ?) ON CONFLICT (window, group_id, cell) "
            "DO UPDATE SET n = n + excluded.n",
            [(w, g, 2 * lab + p, c) for w, g, p, lab, c in moves],
        )

    @staticmethod
    def _move_score_labels(
        cur: sqlite3.Cursor, moves: list[tuple[int, int, float, int, int]]
    ) -> None:
        """(window, group, score, label, count): unlabelled score atom -> labelled atom."""
        if not moves:
            return
        where = "window = ? AND group_id = ? AND score = ? AND label = ?"
        cur.executemany(
            f"UPDATE score_atoms SET n = n - ? WHERE {where}",
            [(c, w, g, s, UNLABELED_SCORE) for w, g, s, _, c in moves],
        )
        cur.executemany(
            "INSERT INTO score_atoms VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (window, group_id, score, label) DO UPDATE SET n = n + excluded.n",
            [(w, g, s, lab, c) for w, g, s, lab, c in moves],
        )
        cur.executemany(
            f"DELETE FROM score_atoms WHERE {where} AND n = 0",
            [(w, g, s, UNLABELED_SCORE) for w, g, s, _, _ in moves],
        )

    def update_labels(self, ids: Any, y_true: Any, *, batch_id: str | None = None) -> int:
        """Add outcomes that arrive after their predictions, matched by id.

        Parameters
        ----------
        ids : array-like of shape (n_samples,)
            Ids given to :meth:`update`. Unknown ids are kept as orphan labels (counted in
            :attr:`orphan_labels`) and joined if their prediction arrives later.
        y_true : array-like of shape (n_samples,)
            The outcomes.
        batch_id : str, optional
            As in :meth:`update`: a batch already applied is skipped.

        Returns
        -------
        int
            Labels matched to a stored prediction now.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["sex"])
        >>> mon.update([1, 0], {"sex": ["F", "M"]}, ids=["a", "b"])
        2
        >>> mon.update_labels(["a", "zz"], [1, 0])
        1
        >>> mon.orphan_labels
        1
        >>> mon.close()
        """
        if batch_id is not None and not isinstance(batch_id, str):
            raise TypeError(f"batch_id must be a str, got {type(batch_id).__name__}.")
        true = _binary(y_true, name="y_true", pos_label=self.pos_label, n=None)
        n = len(true)
        if n == 0:
            raise DataError("y_true is empty; pass at least one label.")
        id_list = _ids(ids, name="ids", n=n)
        with self._store.transaction() as cur:
            if batch_id is not None and self._seen_batch(cur, batch_id):
                return 0
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS incoming_labels "
                "(id TEXT PRIMARY KEY, label INTEGER) WITHOUT ROWID"
            )
            cur.execute("DELETE FROM incoming_labels")
            cur.executemany(
                "INSERT INTO incoming_labels VALUES (?, ?)",
                zip(id_list, true.tolist(), strict=True),
            )
            again = [
                r[0]
                for r in cur.execute(
                    "SELECT l.id FROM incoming_labels l JOIN predictions p ON p.id = l.id "
                    "WHERE p.label IS NOT NULL LIMIT 5"
                )
            ]
            again += [
                r[0]
                for r in cur.execute(
                    "SELECT l.id FROM incoming_labels l JOIN orphan_labels o ON o.id = l.id LIMIT 5"
                )
            ]
            if again:
                raise DataError(
                    f"ids {format_values(again)} already have a label; each outcome is "
                    "recorded once (nothing of this batch was stored)."
                )
            moves = cur.execute(
                "SELECT p.window, p.group_id, p.pred, l.label, COUNT(*) FROM incoming_labels l "
                "JOIN predictions p ON p.id = l.id GROUP BY 1, 2, 3, 4"
            ).fetchall()
            self._move_labels(cur, moves)
            self._move_score_labels(
                cur,
                cur.execute(
                    "SELECT p.window, p.group_id, p.score, l.label, COUNT(*) FROM "
                    "incoming_labels l JOIN predictions p ON p.id = l.id "
                    "WHERE p.score IS NOT NULL GROUP BY 1, 2, 3, 4"
                ).fetchall(),
            )
            matched = sum(m[4] for m in moves)
            cur.execute(
                "UPDATE predictions SET label = (SELECT label FROM incoming_labels l "
                "WHERE l.id = predictions.id) WHERE id IN (SELECT id FROM incoming_labels)"
            )
            orphaned = cur.execute(
                "INSERT INTO orphan_labels SELECT l.id, l.label, ? FROM incoming_labels l "
                "WHERE NOT EXISTS (SELECT 1 FROM predictions p WHERE p.id = l.id)",
                (self._clock(),),
            ).rowcount
            Store.add_meta(cur, "labels_received", n)
            Store.add_meta(cur, "labels_matched", matched)
            Store.add_meta(cur, "pending_labels", -matched)
            Store.add_meta(cur, "orphan_labels", orphaned)
            self._finish(cur, batch_id, "labels", n)
        return int(matched)

    def _apply_retention(self, cur: sqlite3.Cursor) -> None:
        assert self.keep is not None
        row = cur.execute("SELECT MAX(window) FROM counts").fetchone()
        if row is None or row[0] is None:
            return
        newest = int(row[0])
        unit, amount = self.keep
        if unit == "windows":
            step = 1 if self.window_kind == "rows" else self.window_size
            cutoff = newest - (amount - 1) * step
        else:
            cutoff = newest + self.window_size - amount
        cur.execute("DELETE FROM counts WHERE window < ?", (cutoff,))
        cur.execute("DELETE FROM score_atoms WHERE window < ?", (cutoff,))
        dropped = cur.execute(
            "SELECT COUNT(*) FROM predictions WHERE window < ? AND label IS NULL", (cutoff,)
        ).fetchone()[0]
        Store.add_meta(cur, "pending_labels", -int(dropped))
        cur.execute("DELETE FROM predictions WHERE window < ?", (cutoff,))

    # -- reading -------------------------------------------------------------------------------

    @property
    def counters(self) -> dict[str, int]:
        """Totals since the store was created.

        Keys ``rows_received``, ``labels_received``, ``labels_matched``, ``orphan_labels``,
        ``pending_labels`` (predictions with an id still waiting for a label) and
        ``revision`` (number of applied batches).
        """
        with self._store.reading() as cur:
            meta = dict(cur.execute("SELECT key, value FROM fairaudit_meta").fetchall())
        return {
            "rows_received": int(meta["rows_received"]),
            "labels_received": int(meta["labels_received"]),
            "labels_matched": int(meta["labels_matched"]),
            "orphan_labels": int(meta["orphan_labels"]),
            "pending_labels": int(meta["pending_labels"]),
            "revision": int(meta["revision"]),
        }

    @property
    def orphan_labels(self) -> int:
        """Number of labels whose id matches no stored prediction (kept, not dropped)."""
        return self.counters["orphan_labels"]

    def revision(self) -> int:
        """Return the number of batches applied to the store (any process's writes count)."""
        with self._store.reading() as cur:
            return int(Store.get_meta(cur, "revision"))

    def windows(self) -> list[Any]:
        """Keys of the windows holding data, oldest first (UTC Timestamps, or row-window numbers).

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["sex"], window="1d")
        >>> mon.update([1, 0], {"sex": ["F", "M"]}, timestamps=["2026-03-02", "2026-03-01"])
        2
        >>> mon.windows()
        [Timestamp('2026-03-01 00:00:00+0000', tz='UTC'), Timestamp('2026-03-02 00:00:00+0000', tz='UTC')]
        >>> mon.close()
        """
        return [self._window_key(w) for w in self._window_ids()]

    def _window_ids(self) -> list[int]:
        with self._store.reading() as cur:
            return [int(r[0]) for r in cur.execute("SELECT DISTINCT window FROM counts ORDER BY 1")]

    def _window_key(self, w: int) -> Any:
        if self.window_kind == "rows":
            return int(w)
        return pd.Timestamp(w, unit="s", tz="UTC")

    def _window_id(self, t: Any, *, name: str = "t") -> int:
        if self.window_kind == "rows":
            if isinstance(t, bool) or not isinstance(t, int | np.integer):
                raise TypeError(f"{name} must be a row-window number (int), got {t!r}.")
            return int(t)
        if isinstance(t, bool):
            raise TypeError(f"{name} must be a time, got {t!r}.")
        seconds = float(_epoch_seconds(t, name=name, n=None)[0])
        return int(math.floor(seconds / self.window_size) * self.window_size)

    def _cells(self, window_ids: list[int] | None) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """(G, 6) cells summed over the windows (all windows when None) and the group keys."""
        cells, keys, _ = self._snapshot(window_ids, atoms=False)
        return cells, keys

    def _snapshot(
        self, window_ids: list[int] | None, *, atoms: bool = True
    ) -> tuple[np.ndarray, list[tuple[str, ...]], RawAtoms]:
        """Cells, group keys and score atoms of the windows, read in one transaction.

        The atoms' groups are positions in the keys (a scored prediction is always counted
        in the cells of its window and group too); with several windows an atom may appear
        once per window (its counts add).
        """
        with self._store.reading() as cur:
            rows = self._select_windows(
                cur, "SELECT group_id, cell, SUM(n) FROM counts", "GROUP BY 1, 2", window_ids
            )
            # the atoms as stored (one row per window, group, score, label): summing over
            # windows in SQL would sort them; the count table's atoms are summed in numpy
            atom_rows = (
                self._select_windows(
                    cur, "SELECT group_id, score, label, n FROM score_atoms", "", window_ids
                )
                if atoms
                else []
            )
            table = np.array(rows, dtype=np.int64).reshape(-1, 3)
            gids, pos = np.unique(table[:, 0], return_inverse=True)
            cells = np.zeros((len(gids), 6), dtype=np.int64)
            np.add.at(cells, (pos.ravel(), table[:, 1]), table[:, 2])
            keys = [self._store.group_key(cur, int(g)) for g in gids]
        raw = RawAtoms.empty()
        if atom_rows:
            atom_gids = np.array([r[0] for r in atom_rows], dtype=np.int64)
            raw = RawAtoms(
                group=np.searchsorted(gids, atom_gids).astype(np.intp),
                score=np.array([r[1] for r in atom_rows], dtype=np.float64),
                label=np.array([r[2] for r in atom_rows], dtype=np.int64),
                n=np.array([r[3] for r in atom_rows], dtype=np.int64),
            )
            nz = raw.n > 0
            if not nz.all():
                raw = RawAtoms(raw.group[nz], raw.score[nz], raw.label[nz], raw.n[nz])
        return cells, keys, raw

    @staticmethod
    def _select_windows(
        cur: sqlite3.Cursor, select: str, group_by: str, window_ids: list[int] | None
    ) -> list[Any]:
        """Rows of ``select ... WHERE window IN (...) group_by``, the IN list in chunks."""
        if window_ids is None:
            return cur.execute(f"{select} {group_by}").fetchall()
        rows: list[Any] = []
        for start in range(0, len(window_ids), _CHUNK):
            chunk = window_ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += cur.execute(f"{select} WHERE window IN ({marks}) {group_by}", chunk).fetchall()
        return rows

    def _rows_for(self, rows: str | None, metrics: tuple[str, ...]) -> str:
        """Pick the cells of the rate metrics (score metrics always use labelled scored rows)."""
        rates = tuple(m for m in metrics if not is_score_metric(m))
        labelled_rates = [m for m in rates if m not in _LABEL_FREE]
        needs_labels = bool(labelled_rates) or (bool(metrics) and not rates)
        if rows is None:
            return "labeled" if needs_labels else "all"
        if rows not in ("all", "labeled"):
            raise ValueError(f"rows must be 'all', 'labeled' or None, got {rows!r}.")
        if rows == "all" and labelled_rates:
            raise ValueError(
                f"rows='all' counts predictions whose label may not have arrived, but metrics "
                f"{labelled_rates} need labels; use rows='labeled'."
            )
        return rows

    @staticmethod
    def _select(cells6: np.ndarray, rows: str) -> np.ndarray:
        """(G, 4) TN FP FN TP cells: labelled only, or every prediction (as if y_true = 0)."""
        labeled = cells6[:, :4].copy()
        if rows == "labeled":
            return labeled
        # every prediction: negatives and positives regardless of label (selection rate)
        out = np.zeros_like(labeled)
        out[:, 0] = labeled[:, 0] + labeled[:, 2] + cells6[:, UNLABELED]
        out[:, 1] = labeled[:, 1] + labeled[:, 3] + cells6[:, UNLABELED + 1]
        return out

    @property
    def _reports_scores(self) -> bool:
        """Whether the monitor's own metrics include score metrics (when scores are stored)."""
        return self._auto_scores or any(is_score_metric(m) for m in self.metrics)

    def _names(self, metrics: Any, scored: bool) -> tuple[str, ...]:
        """Return the requested metrics; the default adds the score metrics when ``scored``."""
        if metrics is not None:
            return tuple(metrics)
        names = self.metrics
        if self._auto_scores and scored:
            names += tuple(m for m in SCORE_METRICS if m not in names)
        return names

    def _table(
        self,
        cells6: np.ndarray,
        keys: list[tuple[str, ...]],
        raw: RawAtoms,
        which: str,
        names: tuple[str, ...],
        label: str,
    ) -> Any:
        """Build the count table of a snapshot: the selected cells, the labelled score atoms.

        Raises DataError when it has no selected rows, or no labelled scores while score
        metrics are asked for; warns when some labelled predictions came without a score.
        """
        cells = self._select(cells6, which)
        if cells.sum() == 0:
            raise DataError(
                f"{label} has no {'labelled ' if which == 'labeled' else ''}predictions; "
                "pick a window that has (see windows())."
            )
        scored = [m for m in names if is_score_metric(m)]
        labelled = raw.labelled()
        if scored and labelled.n.sum() == 0:
            raise DataError(
                f"{label} has no labelled predictions given with y_score, which {scored} "
                "need; pass y_score to update() (and the labels), or leave these metrics out."
            )
        if scored:
            n_scored = int(labelled.n.sum())
            n_labelled = int(cells6[:, :4].sum())
            if n_scored < n_labelled:
                warnings.warn(
                    f"{scored} of {label} use the {n_scored} of its {n_labelled} labelled "
                    "predictions that came with y_score (the others were sent without one).",
                    FairauditWarning,
                    stacklevel=4,
                )
        return cells_to_table(
            cells,
            keys,
            self.sensitive_features,
            pos_label=self.pos_label,
            atoms=raw if labelled.n.size or scored else None,
        )

    def _metrics_of(
        self,
        window_ids: list[int] | None,
        *,
        rows: str | None,
        metrics: list[str] | None,
        n_boot: int,
        random_state: Any,
        label: str,
    ) -> GroupMetrics:
        cells6, keys, raw = self._snapshot(window_ids)
        names = self._names(metrics, raw.has_labelled())
        which = self._rows_for(rows, names)
        table = self._table(cells6, keys, raw, which, names, label)
        gm = table_group_metrics(
            table,
            metrics=names,
            pos_label=self.pos_label,
            confidence=self.confidence,
            n_boot=n_boot,
            random_state=random_state,
            min_group_size=self.min_group_size,
        )
        gm.provenance["parameters"]["rows"] = which
        gm.provenance["parameters"]["window"] = label
        return gm

    def current(
        self,
        *,
        rows: Literal["all", "labeled"] | None = None,
        metrics: list[str] | None = None,
        n_boot: int = 0,
        random_state: int | np.random.Generator | None = None,
    ) -> GroupMetrics:
        """GroupMetrics of the newest window holding data.

        Parameters
        ----------
        rows : {"all", "labeled"}, optional
            Count every prediction (only for metrics that need no label, such as
            ``selection_rate``) or only those whose label has arrived. Default: ``"all"``
            when every metric needs no label, else ``"labeled"``.
        metrics : list of str, optional
            Default: the monitor's metrics.
        n_boot : int, default 0
            Bootstrap replicates; 0 gives Wilson intervals.
        random_state : int or Generator, optional
            Seed of the bootstrap.

        Returns
        -------
        GroupMetrics

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], min_group_size=1)
        >>> mon.update([1, 0, 1], {"g": ["a", "a", "b"]})
        3
        >>> round(float(mon.current().ci.loc["a", ("selection_rate", "upper")]), 3)
        0.905
        >>> mon.close()
        """
        ids = self._window_ids()
        if not ids:
            raise DataError("the monitor's store holds no predictions yet; call update() first.")
        return self._metrics_of(
            [ids[-1]],
            rows=rows,
            metrics=metrics,
            n_boot=n_boot,
            random_state=random_state,
            label=f"window {self._window_key(ids[-1])}",
        )

    def window(
        self,
        t: Any,
        *,
        rows: Literal["all", "labeled"] | None = None,
        metrics: list[str] | None = None,
        n_boot: int = 0,
        random_state: int | np.random.Generator | None = None,
    ) -> GroupMetrics:
        """GroupMetrics of the window containing time ``t`` (a row window's number).

        Parameters are those of :meth:`current`.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], window=2, min_group_size=1)
        >>> mon.update([1, 0, 0, 0], {"g": ["a", "b", "a", "b"]})
        4
        >>> mon.window(0).by_group["selection_rate"].tolist()
        [1.0, 0.0]
        >>> mon.close()
        """
        wid = self._window_id(t)
        return self._metrics_of(
            [wid],
            rows=rows,
            metrics=metrics,
            n_boot=n_boot,
            random_state=random_state,
            label=f"window {self._window_key(wid)}",
        )

    def history(
        self,
        *,
        rows: Literal["all", "labeled"] | None = None,
        metrics: list[str] | None = None,
        n_boot: int = 0,
        random_state: int | np.random.Generator | None = None,
    ) -> dict[Any, GroupMetrics]:
        """GroupMetrics of every window holding (selected) rows, oldest first.

        Returns
        -------
        dict
            Window key (UTC Timestamp of the window's start, or row-window number) ->
            GroupMetrics. Windows without the selected rows are left out.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], window=2, min_group_size=1)
        >>> mon.update([1, 0, 0, 0], {"g": ["a", "b", "a", "b"]})
        4
        >>> {k: gm.by_group["selection_rate"].tolist() for k, gm in mon.history().items()}
        {0: [1.0, 0.0], 1: [0.0, 0.0]}
        >>> mon.close()
        """
        out: dict[Any, GroupMetrics] = {}
        self._rows_for(rows, self.metrics if metrics is None else tuple(metrics))  # checks
        for wid in self._window_ids():
            cells6, _, raw = self._snapshot([wid])
            names = self._names(metrics, raw.has_labelled())
            if self._select(cells6, self._rows_for(rows, names)).sum() == 0:
                continue
            if any(is_score_metric(m) for m in names) and raw.labelled().n.sum() == 0:
                continue
            out[self._window_key(wid)] = self._metrics_of(
                [wid],
                rows=rows,
                metrics=metrics,
                n_boot=n_boot,
                random_state=random_state,
                label=f"window {self._window_key(wid)}",
            )
        return out

    def counts(self, t: Any = None) -> pd.DataFrame:
        """Return the count table of a window (every window when ``t`` is None) as a frame.

        Returns
        -------
        pandas.DataFrame
            One row per group (the sensitive columns), then the counts ``TN``, ``FP``,
            ``FN``, ``TP`` of labelled predictions and ``unlabeled_negative``,
            ``unlabeled_positive`` of predictions whose label has not arrived. When the
            windows hold scores, also ``scored`` (predictions given with ``y_score``, labelled
            or not) and ``mean_score`` (their mean score): the label-free score measures.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"])
        >>> mon.update([1, 0], {"g": ["a", "a"]}, y_true=[1, 1])
        2
        >>> mon.counts().to_dict("records")
        [{'g': 'a', 'TN': 0, 'FP': 0, 'FN': 1, 'TP': 1, 'unlabeled_negative': 0, 'unlabeled_positive': 0}]
        >>> mon.close()
        """
        ids = None if t is None else [self._window_id(t)]
        cells6, keys, raw = self._snapshot(ids)
        frame = pd.DataFrame(keys, columns=list(self.sensitive_features), dtype=object)
        names = ["TN", "FP", "FN", "TP", "unlabeled_negative", "unlabeled_positive"]
        for j, name in enumerate(names):
            frame[name] = cells6[:, j] if len(keys) else np.zeros(0, dtype=np.int64)
        if raw.n.size:
            # label-free score measures: every scored prediction, labelled or not
            scored = raw.per_group(len(keys))
            total = np.bincount(raw.group, weights=raw.n * raw.score, minlength=len(keys))
            frame["scored"] = scored
            with np.errstate(divide="ignore", invalid="ignore"):
                frame["mean_score"] = np.where(scored > 0, total / np.maximum(scored, 1), np.nan)
        return frame.sort_values(list(self.sensitive_features), ignore_index=True)

    def count_table(self, t: Any = None, *, rows: Literal["all", "labeled"] = "labeled") -> Any:
        """Export a window (every window when ``t`` is None) as a count table.

        Parameters
        ----------
        t : optional
            A time in the window (a row window's number); None pools every stored window.
        rows : {"labeled", "all"}, default "labeled"
            ``"labeled"``: the predictions whose outcome has arrived (every metric is
            meaningful). ``"all"``: every prediction, with outcomes not yet known counted as
            negatives, so that only ``selection_rate`` is meaningful.

        Returns
        -------
        fairaudit.metrics.CountTable
            When the store holds scores, the table carries the score atoms of the labelled
            predictions given with ``y_score`` (with either ``rows``; possibly none, so that
            tables of any two windows add), from which ``roc_auc``, ``brier_score`` and
            ``calibration_error`` are exact. Add it to other tables with ``+``, store it with ``to_parquet``, or pass it to
            :func:`fairaudit.group_metrics`.

        Examples
        --------
        >>> import tempfile, os
        >>> import fairaudit as fa
        >>> mon = fa.monitor.FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                                  sensitive_features=["g"])
        >>> mon.update([1, 0, 1], {"g": ["a", "a", "b"]}, y_true=[1, 1, 0])
        3
        >>> table = mon.count_table()
        >>> table.cell_n.tolist()  # per group: TN, FP, FN, TP
        [[0, 0, 1, 1], [0, 1, 0, 0]]
        >>> fa.group_metrics(table, metrics=["selection_rate"],
        ...                  min_group_size=1).by_group["selection_rate"].tolist()
        [0.5, 1.0]
        >>> mon.close()
        """
        if rows not in ("all", "labeled"):
            raise ValueError(f"rows must be 'all' or 'labeled', got {rows!r}.")
        ids = None if t is None else [self._window_id(t)]
        cells6, keys, raw = self._snapshot(ids)
        return cells_to_table(
            self._select(cells6, rows),
            keys,
            self.sensitive_features,
            pos_label=self.pos_label,
            atoms=raw if self._has_scores() else None,
        )

    def _has_scores(self) -> bool:
        """Whether the store holds any score atoms (its tables then all carry atoms)."""
        with self._store.reading() as cur:
            return cur.execute("SELECT 1 FROM score_atoms LIMIT 1").fetchone() is not None

    # -- drift -----------------------------------------------------------------------------

    def _reference_ids(self, all_ids: list[int]) -> list[int]:
        ref = self.reference
        if ref is None:
            return all_ids[:1]
        if isinstance(ref, tuple) and len(ref) == 2:
            lo, hi = (
                self._window_id(ref[0], name="reference"),
                self._window_id(ref[1], name="reference"),
            )
            return [w for w in all_ids if lo <= w < hi]
        return [self._window_id(ref, name="reference")]

    def drift(
        self,
        window: Any = None,
        *,
        against: Literal["reference", "previous"] = "reference",
        rows: Literal["all", "labeled"] | None = None,
        metrics: list[str] | None = None,
        n_boot: int = 1000,
        confidence: float | None = None,
        alpha: float = 0.05,
        random_state: int | np.random.Generator | None = None,
    ) -> DriftResult:
        """Test whether a window's group metrics differ from the reference or previous window.

        Parameters
        ----------
        window : optional
            A time in the window to test (a row window's number); default the newest window.
        against : {"reference", "previous"}, default "reference"
            Compare with the monitor's ``reference`` or with the window just before (the
            newest earlier window holding data).
        rows, metrics
            As in :meth:`current`; label-free metrics count every prediction by default.
        n_boot : int, default 1000
            Bootstrap replicates of the disparity changes (0: no intervals).
        confidence : float, optional
            Of the intervals; default the monitor's.
        alpha : float, default 0.05
            Level at which a BH-adjusted p-value flags a change.
        random_state : int or Generator, optional
            Seed of the bootstrap.

        Returns
        -------
        DriftResult
            Table A is the reference (or previous) window, table B the tested one.

        Examples
        --------
        >>> import tempfile, os
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], window=200)
        >>> mon.update([1, 0] * 100 + [1] * 200, {"g": ["a", "b"] * 200})
        400
        >>> d = mon.drift(1, against="previous", n_boot=0)
        >>> d.to_frame()[["group", "value_a", "value_b", "p_value_adjusted"]].round(4)
          group  value_a  value_b  p_value_adjusted
        0     a      1.0      1.0               1.0
        1     b      0.0      1.0               0.0
        >>> mon.close()
        """
        if against not in ("reference", "previous"):
            raise ValueError(f"against must be 'reference' or 'previous', got {against!r}.")
        all_ids = self._window_ids()
        if not all_ids:
            raise DataError("the monitor's store holds no predictions yet; call update() first.")
        wid = all_ids[-1] if window is None else self._window_id(window, name="window")
        if against == "previous":
            earlier = [w for w in all_ids if w < wid]
            if not earlier:
                raise DataError(
                    f"window {self._window_key(wid)} has no earlier window to compare with."
                )
            ref_ids = earlier[-1:]
        else:
            ref_ids = self._reference_ids(all_ids)
            if not ref_ids:
                raise DataError(f"the reference {self.reference!r} covers no stored window.")
        cells_a6, keys_a, raw_a = self._snapshot(ref_ids)
        cells_b6, keys_b, raw_b = self._snapshot([wid])
        names = self._names(metrics, raw_a.has_labelled() and raw_b.has_labelled())
        conf = self.confidence if confidence is None else confidence
        scored = tuple(m for m in names if is_score_metric(m))
        rates = tuple(m for m in names if not is_score_metric(m))
        free = tuple(m for m in rates if m in _LABEL_FREE)
        labeled = tuple(m for m in rates if m not in _LABEL_FREE)
        which = self._rows_for(rows, rates) if rows is not None and rates else None
        parts = []
        groups: list[tuple[str, tuple[str, ...]]] = []
        if not rates:
            pass
        elif which == "labeled" or (which is None and not free):
            groups.append(("labeled", rates))
        elif which == "all":
            groups.append(("all", rates))
        else:
            if free:
                groups.append(("all", free))
            if labeled:
                groups.append(("labeled", labeled))
        if scored:
            for side, raw in (("reference", raw_a), ("tested", raw_b)):
                if raw.labelled().n.sum() == 0:
                    raise DataError(
                        f"the {side} window has no labelled predictions given with y_score, "
                        f"which {list(scored)} need; leave these metrics out."
                    )
            groups.append(("scores", scored))
        rng = (
            np.random.default_rng(random_state)
            if not isinstance(random_state, np.random.Generator)
            else random_state
        )
        for sel, ms in groups:
            cells_sel = "labeled" if sel == "scores" else sel
            ta = cells_to_table(
                self._select(cells_a6, cells_sel),
                keys_a,
                self.sensitive_features,
                pos_label=self.pos_label,
                atoms=raw_a if sel == "scores" else None,
            )
            tb = cells_to_table(
                self._select(cells_b6, cells_sel),
                keys_b,
                self.sensitive_features,
                pos_label=self.pos_label,
                atoms=raw_b if sel == "scores" else None,
            )
            with warnings.catch_warnings():
                parts.append(
                    drift(
                        ta,
                        tb,
                        metrics=list(ms),
                        n_boot=n_boot,
                        confidence=conf,
                        alpha=alpha,
                        random_state=rng,
                    )
                )
        return parts[0] if len(parts) == 1 else DriftResult.concat(parts)

    # -- Prometheus ------------------------------------------------------------------------

    def collector(
        self, *, drift_against: Literal["reference", "previous"] | None = "previous"
    ) -> Any:
        """Return a ``prometheus_client`` collector exporting the current window.

        Parameters
        ----------
        drift_against : {"previous", "reference"} or None, default "previous"
            Which drift p-values to export (``None``: none).

        Returns
        -------
        fairaudit.monitor.FairnessCollector
            Register it with ``prometheus_client.REGISTRY.register(collector)`` or a
            ``CollectorRegistry``.

        Examples
        --------
        >>> import tempfile, os
        >>> from prometheus_client import CollectorRegistry, generate_latest
        >>> from fairaudit.monitor import FairnessMonitor
        >>> mon = FairnessMonitor(os.path.join(tempfile.mkdtemp(), "s.db"),
        ...                       sensitive_features=["g"], min_group_size=1)
        >>> _ = mon.update([1, 0, 1], {"g": ["a", "a", "b"]})
        >>> registry = CollectorRegistry()
        >>> registry.register(mon.collector())
        >>> text = generate_latest(registry).decode()
        >>> 'fairaudit_group_metric{group="a",metric="selection_rate"' in text
        True
        >>> mon.close()
        """
        from fairaudit.monitor._prometheus import FairnessCollector

        return FairnessCollector(self, drift_against=drift_against)
