"""``fairaudit monitor serve|ingest``: the argument definitions and what they call.

``fairaudit.cli`` only adds these subcommands and maps errors to exit codes; the work is here.
"""

from __future__ import annotations

import argparse
import hashlib
import signal
import threading
from pathlib import Path
from typing import Any, TextIO

__all__ = ["add_monitor_parser", "ingest_file", "run_monitor_command"]

_CSV = (".csv", ".csv.gz", ".tsv")
_PARQUET = (".parquet", ".pq")
_JSONL = (".jsonl", ".ndjson", ".json")
_CHUNK_ROWS = 1_000_000


def add_monitor_parser(commands: Any) -> None:
    """Add ``monitor serve`` and ``monitor ingest`` to the CLI's subcommands."""
    monitor = commands.add_parser(
        "monitor", help="feed a fairness monitor's store, or export it to Prometheus"
    )
    actions = monitor.add_subparsers(dest="monitor_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve", help="serve the store's gauges on http://ADDR:PORT/metrics until stopped"
    )
    serve.add_argument("--store", required=True, metavar="FILE", help="the monitor's store")
    serve.add_argument("--port", type=int, default=9464, help="TCP port (default 9464)")
    serve.add_argument("--addr", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--metrics",
        nargs="+",
        metavar="NAME",
        help="rate or score metrics to export (default: selection_rate, plus the score "
        "metrics when the store holds scores)",
    )
    serve.add_argument("--policy", metavar="PATH", help="YAML policy checked on each window")
    serve.add_argument("--min-group-size", type=int, default=30, metavar="N")
    serve.add_argument(
        "--drift-against",
        choices=["previous", "reference", "none"],
        default="previous",
        help="drift p-values exported against the previous window (default) or the first",
    )
    serve.add_argument(
        "--refresh-interval",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="how often the exporter checks the store and recomputes the gauges when it "
        "changed (default 0.5); scrapes send the last computed text",
    )
    ingest = actions.add_parser(
        "ingest",
        help="add predictions (or late labels) from a CSV, Parquet or JSON-lines file",
    )
    ingest.add_argument("data", metavar="FILE", help=".csv, .tsv, .parquet or .jsonl")
    ingest.add_argument("--store", required=True, metavar="FILE", help="the monitor's store")
    ingest.add_argument("--prediction", metavar="COL", help="decision column")
    ingest.add_argument("--target", metavar="COL", help="outcome column (labels)")
    ingest.add_argument(
        "--score", metavar="COL", help="score column: probability of the positive label"
    )
    ingest.add_argument(
        "--score-decimals",
        type=int,
        metavar="N",
        help="round scores to N decimals (a new store's setting; default: exact)",
    )
    ingest.add_argument(
        "--sensitive",
        nargs="+",
        metavar="COL",
        help="sensitive columns (required for a new store; default: the store's)",
    )
    ingest.add_argument("--id", dest="id_column", metavar="COL", help="prediction id column")
    ingest.add_argument("--timestamp", metavar="COL", help="time column (default: now)")
    ingest.add_argument("--window", help="window of a new store: 1h, 1d, 10000rows ...")
    ingest.add_argument("--pos-label", help="positive label of a new store (default 1)")
    ingest.add_argument("--quiet", action="store_true", help="print nothing on success")


def _read(path: Path, text_columns: list[str]) -> Any:
    """Yield (chunk number, DataFrame) of a batch file; sensitive columns read as text."""
    import pandas as pd

    name = path.name.lower()
    if not path.is_file():
        raise FileNotFoundError(f"FILE: no such file: {path}")
    dtypes = {c: str for c in text_columns}
    if name.endswith(_CSV):
        reader = pd.read_csv(
            path,
            sep="\t" if name.endswith(".tsv") else ",",
            dtype=dtypes,
            keep_default_na=False,
            na_values=[""],
            chunksize=_CHUNK_ROWS,
        )
        with reader:
            yield from enumerate(reader)
    elif name.endswith(_PARQUET):
        yield 0, pd.read_parquet(path)
    elif name.endswith(_JSONL):
        yield 0, pd.read_json(path, lines=True, dtype=dtypes)
    else:
        raise ValueError(
            f"FILE: cannot tell the format of {path}; use .csv, .tsv, .parquet or .jsonl."
        )


