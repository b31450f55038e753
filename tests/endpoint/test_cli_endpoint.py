"""`fairaudit audit DATA --endpoint URL`: the language-agnostic release gate, in-process."""

from __future__ import annotations

import io
import json

import pytest

import fairaudit as fa
from fairaudit.cli import main

TOKEN = "Bearer good"  # what the fault server's /unauthorized route accepts


@pytest.fixture(scope="module")
def adult_csv(adult_test, tmp_path_factory):
    X, y = adult_test
    path = tmp_path_factory.mktemp("cli") / "adult.csv"
    X.assign(income_over_50k=y, row_id=range(len(y))).to_csv(path, index=False)
    return path


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_audits_an_endpoint_with_a_token_from_the_environment(
    faults, adult_model, adult_test, adult_csv, tmp_path, monkeypatch
):
    X, y = adult_test
    config = tmp_path / "endpoint.yaml"
    config.write_text(
        "label: label\nscore: score\nbatch_size: 200\nretries: 2\n"
        "headers:\n  Authorization: MODEL_TOKEN\n"
    )
    monkeypatch.setenv("MODEL_TOKEN", TOKEN)
    report = tmp_path / "audit.json"
    code, _out, err = run(
        [
            "audit",
            adult_csv,
            "--target",
            "income_over_50k",
            "--sensitive",
            "sex",
            "--endpoint",
            faults.base + "/unauthorized/predict",
            "--endpoint-config",
            config,
            "--features",
            *X.columns,  # the served model reads sex and race too
            "--json",
            report,
        ]
    )
    assert code == 0, err
    assert faults.total == 6  # 1,200 rows in batches of 200
    assert all(h["Authorization"] == TOKEN for h in faults.seen_headers)
    text = report.read_text()
    assert TOKEN not in text
    assert "good" not in text
    data = json.loads(text)
    section = next(s for s in data["sections"] if s["kind"] == "group_metrics")
    local = fa.audit(adult_model, X, y, sensitive_features="sex")
    for group in section["groups"]:
        name = group["group"]["sex"]
        for metric in ("selection_rate", "true_positive_rate", "roc_auc"):
            assert group["values"][metric] == local.by_group.loc[name, metric]


def test_cli_endpoint_errors_exit_2(faults, adult_csv, tmp_path, monkeypatch):
    monkeypatch.delenv("MODEL_TOKEN", raising=False)
    config = tmp_path / "endpoint.yaml"
    config.write_text("label: label\nheaders:\n  Authorization: MODEL_TOKEN\n")
    base = ["audit", adult_csv, "--target", "income_over_50k", "--sensitive", "sex"]
    code, _, err = run(
        [*base, "--endpoint", faults.base + "/ok/predict", "--endpoint-config", config]
    )
    assert code == 2
    assert "environment variable 'MODEL_TOKEN', which is not set" in err
    config.write_text("label: label\nbatchsize: 10\n")
    code, _, err = run(
        [*base, "--endpoint", faults.base + "/ok/predict", "--endpoint-config", config]
    )
    assert code == 2
    assert "unknown key 'batchsize'. Did you mean 'batch_size'?" in err
    code, _, err = run(
        [
            *base,
            "--endpoint",
            faults.base + "/unauthorized/predict",
            "--endpoint-config",
            tmp_path / "missing.yaml",
        ]
    )
    assert code == 2
    assert "cannot read" in err
    config.write_text("label: label\n")
    code, _, err = run(
        [
            *base,
            "--endpoint",
            faults.base + "/unauthorized/predict",
            "--endpoint-config",
            config,
            "--exclude",
            "row_id",
        ]
    )
    assert code == 2
    assert "HTTP 401 Unauthorized: 'invalid token'" in err
    code, _, err = run([*base, "--prediction", "age", "--exclude", "row_id"])
    assert code == 2
    assert "--endpoint-config, --features and --exclude need --endpoint" in err
    code, _, err = run([*base, "--endpoint", "https://u:p@host/predict"])
    assert code == 2
    assert "carries credentials" in err


def test_cli_compare_two_prediction_columns(adult_model, adult_test, tmp_path):
    X, y = adult_test
    score = adult_model.predict_proba(X)[:, 1]
    path = tmp_path / "predictions.csv"
    X[["sex"]].assign(
        y=y,
        research=adult_model.predict(X),
        production=(score > 0.55).astype(int),
        score=score,
    ).to_csv(path, index=False)
    base = [
        "compare",
        path,
        "--target",
        "y",
        "--sensitive",
        "sex",
        "--tolerance",
        "0.01",
        "--n-boot",
        "200",
    ]
    code, out, err = run(
        [
            *base,
            "--prediction-a",
            "research",
            "--prediction-b",
            "research",
            "--score-a",
            "score",
            "--score-b",
            "score",
            "--json",
            tmp_path / "same.json",
        ]
    )
    assert code == 0, err
    assert "agree on 100.00% of 1,200 rows" in out
    assert json.loads((tmp_path / "same.json").read_text())["sections"][0]["passed"] is True
    code, out, err = run([*base, "--prediction-a", "research", "--prediction-b", "production"])
    assert code == 1, err
    assert "Not shown equivalent within ±0.01" in out
    code, _, err = run([*base, "--prediction-a", "research", "--prediction-b", "prod"])
    assert code == 2
    assert "--prediction-b: no column 'prod'" in err
