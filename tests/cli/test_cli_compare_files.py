"""``fairaudit compare DATA`` through DuckDB, and ``audit --policy`` with rules of other kinds."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from fairaudit.cli import main

POLICY = """
version: 1
rules:
  - id: agreement
    comparison: agreement
    min: 0.9
  - id: four-fifths
    metric: selection_rate
    compare: ratio
    min: 0.5
  - id: flips
    metric: flip_rate
    max: 0.01
"""


def run(args: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cmpfiles")
    rng = np.random.default_rng(5)
    n = 3000
    a = rng.integers(0, 2, n)
    b = np.where(rng.random(n) < 0.95, a, 1 - a)
    sa = rng.random(n).round(3)
    df = pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "a": a,
            "b": b,
            "sa": sa,
            "sb": (sa + rng.normal(0, 0.01, n)).round(4),
            "sex": rng.choice(["F", "M"], n),
            "band": rng.choice(["01", "1", "2"], n),
        }
    )
    df.to_parquet(root / "d.parquet")
    df.to_csv(root / "d.csv", index=False)
    (root / "parts").mkdir()
    for i in range(3):
        df.iloc[i::3].to_parquet(root / "parts" / f"p{i}.parquet")
    return root, df


def args_for(data, *extra) -> list:
    return [
        "compare", *data, "--target", "y", "--prediction-a", "a", "--prediction-b", "b",
        "--score-a", "sa", "--score-b", "sb", "--sensitive", "sex", "band", "--n-boot", "100",
        "--tolerance", "0.1", *extra,
    ]  # fmt: skip


def report(path) -> dict:
    body = json.loads(path.read_text())
    body.pop("inputs", None)
    body.pop("provenance", None)  # names the data files
    return body


@pytest.mark.parametrize("name", ["d.csv", "d.parquet"])
def test_duckdb_equals_pandas_engine(files, tmp_path, name):
    root, _ = files
    code, out, err = run(args_for([root / name], "--json", tmp_path / "duck.json"))
    assert code in (0, 1), err
    code2, out2, _ = run(
        args_for([root / name], "--engine", "pandas", "--json", tmp_path / "pandas.json")
    )
    assert (code, out) == (code2, out2)
    assert report(tmp_path / "duck.json") == report(tmp_path / "pandas.json")
    if name == "d.csv":  # sensitive CSV columns are the text in the file: 01 and 1 differ
        groups = {g["group"] for g in report(tmp_path / "duck.json")["sections"][0]["by_group"]}
        assert {"F & 01", "F & 1"} <= groups


def test_globs_and_several_files_never_load_pandas(files, tmp_path, monkeypatch):
    root, _ = files
    code, out, _ = run(args_for([root / "d.parquet"], "--json", tmp_path / "one.json"))

    def refuse(*args, **kwargs):
        raise AssertionError("the file was loaded into pandas")

    monkeypatch.setattr(pd, "read_parquet", refuse)
    monkeypatch.setattr(pd, "read_csv", refuse)
    parts = sorted((root / "parts").glob("*.parquet"))
    for data in ([root / "parts" / "*.parquet"], parts):
        code2, out2, err = run(
            args_for(
                data, "--threads", "1", "--memory-limit", "500MB", "--json", tmp_path / "p.json"
            )
        )
        assert (code2, out2) == (code, out), err
        assert report(tmp_path / "p.json") == report(tmp_path / "one.json")


def test_compare_files_usage_errors(files, tmp_path):
    root, _ = files
    code, _, err = run(args_for([root / "d.parquet"], "--spark-master", "local[1]"))
    assert code == 2
    assert "--spark-master needs --engine spark" in err
    bad = [*args_for([root / "d.parquet"])]
    bad[bad.index("b")] = "bb"
    code, _, err = run(bad)
    assert code == 2
    assert "--prediction-b: no column 'bb'" in err
    assert "Did you mean 'b'" in err
    code, _, err = run(args_for([root / "nothing" / "*.parquet"]))
    assert code == 2
    assert "DATA: no file matches" in err
    code, _, err = run(args_for([root / "d.parquet"], "--pos-label", "yes"))
    assert code == 2
    assert "--pos-label: 'yes' is not a value of --target 'y'" in err
    code, _, err = run(args_for([root / "d.parquet", root / "d.csv"], "--engine", "pandas"))
    assert code == 2
    assert "read one file" in err


def test_compare_files_policy_gates_on_comparison_rules(files, tmp_path):
    root, _ = files
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY)
    code, out, err = run(args_for([root / "parts" / "*.parquet"], "--policy", policy))
    assert code == 0, err + out
    assert "PASS  agreement" in out


def test_audit_policy_judges_the_rules_it_can(files, tmp_path):
    root, _ = files
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY)
    audit = ["audit", root / "d.parquet", "--target", "y", "--prediction", "a", "--sensitive"]
    code, out, err = run([*audit, "sex", "--policy", policy])
    assert code == 0, err + out
    assert "PASS  four-fifths" in out
    assert "agreement" not in out
    assert "flips" not in out
    assert "not judged by this command: agreement, flips" in err
    only = tmp_path / "only.yaml"
    only.write_text("version: 1\nrules:\n  - {comparison: agreement, min: 0.9}\n")
    code, _, err = run([*audit, "sex", "--policy", only])
    assert code == 2
    assert "has no rule that 'fairaudit audit' can judge" in err
    # without --prediction the labels are audited: measure rules only
    code, _, err = run(["audit", root / "d.parquet", "--target", "y", "--sensitive", "sex",
                        "--policy", policy])  # fmt: skip
    assert code == 2
    assert "'measure:' rules on the labels" in err
