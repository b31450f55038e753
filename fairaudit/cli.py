"""The ``fairaudit`` command: audit predictions in a CSV or Parquet file, gate a release.

::

    fairaudit audit DATA --target COL (--prediction COL [--score COL] | --endpoint URL
                   [--endpoint-config endpoint.yaml] [--features COL ...] [--exclude COL ...])
                   --sensitive COL [COL ...]
                   [--pos-label VALUE] [--task binary|multiclass|regression]
                   [--sample-weight COL] [--missing-groups error|separate]
                   [--metrics NAME ...] [--n-boot N] [--seed N]
                   [--confidence C] [--min-group-size N] [--policy PATH] [--report PATH.html]
                   [--json PATH] [--junit PATH] [--follow-symlinks] [--format text|json] [--quiet]
    fairaudit compare DATA --target COL --prediction-a COL --prediction-b COL --sensitive COL...
                      [--tolerance T] [--policy PATH] [--junit PATH]
    fairaudit compare DATA --target COL --endpoint-a URL --endpoint-b URL --sensitive COL...
                      [--endpoint-a-config YAML] [--endpoint-b-config YAML] [--features COL...]
                   [--score-a COL --score-b COL] [--tolerance T] [--n-boot N] [--seed N]
                   [--report PATH] [--json PATH]
    fairaudit validate-policy PATH
    fairaudit monitor serve --store FILE [--port 9464] [--policy PATH]
    fairaudit monitor ingest FILE --store FILE --prediction COL [--sensitive COL ...]
                             [--target COL] [--id COL] [--score COL] [...]
    fairaudit --version

Exit status: 0 when every policy rule passed (or there is no policy), 1 when a rule failed or
could not be judged, 2 on a usage or input error (one line on stderr naming the bad argument,
column or file; never a traceback), 3 on an internal error (a bug: the traceback is printed).

The command parses arguments and calls the library (:func:`fairaudit.group_metrics`,
:class:`fairaudit.Policy`, :class:`fairaudit.Report`); it has no logic of its own beyond reading
the file and checking that the named columns can be used.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

__all__ = ["main"]

logger = logging.getLogger(__name__)

_EXIT_OK = 0
_EXIT_CHECK_FAILED = 1
_EXIT_USAGE = 2
_EXIT_INTERNAL = 3

_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")


class _UsageError(Exception):
    """A user error: bad arguments, unreadable input, unusable columns (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _add_engine_options(parser: argparse.ArgumentParser, *, pandas_note: str) -> None:
    """--engine, --spark-master, --memory-limit and --threads: who reads DATA, and how."""
    parser.add_argument(
        "--engine",
        choices=("duckdb", "spark", "pandas"),
        default="duckdb",
        help="who reads the rows: DuckDB (default; out of core, never loads the file), Spark "
        f"(--spark-master), or pandas ({pandas_note})",
    )
    parser.add_argument(
        "--spark-master", metavar="URL", help="Spark master for --engine spark (e.g. local[4])"
    )
    parser.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="DuckDB memory limit (e.g. 2GB); beyond it DuckDB spills to disk",
    )
    parser.add_argument("--threads", type=int, metavar="N", help="DuckDB threads")


