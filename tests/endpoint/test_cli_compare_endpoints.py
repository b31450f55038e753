"""``fairaudit compare --endpoint-a URL --endpoint-b URL``: two served models, one gate."""

from __future__ import annotations

import io
import json

import fairaudit as fa
from fairaudit.cli import main


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_compares_two_endpoints_under_a_policy(adult_server, adult_model, adult_test, tmp_path):
    X, y = adult_test
    X, y = X.iloc[:300], y.iloc[:300]
    data = tmp_path / "rows.csv"
    X.assign(income_over_50k=y, row_id=range(len(y))).to_csv(data, index=False)
    config = tmp_path / "endpoint.yaml"
    config.write_text("label: label\nscore: score\nbatch_size: 100\n")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n"
        "  - {id: same-labels, comparison: agreement, min: 1.0}\n"
        "  - {id: same-selection, comparison: selection_rate, max: 0.0}\n"
    )
    report = tmp_path / "cmp.json"
    base = ["compare", data, "--target", "income_over_50k", "--sensitive", "sex"]
    code, out, err = run(
        [
            *base,
            "--endpoint-a",
            adult_server + "/predict",
            "--endpoint-a-config",
            config,
            "--endpoint-b",
            adult_server + "/predict",
            "--endpoint-b-config",
            config,
            "--features",
            *X.columns,
            "--n-boot",
            "50",
            "--policy",
            policy,
            "--json",
            report,
        ]
    )
    assert code == 0, err + out
    assert "agree on 100.00% of 300 rows" in out
    assert "all 2 checks passed" in out
    section = next(
        s for s in json.loads(report.read_text())["sections"] if s["kind"] == "comparison"
    )
    assert section["score_max_abs_diff"] == 0.0
    # the same numbers as the local model compared with itself
    local = fa.compare(adult_model, adult_model, X, y, sensitive_features=X["sex"], n_boot=0)
    assert section["agreement"] == local.agreement == 1.0


def test_cli_compare_endpoint_usage_errors(tmp_path):
    data = tmp_path / "rows.csv"
    data.write_text("y,a,sex\n1,1,F\n0,0,M\n")
    base = ["compare", data, "--target", "y", "--sensitive", "sex"]
    cases = [
        (["--endpoint-a", "http://127.0.0.1:9/p"], "give both"),
        (["--prediction-a", "a", "--endpoint-b", "http://127.0.0.1:9/p"], "not a mix"),
        (["--prediction-a", "a"], "give --prediction-a and --prediction-b"),
        (["--prediction-a", "a", "--prediction-b", "a", "--features", "a"], "need --endpoint-a"),
        (
            ["--endpoint-a", "http://h/p", "--endpoint-b", "http://h/p", "--score-a", "a"],
            "--score-a/--score-b",
        ),
    ]
    for extra, words in cases:
        code, _, err = run([*base, *extra])
        assert code == 2, (extra, err)
        assert words in err