def _columns(frame: Any, wanted: dict[str, str | None], path: Path) -> None:
    for option, column in wanted.items():
        if column is not None and column not in frame.columns:
            raise ValueError(
                f"{option}: column {column!r} is not in {path.name} (columns: "
                f"{list(frame.columns)[:20]})."
            )


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_file(
    path: str | Path,
    *,
    store: str | Path,
    prediction: str | None,
    target: str | None = None,
    sensitive: list[str] | None = None,
    id_column: str | None = None,
    timestamp: str | None = None,
    window: str | None = None,
    pos_label: Any = None,
    score: str | None = None,
    score_decimals: int | None = None,
) -> dict[str, int]:
    r"""Add a batch file's rows to a monitor's store (predictions, or late labels by id).

    Each chunk's batch id is the file's SHA-256 plus the chunk number, so ingesting the same
    file twice (say, after a crash) adds nothing the second time.

    Parameters
    ----------
    path : str or Path
        CSV/TSV (read in chunks of a million rows), Parquet, or JSON lines.
    store : str or Path
        The monitor's store (created when missing; then ``sensitive`` is required).
    prediction : str or None
        Decision column; ``None`` ingests labels only (``target`` and ``id_column`` needed).
    target, sensitive, id_column, timestamp : optional
        Column names.
    window, pos_label : optional
        Settings of a new store.
    score : str, optional
        Score column (the model's probability of ``pos_label``, in [0, 1]), stored per
        window as score atoms for ROC AUC, Brier score and calibration error.
    score_decimals : int, optional
        Round scores to this many decimals: the store's setting (a new store takes it, an
        existing one must have been created with it).

    Returns
    -------
    dict
        ``rows`` (predictions added), ``labels`` (labels received), ``matched`` (labels
        joined to a prediction now), ``skipped`` (chunks already in the store).

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> csv = os.path.join(folder, "batch.csv")
    >>> with open(csv, "w") as fh:
    ...     _ = fh.write("pred,sex\n1,F\n0,M\n1,M\n")
    >>> store = os.path.join(folder, "s.db")
    >>> ingest_file(csv, store=store, prediction="pred", sensitive=["sex"])
    {'rows': 3, 'labels': 0, 'matched': 0, 'skipped': 0}
    >>> ingest_file(csv, store=store, prediction="pred")["skipped"]
    1
    >>> scored = os.path.join(folder, "scored.csv")
    >>> with open(scored, "w") as fh:
    ...     _ = fh.write("pred,sex,y,p\n1,F,1,0.81\n0,F,0,0.32\n1,M,0,0.64\n")
    >>> ingest_file(scored, store=os.path.join(folder, "s2.db"), prediction="pred",
    ...             target="y", score="p", sensitive=["sex"], score_decimals=1)
    {'rows': 3, 'labels': 0, 'matched': 0, 'skipped': 0}
    """
    from fairaudit.monitor._monitor import FairnessMonitor

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FILE: no such file: {path}")
    if not path.name.lower().endswith(_CSV + _PARQUET + _JSONL):
        raise ValueError(
            f"FILE: cannot tell the format of {path}; use .csv, .tsv, .parquet or .jsonl."
        )
    if prediction is None and score is not None:
        raise ValueError("--score needs --prediction: scores come with their predictions.")
    if prediction is None and (target is None or id_column is None):
        raise ValueError(
            "--prediction is required, unless the file holds late labels: then give --target "
            "and --id."
        )
    mon = FairnessMonitor(
        store,
        sensitive_features=sensitive,
        window=window,
        pos_label=pos_label,
        min_group_size=0,
        score_decimals=score_decimals,
    )
    totals = {"rows": 0, "labels": 0, "matched": 0, "skipped": 0}
    try:
        digest = _file_digest(path)
        for number, frame in _read(path, list(mon.sensitive_features)):
            batch_id = f"file:{digest}:{number}"
            _columns(
                frame,
                {
                    "--prediction": prediction,
                    "--target": target,
                    "--id": id_column,
                    "--timestamp": timestamp,
                    "--score": score,
                },
                path,
            )
            ids = None if id_column is None else frame[id_column].astype(str)
            if prediction is None:
                assert target is not None
                assert ids is not None
                before = mon.counters["labels_received"]
                matched = mon.update_labels(ids, frame[target], batch_id=batch_id)
                added = mon.counters["labels_received"] - before
                totals["labels"] += added
                totals["matched"] += matched
                totals["skipped"] += int(added == 0)
                continue
            for column in mon.sensitive_features:
                _columns(frame, {"--sensitive": column}, path)
            n = mon.update(
                frame[prediction],
                {c: frame[c] for c in mon.sensitive_features},
                y_true=None if target is None else frame[target],
                y_score=None if score is None else frame[score],
                ids=ids,
                timestamps=None if timestamp is None else frame[timestamp],
                batch_id=batch_id,
            )
            totals["rows"] += n
            totals["skipped"] += int(n == 0)
    finally:
        mon.close()
    return totals


def _serve(args: argparse.Namespace, out: TextIO, stop: threading.Event | None) -> int:
    from fairaudit.monitor._monitor import FairnessMonitor
    from fairaudit.monitor._prometheus import serve

    if not Path(args.store).is_file():
        raise FileNotFoundError(f"--store: no such store: {args.store}")
    if not 0 < args.refresh_interval < float("inf"):
        raise ValueError(
            f"--refresh-interval must be a number of seconds > 0, got {args.refresh_interval}."
        )
    policy = None
    if args.policy is not None:
        from fairaudit.policy import Policy

        policy = Policy.from_yaml(args.policy)
    mon = FairnessMonitor(
        args.store, metrics=args.metrics, policy=policy, min_group_size=args.min_group_size
    )
    stop = stop if stop is not None else threading.Event()
    against = None if args.drift_against == "none" else args.drift_against
    try:
        server = serve(
            mon,
            port=args.port,
            addr=args.addr,
            drift_against=against,
            refresh_interval=args.refresh_interval,
        )
        port = server.server_address[1]
        print(
            f"fairaudit: serving {args.store} on http://{args.addr}:{port}/metrics",
            file=out,
            flush=True,
        )
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            server.shutdown()
            server.server_close()
    finally:
        mon.close()
    return 0


def run_monitor_command(
    args: argparse.Namespace, out: TextIO, stop: threading.Event | None = None
) -> int:
    """Run ``monitor serve`` or ``monitor ingest``; returns the exit status."""
    if args.monitor_command == "serve":
        return _serve(args, out, stop)
    totals = ingest_file(
        args.data,
        store=args.store,
        prediction=args.prediction,
        target=args.target,
        sensitive=args.sensitive,
        id_column=args.id_column,
        timestamp=args.timestamp,
        window=args.window,
        pos_label=_label(args.pos_label),
        score=args.score,
        score_decimals=args.score_decimals,
    )
    if not args.quiet:
        print(
            f"fairaudit: {args.store}: {totals['rows']} predictions and {totals['labels']} "
            f"labels added ({totals['matched']} matched), {totals['skipped']} chunk(s) "
            "already there",
            file=out,
        )
    return 0


def _label(text: str | None) -> Any:
    """Read a label given on the command line: an int when it reads as one."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text