def _build_parser() -> argparse.ArgumentParser:
    from fairaudit import __version__

    parser = _Parser(
        prog="fairaudit",
        description="Audit model predictions for unequal treatment of groups; gate releases "
        "on a YAML policy. Exit status: 0 checks passed, 1 a check failed, 2 usage or input "
        "error.",
    )
    parser.add_argument("--version", action="version", version=f"fairaudit {__version__}")
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="show the Python traceback of errors (for bug reports)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    audit = commands.add_parser(
        "audit",
        help="group metrics, policy checks and reports from a file of predictions",
        description="Compute group metrics from the target, prediction and (optional) score "
        "columns of a CSV or Parquet file, by the sensitive columns; check them against a "
        "policy; write HTML/JSON/JUnit reports.",
    )
    audit.add_argument(
        "data",
        metavar="DATA",
        nargs="+",
        help="CSV/TSV (optionally .gz or .zip) or Parquet file(s), or a quoted glob such as "
        "'big/*.parquet'",
    )
    audit.add_argument("--target", required=True, metavar="COL", help="true labels column")
    audit.add_argument(
        "--prediction",
        metavar="COL",
        help="predicted labels column; without it, the labels alone are audited for bias in "
        "the data (SageMaker Clarify's pre-training measures)",
    )
    audit.add_argument(
        "--strata",
        nargs="+",
        metavar="COL",
        help="without --prediction: column(s) to condition on for conditional demographic "
        "disparity (CDDL)",
    )
    audit.add_argument(
        "--endpoint",
        metavar="URL",
        help="query the model served at URL for the predictions (instead of --prediction; "
        "features: the DATA columns that are not target, sensitive or excluded)",
    )
    audit.add_argument(
        "--endpoint-config",
        metavar="PATH",
        help="YAML of Endpoint options (protocol, label, score, batch_size, max_concurrency, "
        "timeout, retries, cache, classes) and headers: {Header-Name: ENV_VARIABLE}",
    )
    audit.add_argument(
        "--features", nargs="+", metavar="COL", help="with --endpoint: the columns to send"
    )
    audit.add_argument(
        "--exclude", nargs="+", metavar="COL", help="with --endpoint: columns not to send"
    )
    audit.add_argument(
        "--score", metavar="COL", help="score column (probability of the positive class)"
    )
    audit.add_argument(
        "--sensitive", required=True, nargs="+", metavar="COL", help="sensitive feature column(s)"
    )
    audit.add_argument(
        "--pos-label",
        metavar="VALUE",
        help="the positive class; required unless target and prediction are 0/1 (or boolean)",
    )
    audit.add_argument(
        "--task",
        choices=("binary", "multiclass", "regression"),
        help="binary (default when target and prediction are 0/1 or --pos-label is given), "
        "multiclass (metrics per class) or regression (numeric target)",
    )
    audit.add_argument(
        "--sample-weight", metavar="COL", help="column of non-negative sample weights"
    )
    audit.add_argument(
        "--missing-groups",
        choices=("error", "separate"),
        default="error",
        help="missing sensitive values: an error (default) or their own 'missing' group",
    )
    audit.add_argument(
        "--metrics",
        nargs="+",
        metavar="NAME",
        help="metrics to compute (default: the library's defaults plus every metric the policy names)",
    )
    audit.add_argument(
        "--n-boot",
        type=int,
        default=0,
        metavar="N",
        help="bootstrap replicates for intervals (default 0: none)",
    )
    audit.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the bootstrap (default 0, recorded in the report)",
    )
    audit.add_argument(
        "--confidence",
        type=float,
        default=0.95,
        metavar="C",
        help="confidence level of the intervals (default 0.95)",
    )
    audit.add_argument(
        "--min-group-size",
        type=int,
        default=30,
        metavar="N",
        help="warn about groups smaller than this (default 30)",
    )
    audit.add_argument(
        "--policy", metavar="PATH", help="YAML policy to check; sets the exit status"
    )
    audit.add_argument(
        "--report", metavar="PATH", help="write the report (.html, .md or .json by suffix)"
    )
    audit.add_argument("--json", metavar="PATH", help="write the report as JSON")
    audit.add_argument(
        "--junit", metavar="PATH", help="write the policy checks as JUnit XML (needs --policy)"
    )
    audit.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="write --report/--json/--junit through a symbolic link to its target (refused by "
        "default)",
    )
    audit.add_argument("--title", default="Fairness audit", help="report title")
    audit.add_argument(
        "--timestamp",
        help="timestamp to print in the report (none by default, so reruns are byte-identical)",
    )
    audit.add_argument("--no-plots", action="store_true", help="leave plots out of the HTML report")
    audit.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="stdout: a text summary (default) or the report JSON",
    )
    audit.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    _add_engine_options(audit, pandas_note="loads the file into memory")

    comp = commands.add_parser(
        "compare",
        help="compare two prediction columns on the same rows (research vs production)",
        description="Agreement, paired differences b - a of group metrics with paired "
        "bootstrap intervals and exact tests, and with --tolerance an equivalence verdict "
        "(exit 1 when not shown equivalent).",
    )
    comp.add_argument(
        "data",
        metavar="DATA",
        nargs="+",
        help="CSV/TSV (optionally .gz or .zip) or Parquet file(s), or a quoted glob such as "
        "'preds/*.parquet'",
    )
    comp.add_argument("--target", required=True, metavar="COL", help="true labels column")
    comp.add_argument("--prediction-a", metavar="COL", help="labels of model a")
    comp.add_argument("--prediction-b", metavar="COL", help="labels of model b")
    for side in ("a", "b"):
        comp.add_argument(
            f"--endpoint-{side}", metavar="URL", help=f"model {side} behind an HTTP endpoint"
        )
        comp.add_argument(
            f"--endpoint-{side}-config", metavar="PATH", help=f"YAML options of --endpoint-{side}"
        )
    comp.add_argument(
        "--features", nargs="+", metavar="COL", help="with --endpoint-a/b: the columns to send"
    )
    comp.add_argument(
        "--exclude", nargs="+", metavar="COL", help="with --endpoint-a/b: columns not to send"
    )
    comp.add_argument("--score-a", metavar="COL", help="scores of model a")
    comp.add_argument("--score-b", metavar="COL", help="scores of model b")
    comp.add_argument("--sensitive", required=True, nargs="+", metavar="COL")
    comp.add_argument("--metrics", nargs="+", metavar="NAME", help="count metrics to compare")
    comp.add_argument("--pos-label", metavar="VALUE", help="the positive class (default 1)")
    comp.add_argument("--tolerance", type=float, metavar="T", help="equivalence margin")
    comp.add_argument("--n-boot", type=int, default=1000, metavar="N")
    comp.add_argument("--seed", type=int, default=0, metavar="N")
    comp.add_argument("--confidence", type=float, default=0.95, metavar="C")
    comp.add_argument("--report", metavar="PATH", help="write the report (.html, .md, .json)")
    comp.add_argument("--json", metavar="PATH", help="write the report as JSON")
    comp.add_argument(
        "--policy", metavar="PATH", help="YAML policy; its comparison: rules set the exit status"
    )
    comp.add_argument(
        "--junit", metavar="PATH", help="write the policy checks as JUnit XML (needs --policy)"
    )
    _add_engine_options(comp, pandas_note="loads the file into memory; always with endpoints")

    check = commands.add_parser(
        "validate-policy",
        help="check that a policy file is valid (exit 0) or say what is wrong (exit 2)",
    )
    check.add_argument("policy", metavar="PATH", help="YAML policy")

    from fairaudit.monitor._cli import add_monitor_parser

    add_monitor_parser(commands)
    return parser


# --------------------------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------------------------


