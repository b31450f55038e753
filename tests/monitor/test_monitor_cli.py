"""``fairaudit monitor ingest|serve``."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import urllib.request

import numpy as np
import pandas as pd
import pytest

from fairaudit.cli import main
from fairaudit.monitor import FairnessMonitor


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def frame(rng):
    n = 500
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "pred": rng.integers(0, 2, n),
            "y": rng.integers(0, 2, n),
            # "007" must stay text (a CSV reader would make it the number 7)
            "zip": rng.choice(["007", "7", "N/A"], n),
            "ts": pd.date_range("2026-03-01", periods=n, freq="min", tz="UTC").astype(str),
        }
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_ingest_each_format_keeps_sensitive_values_as_text(tmp_path, frame, suffix):
    path = tmp_path / f"batch{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_json(path, orient="records", lines=True)
    store = tmp_path / "s.db"
    code, out, err = _run(
        "monitor",
        "ingest",
        str(path),
        "--store",
        str(store),
        "--prediction",
        "pred",
        "--sensitive",
        "zip",
        "--timestamp",
        "ts",
        "--window",
        "1h",
        "--id",
        "id",
    )
    assert (code, err) == (0, "")
    assert "500 predictions" in out
    with FairnessMonitor(store) as mon:
        counts = mon.counts().set_index("zip")
        assert set(counts.index) == {"007", "7", "N/A"}
        expected = frame.groupby("zip")["pred"].sum()
        assert counts["unlabeled_positive"].to_dict() == expected.to_dict()
        assert len(mon.windows()) == 9  # 500 minutes from 00:00
    # the same file again: nothing added (batch id = the file's digest)
    code, out, _ = _run(
        "monitor",
        "ingest",
        str(path),
        "--store",
        str(store),
        "--prediction",
        "pred",
        "--timestamp",
        "ts",
        "--id",
        "id",
    )
    assert code == 0
    assert "0 predictions" in out
    assert "1 chunk(s) already there" in out


def test_ingest_late_labels(tmp_path, frame):
    preds, labels = tmp_path / "p.csv", tmp_path / "l.csv"
    frame.to_csv(preds, index=False)
    frame[["id", "y"]].iloc[:300].to_csv(labels, index=False)
    store = str(tmp_path / "s.db")
    assert (
        _run(
            "monitor",
            "ingest",
            str(preds),
            "--store",
            store,
            "--prediction",
            "pred",
            "--sensitive",
            "zip",
            "--id",
            "id",
        )[0]
        == 0
    )
    code, out, _ = _run(
        "monitor", "ingest", str(labels), "--store", store, "--target", "y", "--id", "id"
    )
    assert code == 0
    assert "300 labels added (300 matched)" in out
    with FairnessMonitor(store) as mon:
        assert mon.counters["pending_labels"] == 200


def test_ingest_errors_exit_2(tmp_path, frame):
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    store = str(tmp_path / "s.db")
    code, _, err = _run(
        "monitor",
        "ingest",
        str(path),
        "--store",
        store,
        "--prediction",
        "nope",
        "--sensitive",
        "zip",
    )
    assert code == 2
    assert "--prediction: column 'nope' is not in b.csv" in err
    code, _, err = _run(
        "monitor",
        "ingest",
        str(tmp_path / "x.csv"),
        "--store",
        store,
        "--prediction",
        "pred",
        "--sensitive",
        "zip",
    )
    assert code == 2
    assert "no such file" in err
    code, _, err = _run("monitor", "ingest", str(path), "--store", store)
    assert code == 2
    assert "--prediction is required" in err
    (tmp_path / "b.txt").write_text("x")
    code, _, err = _run(
        "monitor",
        "ingest",
        str(tmp_path / "b.txt"),
        "--store",
        store,
        "--prediction",
        "pred",
        "--sensitive",
        "zip",
    )
    assert code == 2
    assert "cannot tell the format" in err
    code, _, err = _run(
        "monitor",
        "ingest",
        str(path),
        "--store",
        str(path),
        "--prediction",
        "pred",
        "--sensitive",
        "zip",
    )
    assert code == 2
    assert "not a fairaudit monitor store" in err
    code, _, err = _run("monitor", "serve", "--store", str(tmp_path / "none.db"))
    assert code == 2
    assert "no such store" in err
    with FairnessMonitor(tmp_path / "serve.db", sensitive_features=["g"]) as mon:
        mon.update([1], {"g": ["a"]})
    code, _, err = _run(
        "monitor", "serve", "--store", str(tmp_path / "serve.db"), "--refresh-interval", "0"
    )
    assert code == 2
    assert "--refresh-interval must be a number of seconds > 0" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_until_sigterm(tmp_path):
    store = tmp_path / "s.db"
    with FairnessMonitor(store, sensitive_features=["g"]) as mon:
        mon.update(np.array([1, 0, 1]), {"g": ["a", "b", "a"]})
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fairaudit",
            "monitor",
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}/metrics" in line, line + proc.stderr.read()
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        assert b'fairaudit_group_metric{group="a"' in text or b"fairaudit_group_metric{" in text
        assert b"fairaudit_rows_received_total 3.0" in text
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_ingest_scores_with_late_labels(tmp_path, frame, rng):
    import fairaudit as fa

    frame["p"] = rng.random(len(frame))
    preds, labels = tmp_path / "p.csv", tmp_path / "l.csv"
    frame.to_csv(preds, index=False)
    frame[["id", "y"]].to_csv(labels, index=False)
    store = str(tmp_path / "s.db")
    argv = ["monitor", "ingest", str(preds), "--store", store, "--prediction", "pred"]
    argv += ["--sensitive", "zip", "--id", "id", "--score", "p", "--score-decimals", "2"]
    assert _run(*argv)[0] == 0
    code, out, _ = _run(
        "monitor", "ingest", str(labels), "--store", store, "--target", "y", "--id", "id"
    )
    assert (code, "500 labels added (500 matched)" in out) == (0, True)
    expected = fa.group_metrics(
        frame["y"],
        frame["pred"],
        y_score=frame["p"].round(2),
        sensitive_features=frame["zip"].astype(str),
        metrics=["roc_auc", "brier_score"],
    ).by_group
    with FairnessMonitor(store) as mon:
        assert mon.score_decimals == 2
        got = mon.current(metrics=["roc_auc", "brier_score"]).by_group
    np.testing.assert_allclose(
        got[["roc_auc", "brier_score"]], expected[["roc_auc", "brier_score"]]
    )
    # a score outside [0, 1]: exit 2 naming the column's problem, nothing added
    frame.loc[3, "p"] = 1.5
    bad = tmp_path / "bad.csv"
    frame.assign(id=frame["id"] + "x").to_csv(bad, index=False)
    code, _, err = _run(
        "monitor", "ingest", str(bad), "--store", store, "--prediction", "pred", "--score", "p"
    )
    assert code == 2
    assert "y_score has values outside [0, 1]" in err
    code, _, err = _run(
        "monitor", "ingest", str(bad), "--store", store, "--prediction", "pred", "--score", "q"
    )
    assert (code, "--score: column 'q' is not in" in err) == (2, True)
