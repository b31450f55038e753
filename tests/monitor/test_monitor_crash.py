"""Crash safety of the monitor's store: kill -9 at random points, then count.

A fork server (crash_writer.py) imports fairaudit once and forks writer children; each child
writes deterministic batches and prints ``ack K.J`` after each update returns. The test kills
the child with SIGKILL after a random delay, then checks that the store holds exactly the
acknowledged updates, plus possibly the one in flight (whole, never partial, never twice).
The next child restarts at the killed batch and resends it: the store skips what it already
holds (batch ids), so nothing is counted twice. The predictions carry scores: the store's
score atoms (read with SQL) must equal the acknowledged ones too, pending and labelled.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import numpy as np
import pytest

from fairaudit.monitor import FairnessMonitor

_WRITER = Path(__file__).with_name("crash_writer.py")
_spec = spec_from_file_location("crash_writer", _WRITER)
assert _spec is not None
assert _spec.loader is not None
writer = module_from_spec(_spec)
_spec.loader.exec_module(writer)

_CELLS = ["TN", "FP", "FN", "TP", "unlabeled_negative", "unlabeled_positive"]


class Model:
    """An independent model of what the store must hold after some updates."""

    def __init__(self) -> None:
        self.preds: dict[str, list] = {}
        self.orphans: dict[str, int] = {}
        self.applied: list[tuple[int, int]] = []

    def apply(self, unit_id: tuple[int, int]) -> None:
        k, j = unit_id
        u = writer.units(k)[j]
        if u["kind"] == "labels":
            for i, lab in zip(u["ids"], u["y_true"], strict=True):
                if i in self.preds:
                    assert self.preds[i][3] is None
                    self.preds[i][3] = int(lab)
                else:
                    self.orphans[i] = int(lab)
        else:
            for r, i in enumerate(u["ids"]):
                w = math.floor(u["timestamps"][r] / 60) * 60
                lab = None if u["y_true"] is None else int(u["y_true"][r])
                if lab is None and i in self.orphans:
                    lab = self.orphans.pop(i)
                self.preds[i] = [
                    w,
                    str(u["group"][r]),
                    int(u["y_pred"][r]),
                    lab,
                    float(u["y_score"][r]),
                ]
        self.applied.append(unit_id)

    def side_counts(self) -> tuple[int, int]:
        """(orphan labels, predictions waiting for a label)."""
        return len(self.orphans), sum(1 for p in self.preds.values() if p[3] is None)

    def counts(self) -> Counter:
        out: Counter = Counter()
        for w, g, p, lab, _ in self.preds.values():
            cell = 4 + p if lab is None else 2 * lab + p
            out[(w, g, _CELLS[cell])] += 1
        return out

    def atoms(self) -> Counter:
        """(window, group, score, label or 2 when pending) -> predictions."""
        out: Counter = Counter()
        for w, g, _, lab, score in self.preds.values():
            out[(w, g, score, 2 if lab is None else lab)] += 1
        return out


def next_unit(unit_id: tuple[int, int] | None) -> tuple[int, int]:
    if unit_id is None:
        return (0, 0)
    k, j = unit_id
    return (k, j + 1) if j + 1 < len(writer.units(k)) else (k + 1, 0)


def store_atoms(path: Path) -> Counter:
    """The store's score atoms, read with SQL (not through the monitor)."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT a.window, g.key, a.score, a.label, a.n FROM score_atoms a "
            "JOIN groups g ON g.group_id = a.group_id WHERE a.n != 0"
        ).fetchall()
    finally:
        con.close()
    return Counter({(w, json.loads(k)[0], s, lab): n for w, k, s, lab, n in rows})


def store_state(path: Path) -> tuple[Counter, int]:
    with FairnessMonitor(path) as mon:
        out: Counter = Counter()
        for w in mon.windows():
            frame = mon.counts(w)
            for row in frame.itertuples(index=False):
                for cell in _CELLS:
                    n = int(getattr(row, cell))
                    if n:
                        out[(int(w.timestamp()), row.g, cell)] += n
        counters = mon.counters
        return out, (counters["orphan_labels"], counters["pending_labels"])