def _read_table(path_text: str, sensitive: Sequence[str] = ()) -> Any:
    import pandas as pd

    path = Path(path_text)
    name = path.name.lower()
    if not path.exists():
        raise _UsageError(f"DATA: file not found: {path_text}")
    if path.is_dir():
        raise _UsageError(f"DATA: {path_text} is a directory; give a CSV or Parquet file.")
    if name.endswith(_PARQUET_SUFFIXES):
        try:
            frame = pd.read_parquet(path)
        except ImportError as exc:
            raise _UsageError(
                f"DATA: reading Parquet needs pyarrow: pip install pyarrow ({exc})"
            ) from None
        except Exception as exc:  # pyarrow raises its own types for corrupt files
            raise _UsageError(f"DATA: cannot read {path_text} as Parquet: {exc}") from None
    elif name.endswith(_CSV_SUFFIXES):
        try:
            # sensitive columns as the text in the file: only an empty field is missing
            frame = pd.read_csv(
                path,
                sep="\t" if name.endswith(".tsv") else ",",
                converters={c: _text_or_missing for c in sensitive},
            )
        except pd.errors.EmptyDataError:
            raise _UsageError(f"DATA: {path_text} is empty.") from None
        except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
            detail = " ".join(str(exc).split())
            raise _UsageError(f"DATA: cannot read {path_text} as CSV: {detail}") from None
    else:
        raise _UsageError(
            f"DATA: cannot tell the format of {path_text}; use a .csv, .csv.gz, .tsv or "
            ".parquet file."
        )
    if len(frame) == 0:
        raise _UsageError(f"DATA: {path_text} has a header but no rows.")
    return frame


def _count(args: argparse.Namespace) -> Any:
    """Count the DATA files into a table, by the chosen engine."""
    import fairaudit as fa

    if args.engine == "pandas" or args.endpoint:
        if len(args.data) != 1:
            raise _UsageError(
                "DATA: --engine pandas and --endpoint read one file; use --engine duckdb for "
                "several (without --endpoint)."
            )
        frame = _read_table(args.data[0], list(args.sensitive))
        if args.endpoint:
            frame = _predict_endpoint(frame, args)
        columns = [
            ("--target", args.target),
            ("--prediction", args.prediction),
            *((("--score", args.score),) if args.score else ()),
            *((("--sample-weight", args.sample_weight),) if args.sample_weight else ()),
            *(("--sensitive", c) for c in args.sensitive),
        ]
        for option, column in columns:
            _check_column(frame, column, option, args.data[0])
        y_true, y_pred, pos_label = _labels(frame, args)
        table = fa.metrics.count_table(
            y_true,
            y_pred,
            sensitive_features=frame[list(args.sensitive)],
            y_score=frame[args.score] if args.score else None,
            sample_weight=frame[args.sample_weight] if args.sample_weight else None,
            pos_label=pos_label,
            task=args.task or "binary",
            missing_groups=args.missing_groups,
        )
        if args.pos_label is not None:
            # the class counted as positive, as the user named it (for reports and policies)
            table = dataclasses.replace(table, pos_label=args.pos_label)
        return table
    from fairaudit.metrics._engines._duckdb import SourceError
    from fairaudit.metrics._engines._files import scan_files

    if args.engine != "spark" and args.spark_master:
        raise _UsageError("--spark-master needs --engine spark.")
    try:
        return scan_files(
            list(args.data),
            target=args.target,
            prediction=args.prediction,
            sensitive=list(args.sensitive),
            score=args.score,
            pos_label=args.pos_label,
            task=args.task,
            missing_groups=args.missing_groups,
            weight=args.sample_weight,
            engine=args.engine,
            spark_master=args.spark_master,
            memory_limit=args.memory_limit,
            threads=args.threads,
            progress=False if args.quiet else None,
            n_boot=args.n_boot,
        )
    except (SourceError, FileNotFoundError) as exc:
        raise _UsageError(f"DATA: {exc}") from None


def _sha256_files(paths: list[str], sha256_file: Any) -> str:
    """SHA-256 of the one file, or of the list of (path, SHA-256) of every file matched."""
    import glob
    import hashlib

    files: list[str] = []
    for p in paths:
        files.extend(sorted(glob.glob(p)) if any(c in p for c in "*?[") else [p])
    if len(files) == 1:
        return str(sha256_file(files[0]))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f}\t{sha256_file(f)}\n".encode())
    return digest.hexdigest()


def _text_or_missing(value: str) -> Any:
    return None if value == "" else value


