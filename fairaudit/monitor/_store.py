"""The monitor's durable store: per-window count tables and pending predictions in SQLite.

One SQLite file holds everything a monitor knows. Every write is one ``BEGIN IMMEDIATE``
transaction committed with ``synchronous=FULL`` in write-ahead-log mode, so a write returns
only once it is on disk, a process killed at any moment leaves either the whole batch or
none of it, and two processes writing the same file are serialized by SQLite's lock (a writer
that waits longer than ``timeout`` seconds gets :class:`~fairaudit.exceptions.StoreLockedError`).

Tables (schema version 2)::

    fairaudit_meta  (key, value)                 format, schema_version, config, counters
    groups          (group_id, key)              key: JSON list of the sensitive values (text)
    counts          (window, group_id, cell, n)  cells 0-3: TN FP FN TP; 4, 5: unlabelled
                                                 predictions (negative, positive)
    score_atoms     (window, group_id, score, label, n)   predictions given with y_score, per
                                                 distinct score: label 0 negative, 1 positive,
                                                 2 not labelled yet
    predictions     (id, window, group_id, pred, label, score)   predictions given with an id
    orphan_labels   (id, label, received)        labels whose id matches no prediction
    batches         (batch_id, kind, n_rows, received)    ids of applied batches (idempotence)

Version 1 (fairaudit before scores were stored) lacks ``score_atoms`` and
``predictions.score``; opening such a store adds them in one transaction (its predictions
have no scores, which is what the empty table says) and marks it version 2.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fairaudit.exceptions import StoreError, StoreLockedError

__all__ = ["SCHEMA_VERSION", "Store"]

FORMAT = "fairaudit-monitor"
SCHEMA_VERSION = 2
UNLABELED = 4  # cell of an unlabelled prediction: UNLABELED + pred
SCORE_UNLABELED = 2  # score_atoms.label of a scored prediction whose label has not arrived

_SCHEMA = """
CREATE TABLE fairaudit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE groups (group_id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE counts (
    window INTEGER NOT NULL, group_id INTEGER NOT NULL, cell INTEGER NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (window, group_id, cell)) WITHOUT ROWID;
CREATE TABLE predictions (
    id TEXT PRIMARY KEY, window INTEGER NOT NULL, group_id INTEGER NOT NULL,
    pred INTEGER NOT NULL, label INTEGER, score REAL) WITHOUT ROWID;
CREATE INDEX predictions_window ON predictions (window);
CREATE TABLE orphan_labels (id TEXT PRIMARY KEY, label INTEGER NOT NULL, received REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE batches (
    batch_id TEXT PRIMARY KEY, kind TEXT NOT NULL, n_rows INTEGER NOT NULL,
    received REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE score_atoms (
    window INTEGER NOT NULL, group_id INTEGER NOT NULL, score REAL NOT NULL,
    label INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (window, group_id, score, label)) WITHOUT ROWID;
"""

# from schema version 1: the score column of pending predictions and the score atoms
_MIGRATE_1_2 = """
ALTER TABLE predictions ADD COLUMN score REAL;
CREATE TABLE score_atoms (
    window INTEGER NOT NULL, group_id INTEGER NOT NULL, score REAL NOT NULL,
    label INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (window, group_id, score, label)) WITHOUT ROWID;
"""

_SQLITE_HEADER = b"SQLite format 3\x00"


class Store:
    """A monitor store file (internal; :class:`FairnessMonitor` is the public face).

    Parameters
    ----------
    path : str or path-like
        The SQLite file; created when it does not exist (or is empty).
    config : dict or None
        The monitor's configuration, written when the store is created and compared with the
        stored one otherwise. ``None`` opens an existing store with its own configuration.
    timeout : float
        Seconds a writer waits for another process's lock before giving up.
    """

    def __init__(
        self, path: str | os.PathLike[str], config: dict[str, Any] | None, *, timeout: float
    ) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._group_keys: dict[int, tuple[str, ...]] = {}
        self._group_ids: dict[tuple[str, ...], int] = {}
        self._pending_groups: list[tuple[tuple[str, ...], int]] = []
        self._check_file()
        self._conn = sqlite3.connect(
            str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # e.g. a file system without shared memory
                self._conn.execute("PRAGMA journal_mode = DELETE")
            self._conn.execute("PRAGMA synchronous = FULL")
            self.config = self._open(config)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(
                f"{self.path} is not a fairaudit monitor store ({exc}); pass a new file name "
                "or a store written by fairaudit.monitor.FairnessMonitor."
            ) from exc
        except BaseException:
            self._conn.close()
            raise

    # -- opening -----------------------------------------------------------------------------

    def _check_file(self) -> None:
        if self.path.is_dir():
            raise StoreError(f"store path {self.path} is a directory; pass a file name.")
        if not self.path.parent.is_dir():
            raise StoreError(
                f"the folder of store path {self.path} does not exist; create it first."
            )
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open("rb") as fh:
                head = fh.read(len(_SQLITE_HEADER))
            if head != _SQLITE_HEADER:
                raise StoreError(
                    f"{self.path} is not a fairaudit monitor store (not an SQLite database); "
                    "pass a new file name or a store written by FairnessMonitor."
                )

    def _open(self, config: dict[str, Any] | None) -> dict[str, Any]:
        with self.transaction() as cur:
            tables = {r[0] for r in cur.execute("SELECT name FROM sqlite_master")}
            if "fairaudit_meta" not in tables:
                if tables:
                    raise StoreError(
                        f"{self.path} is an SQLite database but not a fairaudit monitor store "
                        f"(it has tables {sorted(tables)[:5]}); pass a new file name."
                    )
                if config is None:
                    raise StoreError(
                        f"{self.path} is a new store: pass sensitive_features (and the other "
                        "settings) to create it."
                    )
                self._create(cur)
                meta = {
                    "format": FORMAT,
                    "schema_version": str(SCHEMA_VERSION),
                    "config": json.dumps(config, sort_keys=True),
                    "created": repr(time.time()),
                    "revision": "0",
                    "rows_seen": "0",
                    "rows_received": "0",
                    "labels_received": "0",
                    "labels_matched": "0",
                    "pending_labels": "0",
                    "orphan_labels": "0",
                }
                cur.executemany("INSERT INTO fairaudit_meta VALUES (?, ?)", meta.items())
                return config
            meta = dict(cur.execute("SELECT key, value FROM fairaudit_meta").fetchall())
            if meta.get("format") != FORMAT:
                raise StoreError(f"{self.path} is not a fairaudit monitor store (no format mark).")
            version = int(meta.get("schema_version", "0"))
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer fairaudit (store schema version "
                    f"{version}; this fairaudit reads up to version {SCHEMA_VERSION}); upgrade "
                    "fairaudit."
                )
            if "pending_labels" not in meta:
                # stores written before these counters were kept: count once
                pending = cur.execute(
                    "SELECT COUNT(*) FROM predictions WHERE label IS NULL"
                ).fetchone()[0]
                orphans = cur.execute("SELECT COUNT(*) FROM orphan_labels").fetchone()[0]
                cur.executemany(
                    "INSERT INTO fairaudit_meta VALUES (?, ?)",
                    [("pending_labels", str(pending)), ("orphan_labels", str(orphans))],
                )
                meta.update(pending_labels=str(pending), orphan_labels=str(orphans))
            stored = json.loads(meta["config"])
            if version < 2:
                # version 1 stored no scores: add the (empty) score tables and take the score
                # rounding of the process that opens it first (or none), in this transaction
                for statement in _MIGRATE_1_2.split(";"):
                    if statement.strip():
                        cur.execute(statement)
                stored["score_decimals"] = None if config is None else config.get("score_decimals")
                cur.executemany(
                    "UPDATE fairaudit_meta SET value = ? WHERE key = ?",
                    [
                        (str(SCHEMA_VERSION), "schema_version"),
                        (json.dumps(stored, sort_keys=True), "config"),
                    ],
                )
            if config is not None:
                for key, value in config.items():
                    if key in stored and stored[key] != value:
                        raise StoreError(
                            f"{self.path} was created with {key}={stored[key]!r}, not "
                            f"{value!r}; open it with the same settings (or "
                            "sensitive_features=None to use the stored ones), or use a new "
                            "store file."
                        )
        return stored

    @staticmethod
    def _create(cur: sqlite3.Cursor) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                cur.execute(statement)

    # -- transactions ------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One ``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        with self._lock:
            cur = self._conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreLockedError(
                        f"{self.path} is locked by another process ({exc}); it writes the same "
                        "store. Wait, raise timeout=, or give each process its own store."
                    ) from exc
                raise
            try:
                yield cur
            except BaseException:
                self._conn.rollback()
                self._pending_groups = []
                raise
            else:
                cur.execute("COMMIT")
                self.remember_groups()
            finally:
                cur.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Cursor]:
        """Open a read transaction (a consistent snapshot across several queries)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN")
            try:
                yield cur
            finally:
                self._conn.rollback()
                cur.close()

    def close(self) -> None:
        """Close the connection (committed data is already on disk)."""
        with self._lock:
            self._conn.close()

    # -- helpers used inside a write transaction ---------------------------------------------

    @staticmethod
    def get_meta(cur: sqlite3.Cursor, key: str) -> str:
        row = cur.execute("SELECT value FROM fairaudit_meta WHERE key = ?", (key,)).fetchone()
        return "" if row is None else str(row[0])

    @staticmethod
    def add_meta(cur: sqlite3.Cursor, key: str, amount: int) -> None:
        cur.execute(
            "UPDATE fairaudit_meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?",
            (int(amount), key),
        )

    def group_ids(self, cur: sqlite3.Cursor, keys: list[tuple[str, ...]]) -> np.ndarray:
        """Store ids of group keys, adding the new ones (inside the caller's transaction)."""
        out = np.empty(len(keys), dtype=np.int64)
        missing = []
        for i, key in enumerate(keys):
            gid = self._group_ids.get(key)
            if gid is None:
                missing.append(i)
            else:
                out[i] = gid
        for i in missing:
            text = json.dumps(list(keys[i]))
            row = cur.execute("SELECT group_id FROM groups WHERE key = ?", (text,)).fetchone()
            if row is None:
                cur.execute("INSERT INTO groups (key) VALUES (?)", (text,))
                gid = int(cur.lastrowid or 0)
            else:
                gid = int(row[0])
            out[i] = gid
        # cached only once the transaction commits (a rolled-back id may be reused)
        self._pending_groups.extend((keys[i], int(out[i])) for i in missing)
        return out

    def remember_groups(self) -> None:
        """Cache the group ids added by the last (committed) transaction."""
        for key, gid in self._pending_groups:
            self._group_ids[key] = gid
            self._group_keys[gid] = key
        self._pending_groups = []

    def group_key(self, cur: sqlite3.Cursor, gid: int) -> tuple[str, ...]:
        """Sensitive values of a stored group id."""
        key = self._group_keys.get(gid)
        if key is None:
            for g, text in cur.execute("SELECT group_id, key FROM groups"):
                k = tuple(json.loads(text))
                self._group_keys[int(g)] = k
                self._group_ids[k] = int(g)
            key = self._group_keys[gid]
        return key