@pytest.fixture
def fork_server(tmp_path):
    path = tmp_path / "store.db"
    proc = subprocess.Popen(
        [sys.executable, str(_WRITER), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    try:
        yield proc, path
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _send(proc: subprocess.Popen, line: str) -> None:
    assert proc.stdin is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()


def _read(proc: subprocess.Popen) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise AssertionError(f"the writer server exited (code {proc.poll()})")
    return line.strip()


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_update_and_never_double_counts(fork_server):
    proc, path = fork_server
    rng = np.random.default_rng(20261128)
    model = Model()
    kills = 0
    in_flight_present = 0
    rounds = 20
    for _ in range(rounds):
        start = next_unit(model.applied[-1] if model.applied else None)[0]
        _send(proc, f"run {start}")
        acks: list[tuple[int, int]] = []
        pid = None
        while pid is None:
            line = _read(proc)
            if line.startswith("pid "):
                pid = int(line.split()[1])
            else:
                k, j = line.split()[1].split(".")
                acks.append((int(k), int(j)))
        if not acks:  # let the writer make progress, then kill it at a random later point
            k, j = _read(proc).split()[1].split(".")
            acks.append((int(k), int(j)))
        time.sleep(float(rng.uniform(0.0, 0.25)))
        os.kill(pid, signal.SIGKILL)
        kills += 1
        while (line := _read(proc)) != "dead":
            k, j = line.split()[1].split(".")
            acks.append((int(k), int(j)))
        for unit in acks:  # resent units are acknowledged again: apply each once
            if unit not in model.applied:
                assert unit == next_unit(model.applied[-1] if model.applied else None)
                model.apply(unit)
        state, orphans = store_state(path)
        atoms = store_atoms(path)
        if state == model.counts() and orphans == model.side_counts():
            assert atoms == model.atoms(), "score atoms differ from the acknowledged updates"
            continue
        # otherwise the store must hold exactly the one in-flight update as well
        model.apply(next_unit(model.applied[-1] if model.applied else None))
        in_flight_present += 1
        assert state == model.counts(), "store differs from the acknowledged updates"
        assert orphans == model.side_counts()
        assert atoms == model.atoms(), "score atoms differ from the acknowledged updates"
    assert kills == rounds
    assert any(k[3] == 2 for k in model.atoms())
    assert any(k[3] < 2 for k in model.atoms())
    assert len(model.applied) >= rounds  # every writer made progress before its kill
    # the run saw both outcomes of an interrupted update over the rounds, or at least ran
    assert in_flight_present <= rounds


@pytest.mark.slow
def test_two_processes_writing_one_store_are_serialized(fork_server):
    proc, path = fork_server
    for prefix in ("p1", "p2", "p3"):
        _send(proc, f"burst {prefix}")
    pids = []
    done = set()
    while len(pids) < 3 or len(done) < 3:
        line = _read(proc)
        if line.startswith("pid "):
            pids.append(int(line.split()[1]))
        elif line.startswith("done "):
            done.add(line.split()[1])
    _send(proc, "wait 3")
    while _read(proc) != "waited":
        pass
    with FairnessMonitor(path) as mon:
        assert mon.counters["rows_received"] == 3 * 20 * 25
        frame = mon.counts()
        # per 25-row update: a gets 15 rows (10 positive), b gets 10 (5 positive)
        by_group = frame.set_index("g")
        assert by_group.loc["a", "unlabeled_positive"] == 3 * 20 * 10
        assert by_group.loc["a", "unlabeled_negative"] == 3 * 20 * 5
        assert by_group.loc["b", "unlabeled_positive"] == 3 * 20 * 5
        assert by_group.loc["b", "unlabeled_negative"] == 3 * 20 * 5