def _check_column(frame: Any, column: str, option: str, data: str) -> None:
    if column in frame.columns:
        return
    columns = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(column, columns, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(columns[:12]) + (
        f", ... ({len(columns)} in all)" if len(columns) > 12 else ""
    )
    raise _UsageError(f"{option}: no column {column!r} in {data}.{hint} Columns: {shown}.")


def _parse_label(text: str, values: Sequence[Any]) -> Any:
    """Match the --pos-label text to a value of the column (``"1"`` matches the integer 1)."""
    for value in values:
        if str(value) == text:
            return value
    for value in values:
        try:
            if float(text) == float(value):
                return value
        except (TypeError, ValueError):
            continue
    return None


def _labels(frame: Any, args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Return (y_true, y_pred, pos_label) ready for group_metrics, or raise _UsageError."""
    import numpy as np
    import pandas as pd

    from fairaudit._validation import find_missing, format_values
    from fairaudit.exceptions import DataError
    from fairaudit.metrics._engines._labels import check_prediction_labels, not_01_message

    for option, column in (("--target", args.target), ("--prediction", args.prediction)):
        rows = find_missing(frame[column])
        if rows.size:
            raise _UsageError(
                f"{option}: column {column!r} has {rows.size} missing value(s) at rows "
                f"{format_values(rows)}; remove or fill those rows first."
            )
    y_true, y_pred = frame[args.target], frame[args.prediction]
    if args.task == "regression":
        for option, column in (("--target", args.target), ("--prediction", args.prediction)):
            dtype = frame[column].dtype
            if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
                raise _UsageError(
                    f"{option}: column {column!r} holds {dtype} values; --task regression "
                    "needs numbers."
                )
        return y_true, y_pred, None
    if pd.api.types.is_float_dtype(y_pred.dtype) and not (y_pred % 1 == 0).all():
        raise _UsageError(
            f"--prediction: column {args.prediction!r} has fractional values "
            f"{format_values(y_pred.unique()[:5].tolist())}, which look like scores; pass the "
            "predicted labels with --prediction (and the scores with --score), or give "
            "--task regression if the target is a number."
        )
    if args.task == "multiclass":
        return y_true, y_pred, None

    def is_01(values: list[Any]) -> bool:
        return all(
            isinstance(v, bool | np.bool_)
            or (isinstance(v, int | float | np.integer | np.floating) and v in (0, 1))
            for v in values
        )

    target_values = y_true.unique().tolist()
    pred_values = y_pred.unique().tolist()
    if args.pos_label is None:
        for option, column, values in (
            ("--target", args.target, target_values),
            ("--prediction", args.prediction, pred_values),
        ):
            if not is_01(values):
                raise _UsageError(not_01_message(option, column, values))
        return y_true.astype(int), y_pred.astype(int), 1
    pos = _parse_label(args.pos_label, target_values)
    if pos is None:
        raise _UsageError(
            f"--pos-label: {args.pos_label!r} is not a value of --target {args.target!r} "
            f"(values: {format_values(sorted(map(str, target_values)))})."
        )
    # one-vs-rest: the positive class against every other value
    pred_pos = _parse_label(args.pos_label, pred_values)
    try:
        check_prediction_labels(
            args.pos_label,
            target_values,
            pred_values,
            [] if pred_pos is None else [pred_pos],
            args.target,
            args.prediction,
        )
    except DataError as exc:
        raise _UsageError(str(exc)) from None
    return (y_true == pos).astype(int), (y_pred == pred_pos).astype(int), 1


# How the library names what the user gave as a flag, most specific first.
_FLAG_WORDS: tuple[tuple[str, str], ...] = (
    (r"pass the model's scores", "pass the score column with --score"),
    (r"pos_label=None\b", "--task multiclass"),
    (r"pos_label=([^\s,;]+)", r"--pos-label \1"),
    (r"missing_groups='(\w+)'", r"--missing-groups \1"),
    (r"task='(\w+)'", r"--task \1"),
    (r"y_true\b", "--target"),
    (r"y_pred\b", "--prediction"),
    (r"y_score\b", "--score"),
    (r"sensitive_features\b", "--sensitive"),
    (r"sample_weight\b", "--sample-weight"),
    (r"pos_label\b", "--pos-label"),
    (r"n_boot\b", "--n-boot"),
    (r"min_group_size\b", "--min-group-size"),
    (r"random_state\b", "--seed"),
    (r"confidence(?= ?==| must)", "--confidence"),
    (r"metrics=", "--metrics "),
)


def _in_flag_words(message: str) -> str:
    """Reword a library message in the command's terms (``y_score`` -> ``--score``)."""
    import re

    for pattern, replacement in _FLAG_WORDS:
        # not inside a word or a flag already written as one (--n-boot, --confidence)
        message = re.sub(r"(?<![-\w])" + pattern, replacement, message)
    return message


# --------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------


def _progress(args: argparse.Namespace, err: TextIO, message: str) -> None:
    """Progress lines on long work, shown when stderr is a terminal (as pip and tqdm do)."""
    isatty = getattr(err, "isatty", None)
    if not args.quiet and callable(isatty) and isatty():
        print(f"fairaudit: {message} ...", file=err, flush=True)


def _check_options(args: argparse.Namespace) -> None:
    from fairaudit._validation import (
        MAX_RANDOM_STATE,
        check_confidence,
        check_count,
        check_min_group_size,
        check_n_boot,
    )

    try:
        check_n_boot(args.n_boot, name="--n-boot")
        check_confidence(args.confidence, name="--confidence")
        check_min_group_size(args.min_group_size, name="--min-group-size")
        check_count(
            args.seed,
            name="--seed",
            min_val=0,
            max_val=MAX_RANDOM_STATE,
            fix=f"Pass a seed in [0, {MAX_RANDOM_STATE}].",
        )
    except (TypeError, ValueError) as exc:
        raise _UsageError(_in_flag_words(str(exc))) from None
    if args.pos_label is not None and args.task in ("multiclass", "regression"):
        raise _UsageError(
            f"--pos-label picks one class against the rest (a binary task); leave it out with "
            f"--task {args.task}."
        )
    if args.junit and not args.policy:
        raise _UsageError("--junit writes the policy checks; give --policy as well.")
    if len(set(args.sensitive)) != len(args.sensitive):
        raise _UsageError(f"--sensitive: a column is named twice in {args.sensitive}.")
    for option in ("report", "json", "junit"):
        value = getattr(args, option)
        if value is not None and Path(value).is_dir():
            raise _UsageError(f"--{option}: {value} is a directory; give a file name.")
        if value is not None and Path(value).is_symlink() and not args.follow_symlinks:
            raise _UsageError(
                f"--{option}: {value} is a symbolic link (to {os.readlink(value)}); outputs are "
                "not written through links. Remove it, give another path, or pass "
                "--follow-symlinks."
            )
    if args.report and Path(args.report).suffix.lower() not in (".html", ".htm", ".md", ".json"):
        raise _UsageError(f"--report: use a .html, .md or .json file name, got {args.report!r}.")


def _check_metric_names(args: argparse.Namespace) -> None:
    from fairaudit.metrics import METRIC_REGISTRY

    unknown = [m for m in args.metrics or () if m not in METRIC_REGISTRY]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(METRIC_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _UsageError(
            f"--metrics: unknown metric {unknown[0]!r}.{hint} Known: "
            f"{', '.join(sorted(METRIC_REGISTRY))}."
        )


def _audit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import fairaudit as fa
    from fairaudit.exceptions import FairauditError
    from fairaudit.report import sha256_file

    _check_options(args)
    policy = fa.Policy.from_yaml(args.policy) if args.policy else None
    if policy is not None:  # before reading the data: a policy audit cannot judge at all
        from fairaudit.policy._gate import require_judgeable

        predicted = args.prediction is not None or bool(args.endpoint)
        kinds = ("group_metrics",) if predicted else ("data_bias",)
        require_judgeable(policy, kinds=kinds, command="fairaudit audit")
    if args.prediction is not None and args.endpoint:
        raise _UsageError("--prediction and --endpoint: give one of them, not both.")
    if args.prediction is None and not args.endpoint:
        return _audit_data(args, out, err, policy)
    if args.strata:
        raise _UsageError(
            "--strata is for the data alone (without --prediction); for predictions use "
            "fa.metrics.conditional_demographic_disparity in Python."
        )

    data_text = " ".join(args.data)
    _check_metric_names(args)
    for item in args.data:
        if Path(item).is_dir():
            raise _UsageError(
                f"DATA: {item} is a directory; give files or a quoted glob such as "
                f"'{item}/*.parquet'."
            )
    if not args.endpoint and (args.endpoint_config or args.features or args.exclude):
        raise _UsageError("--endpoint-config, --features and --exclude need --endpoint.")
    _progress(args, err, f"reading {data_text} ({args.engine})")
    endpoint_url = args.endpoint
    if endpoint_url:
        _progress(args, err, "querying the endpoint for the predictions")
    try:
        table = _count(args)
    except (FairauditError, ValueError, TypeError) as exc:
        raise _UsageError(_in_flag_words(str(exc))) from exc

    inputs = {
        "data file": data_text,
        "data SHA-256": _sha256_files(args.data, sha256_file),
        "rows": table.n_rows,
        "target column": args.target,
        "prediction column": None if endpoint_url else args.prediction,
        "score column": None if endpoint_url else args.score,
        "endpoint": getattr(args, "endpoint_recorded", None),
        "endpoint protocol": getattr(args, "endpoint_protocol", None),
        "task": args.task,
        "positive label": (args.pos_label if args.pos_label is not None else 1)
        if args.task in (None, "binary")
        else None,
        "sample weight column": args.sample_weight,
        "policy file": args.policy,
    }
    inputs = {k: v for k, v in inputs.items() if v is not None}

    _progress(
        args,
        err,
        f"computing group metrics by {', '.join(args.sensitive)} on {table.n_rows:,} rows"
        + (f" with {args.n_boot:,} bootstrap replicates" if args.n_boot else ""),
    )

    def compute(metrics: list[str] | None) -> Any:
        return fa.group_metrics(
            table,
            metrics=metrics,
            n_boot=args.n_boot,
            confidence=args.confidence,
            min_group_size=args.min_group_size,
            random_state=args.seed,
        )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gm = compute(list(args.metrics) if args.metrics else None)
            # registry names (multiclass columns are "metric[class]")
            have = list(dict.fromkeys(str(m).partition("[")[0] for m in gm.metrics))
            missing = [m for m in (policy.metrics if policy else ()) if m not in have]
            if missing:
                # the policy needs metrics beyond the defaults (or beyond --metrics): add them
                gm = compute([*have, *missing])
            marginals = [gm.marginal(f) for f in args.sensitive] if len(args.sensitive) > 1 else []
            outcome = _gate(policy, gm, ("group_metrics",), args, err)
        except (FairauditError, ValueError, TypeError) as exc:
            # the library speaks of its arguments; the user typed flags
            raise _UsageError(_in_flag_words(str(exc))) from exc
    seen_messages: set[str] = set()
    for w in caught:
        text = _in_flag_words(str(w.message))
        if text not in seen_messages and not args.quiet:
            seen_messages.add(text)
            print(f"fairaudit: warning: {text}", file=err)

    report = fa.Report(
        title=args.title, inputs=inputs, timestamp=args.timestamp, plots=not args.no_plots
    )
    if outcome is not None:
        report.add(outcome)
    for marginal in marginals:
        report.add(marginal)
    report.add(gm)
    return _emit(args, out, err, inputs, report, outcome)


def _gate(
    policy: Any, result: Any, kinds: tuple[str, ...], args: argparse.Namespace, err: TextIO
) -> Any:
    """Check the rules ``fairaudit audit`` can judge; a note on stderr names the others."""
    if policy is None:
        return None
    from fairaudit.policy._gate import check_judgeable

    outcome, skipped = check_judgeable(policy, result, kinds=kinds, command="fairaudit audit")
    if skipped and not args.quiet:
        print(
            f"fairaudit: note: {len(skipped)} rule(s) of the policy are not judged by this "
            f"command: {', '.join(skipped)}.",
            file=err,
        )
    return outcome


def _audit_data(args: argparse.Namespace, out: TextIO, err: TextIO, policy: Any) -> int:
    """Audit the labels alone (no --prediction): bias in the data, before any model."""
    import fairaudit as fa
    from fairaudit.metrics._engines._duckdb import SourceError
    from fairaudit.report import sha256_file

    for option in ("score", "metrics"):
        if getattr(args, option):
            raise _UsageError(f"--{option} needs --prediction: without it the labels are audited.")
    if args.engine not in ("duckdb",):
        raise _UsageError(
            "without --prediction the labels are counted by DuckDB; leave out --engine."
        )
    data_text = " ".join(args.data)
    for item in args.data:
        if Path(item).is_dir():
            raise _UsageError(
                f"DATA: {item} is a directory; give files or a quoted glob such as "
                f"'{item}/*.parquet'."
            )
    _progress(args, err, f"reading {data_text} (duckdb): bias in the labels of {args.target}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            db = fa.data_bias(
                args.target,
                sensitive_features=list(args.sensitive),
                strata=list(args.strata) if args.strata else None,
                pos_label=args.pos_label,
                n_boot=args.n_boot,
                confidence=args.confidence,
                random_state=args.seed,
                min_group_size=args.min_group_size,
                data=list(args.data) if len(args.data) > 1 else args.data[0],
                memory_limit=args.memory_limit,
                threads=args.threads,
            )
        except (SourceError, FileNotFoundError) as exc:
            raise _UsageError(f"DATA: {exc}") from None
        except (TypeError, ValueError) as exc:
            text = str(exc)
            for api, flag in (
                ("y_true", "--target"),
                ("sensitive_features", "--sensitive"),
                ("strata", "--strata"),
                ("pos_label", "--pos-label"),
                ("n_boot", "--n-boot"),
            ):
                text = text.replace(f"{api}=", f"{flag} ").replace(f"{api} ", f"{flag} ")
            raise _UsageError(text) from None
        outcome = _gate(policy, db, ("data_bias",), args, err)
    seen: set[str] = set()
    for w in caught:
        text = str(w.message)
        if text not in seen and not args.quiet:
            seen.add(text)
            print(f"fairaudit: warning: {text}", file=err)
    inputs = {
        "data file": data_text,
        "data SHA-256": _sha256_files(args.data, sha256_file),
        "rows": db.n_samples,
        "target column": args.target,
        "strata columns": ", ".join(args.strata) if args.strata else None,
        "positive label": args.pos_label,
        "policy file": args.policy,
    }
    inputs = {k: v for k, v in inputs.items() if v is not None}
    report = fa.Report(
        title=args.title, inputs=inputs, timestamp=args.timestamp, plots=not args.no_plots
    )
    if outcome is not None:
        report.add(outcome)
    report.add(db)
    return _emit(args, out, err, inputs, report, outcome)


def _emit(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    inputs: dict[str, Any],
    report: Any,
    outcome: Any,
) -> int:
    """Write the report files and the summary; the exit status from the policy outcome."""
    from fairaudit._files import write_text_atomic

    written = []
    if args.report:
        _progress(args, err, f"writing {args.report}")
        written.append(str(report.save(args.report, follow_symlinks=args.follow_symlinks)))
    if args.json:
        saved = report.save(args.json, format="json", follow_symlinks=args.follow_symlinks)
        written.append(str(saved))
    if args.junit and outcome is not None:
        path = write_text_atomic(
            args.junit, outcome.to_junit(), follow_symlinks=args.follow_symlinks, argument="--junit"
        )
        written.append(str(path))

    if args.format == "json":
        out.write(report.to_json())
    else:
        _print_summary(out, args, inputs, report, outcome, written)
    return _EXIT_OK if outcome is None or outcome.passed else _EXIT_CHECK_FAILED


_ENDPOINT_PREDICTION = "fairaudit: endpoint prediction"
_ENDPOINT_SCORE = "fairaudit: endpoint score"


def _predict_endpoint(frame: Any, args: argparse.Namespace) -> Any:
    """Query --endpoint for the rows of DATA; return the frame with the answers added."""
    import fairaudit as fa
    from fairaudit._endpoint import endpoint_from_config

    if args.score:
        raise _UsageError(
            "--score names a column of DATA; with --endpoint the score comes from "
            "the endpoint (set score: in --endpoint-config)."
        )
    endpoint = endpoint_from_config(args.endpoint, args.endpoint_config)
    for option, names in (("--features", args.features), ("--exclude", args.exclude)):
        for column in names or ():
            _check_column(frame, column, option, args.data)
    _check_column(frame, args.target, "--target", args.data)
    if args.features:
        features = list(args.features)
    else:
        skip = {args.target, *args.sensitive, *(args.exclude or ())}
        features = [c for c in frame.columns if c not in skip]
    if not features:
        raise _UsageError("--endpoint: no feature columns are left to send; check --exclude.")
    pos_label = None
    if args.pos_label is not None and endpoint.classes is not None:
        pos_label = _parse_label(args.pos_label, endpoint.classes)
    model = fa.wrap(endpoint, pos_label=pos_label)
    X = frame[features]
    added = {_ENDPOINT_PREDICTION: model.predict(X)}
    if model.output_kind == "score":
        added[_ENDPOINT_SCORE] = model.predict_score(X)
        args.score = _ENDPOINT_SCORE
    args.prediction = _ENDPOINT_PREDICTION
    args.endpoint_recorded = endpoint.url  # without query string; never the headers
    args.endpoint_protocol = endpoint.protocol
    return frame.assign(**added)


def _print_summary(
    out: TextIO,
    args: argparse.Namespace,
    inputs: dict[str, Any],
    report: Any,
    outcome: Any,
    written: list[str],
) -> None:
    data = report.to_dict()
    print(
        f"Audited {inputs['data file']}: {inputs['rows']:,} rows, SHA-256 {inputs['data SHA-256'][:16]}...",
        file=out,
    )
    boot = (
        f"{args.n_boot:,} bootstrap replicates (seed {args.seed}, {args.confidence:.0%} intervals)"
        if args.n_boot
        else "no intervals (--n-boot 0)"
    )
    print(f"Groups by {', '.join(args.sensitive)}; {boot}.", file=out)
    findings = [line for s in data["sections"] for line in s["summary"][:2]]
    if findings:
        print("Findings:", file=out)
        for line in findings:
            print(f"  - {line}", file=out)
    if outcome is not None:
        print(outcome.summary()[0], file=out)
        for r in outcome.results:
            print(f"  {r.status.upper():5} {r.name}: {r.rule.label}", file=out)
            if not r.passed:
                print(f"        {r.reason}", file=out)
    if written:
        print(f"Wrote {', '.join(written)}", file=out)


def _compare(args: argparse.Namespace, out: TextIO) -> int:
    import fairaudit as fa

    _check_compare_sources(args)
    if args.engine != "spark" and args.spark_master:
        raise _UsageError("--spark-master needs --engine spark.")
    if args.junit and not args.policy:
        raise _UsageError("--junit writes the policy checks; give --policy as well.")
    if not args.endpoint_a and args.engine != "pandas":
        return _compare_files(args, out)
    if len(args.data) != 1:
        raise _UsageError(
            "DATA: --engine pandas and --endpoint-a/b read one file; use --engine duckdb for "
            "several (without endpoints)."
        )
    args.data = args.data[0]
    frame = _read_table(args.data, list(args.sensitive))
    for option, column in (
        ("--target", args.target),
        *(("--features", c) for c in args.features or ()),
        *(("--exclude", c) for c in args.exclude or ()),
        ("--prediction-a", args.prediction_a),
        ("--prediction-b", args.prediction_b),
        ("--score-a", args.score_a),
        ("--score-b", args.score_b),
        *(("--sensitive", c) for c in args.sensitive),
    ):
        if column is not None:
            _check_column(frame, column, option, args.data)
    pos_label: Any = 1
    if args.pos_label is not None:
        pos_label = _parse_label(args.pos_label, frame[args.target].unique().tolist())
        if pos_label is None:
            raise _UsageError(f"--pos-label: {args.pos_label!r} is not a value of --target.")
    policy = fa.Policy.from_yaml(args.policy) if args.policy else None
    metrics = args.metrics
    if policy is not None:
        from fairaudit.policy._gate import comparison_metrics

        metrics = comparison_metrics(policy, args.metrics)
    common: dict[str, Any] = {
        "sensitive_features": frame[list(args.sensitive)],
        "metrics": metrics,
        "pos_label": pos_label,
        "n_boot": args.n_boot,
        "tolerance": args.tolerance,
        "confidence": args.confidence,
        "random_state": args.seed,
    }
    if args.endpoint_a:
        from fairaudit._endpoint import endpoint_from_config

        if args.features:
            features = list(args.features)
        else:
            skip = {args.target, *args.sensitive, *(args.exclude or ())}
            features = [c for c in frame.columns if c not in skip]
        if not features:
            raise _UsageError("--endpoint-a/b: no feature columns are left to send.")
        model_a = endpoint_from_config(args.endpoint_a, args.endpoint_a_config)
        model_b = endpoint_from_config(args.endpoint_b, args.endpoint_b_config)
        result = fa.compare(model_a, model_b, frame[features], frame[args.target], **common)
        return _compare_finish(args, out, result, policy)
    result = fa.compare_predictions(
        frame[args.target],
        frame[args.prediction_a],
        frame[args.prediction_b],
        score_a=frame[args.score_a] if args.score_a else None,
        score_b=frame[args.score_b] if args.score_b else None,
        **common,
    )
    return _compare_finish(args, out, result, policy)


def _compare_files(args: argparse.Namespace, out: TextIO) -> int:
    """``fairaudit compare`` on prediction columns: DuckDB or Spark scan the files."""
    import fairaudit as fa
    from fairaudit._compare import compare_files
    from fairaudit.metrics._engines._duckdb import SourceError

    for item in args.data:
        if Path(item).is_dir():
            raise _UsageError(
                f"DATA: {item} is a directory; give files or a quoted glob such as "
                f"'{item}/*.parquet'."
            )
    policy = fa.Policy.from_yaml(args.policy) if args.policy else None
    metrics = args.metrics
    if policy is not None:
        from fairaudit.policy._gate import comparison_metrics

        metrics = comparison_metrics(policy, args.metrics)
    try:
        result = compare_files(
            list(args.data),
            target=args.target,
            prediction_a=args.prediction_a,
            prediction_b=args.prediction_b,
            sensitive=list(args.sensitive),
            score_a=args.score_a,
            score_b=args.score_b,
            pos_label=args.pos_label,
            metrics=metrics,
            n_boot=args.n_boot,
            tolerance=args.tolerance,
            confidence=args.confidence,
            random_state=args.seed,
            engine=args.engine,
            spark_master=args.spark_master,
            memory_limit=args.memory_limit,
            threads=args.threads,
        )
    except (SourceError, FileNotFoundError) as exc:
        raise _UsageError(f"DATA: {exc}") from None
    args.data = " ".join(args.data)
    return _compare_finish(args, out, result, policy)


def _check_compare_sources(args: argparse.Namespace) -> None:
    """Each model is a prediction column or an endpoint, both of the same kind."""
    columns = (args.prediction_a, args.prediction_b)
    urls = (args.endpoint_a, args.endpoint_b)
    if any(urls) and any(columns):
        raise _UsageError(
            "give --prediction-a and --prediction-b (two columns) or --endpoint-a and "
            "--endpoint-b (two endpoints), not a mix."
        )
    if any(urls):
        if not all(urls):
            raise _UsageError("--endpoint-a and --endpoint-b: give both.")
        if args.score_a or args.score_b:
            raise _UsageError(
                "--score-a/--score-b name columns of DATA; with endpoints the scores come "
                "from them (set score: in --endpoint-a-config / --endpoint-b-config)."
            )
        return
    if not all(columns):
        raise _UsageError(
            "give --prediction-a and --prediction-b (two prediction columns of DATA), or "
            "--endpoint-a and --endpoint-b."
        )
    extra = (args.endpoint_a_config, args.endpoint_b_config, args.features, args.exclude)
    if any(extra):
        raise _UsageError(
            "--endpoint-a-config, --endpoint-b-config, --features and --exclude need "
            "--endpoint-a and --endpoint-b."
        )


def _compare_finish(args: argparse.Namespace, out: TextIO, result: Any, policy: Any) -> int:
    """Report, policy check and exit status of ``fairaudit compare``."""
    import fairaudit as fa

    report = fa.Report(title="Model comparison", inputs={"data file": args.data})
    outcome = None
    if policy is not None:
        from fairaudit.policy._gate import check_comparison

        outcome = check_comparison(policy, result)
        report.add(outcome)
    report.add(result)
    if args.report:
        report.save(args.report)
    if args.json:
        report.save(args.json, format="json")
    for line in result.to_dict()["summary"]:
        print(line, file=out)
    if outcome is not None:
        if args.junit:
            path = Path(args.junit)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(outcome.to_junit(), encoding="utf-8", newline="\n")
        _print_outcome(out, outcome)
        if not outcome.passed:
            return _EXIT_CHECK_FAILED
    return _EXIT_OK if result.passed in (None, True) else _EXIT_CHECK_FAILED


def _print_outcome(out: TextIO, outcome: Any) -> None:
    print(outcome.summary()[0], file=out)
    for r in outcome.results:
        print(f"  {r.status.upper():5} {r.name}: {r.rule.label}", file=out)
        if not r.passed:
            print(f"        {r.reason}", file=out)


def _validate_policy(args: argparse.Namespace, out: TextIO) -> int:
    import fairaudit as fa

    policy = fa.Policy.from_yaml(args.policy)
    print(
        f"{args.policy}: valid policy {policy.name!r} with {len(policy.rules)} rule(s), "
        f"SHA-256 {policy.sha256[:16]}...",
        file=out,
    )
    for rule in policy.rules:
        print(f"  {rule.id}: {rule.label}", file=out)
    return _EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the ``fairaudit`` command; return the exit status (never raises for user errors).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    stdout, stderr : text streams, optional
        Where to write (default ``sys.stdout`` / ``sys.stderr``).

    Returns
    -------
    int
        0 when every policy rule passed (or there was no policy), 1 when a rule failed or
        could not be judged, 2 on a usage or input error, 3 on an internal error.

    Examples
    --------
    >>> import io
    >>> err = io.StringIO()
    >>> main(["audit", "missing.csv", "--target", "y", "--prediction", "p",
    ...       "--sensitive", "s"], stderr=err)
    2
    >>> print(err.getvalue().strip())
    fairaudit: error: DATA: file not found: missing.csv
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in argv
    from fairaudit.exceptions import FairauditError

    try:
        parser = _build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version print and exit 0
            return int(exc.code or 0)
        if args.command == "audit":
            return _audit(args, out, err)
        if args.command == "compare":
            return _compare(args, out)
        if args.command == "monitor":
            from fairaudit.monitor._cli import run_monitor_command

            return run_monitor_command(args, out)
        return _validate_policy(args, out)
    except (_UsageError, FairauditError, ImportError, OSError, ValueError, TypeError) as exc:
        if show_traceback:
            traceback.print_exc(file=err)
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"fairaudit: error: {message}", file=err)
        return _EXIT_USAGE
    except KeyboardInterrupt:
        print("fairaudit: interrupted", file=err)
        return 130
    except Exception:
        traceback.print_exc(file=err)
        print(
            "fairaudit: internal error (a bug in fairaudit); please report it with the "
            "traceback above.",
            file=err,
        )
        return _EXIT_INTERNAL
