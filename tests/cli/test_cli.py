"""The `fairaudit` command: exit codes, outputs, and one clear message per bad input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.cli import main

pytest.importorskip("jinja2")
pytest.importorskip("yaml")

EVIL = "<script>alert(1)</script>"  # the group label of the script_group_data fixture

PASSING = """\
version: 1
name: lenient
rules:
  - {id: accuracy, metric: accuracy, compare: value, min: 0.2}
"""
FAILING = """\
version: 1
name: four-fifths
defaults: {min_group_size: 30}
rules:
  - {id: sr-sex, metric: selection_rate, compare: ratio, min: 0.8, reference_group: M, sensitive_feature: sex}
  - {id: tpr, metric: true_positive_rate, compare: difference, max: 0.5, judge: interval}
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory, script_group_data):
    root = tmp_path_factory.mktemp("cli")
    n = 800
    base, rng = script_group_data(seed=3, n=n, sexes=("F", "M"), rates=(0.15, 0.45))
    y, pred = base["y"].to_numpy(), base["pred"].to_numpy()
    score = np.round(np.clip(0.6 * pred + 0.4 * rng.random(n), 0, 1), 4)
    frame = base.assign(score=score)[["y", "pred", "score", "sex", "race"]]
    frame.to_csv(root / "data.csv", index=False)
    frame.to_parquet(root / "data.parquet")
    labels = frame.assign(
        y=np.where(y == 1, ">50K", "<=50K"), pred=np.where(pred == 1, ">50K", "<=50K")
    )
    labels.to_csv(root / "labels.csv", index=False)
    frame.assign(y=rng.integers(0, 3, n)).to_csv(root / "three.csv", index=False)
    frame.assign(y=frame["y"].astype(float).where(np.arange(n) != 5)).to_csv(
        root / "missing.csv", index=False
    )
    weeks = rng.integers(0, 53, n)
    pd.DataFrame(
        {
            "weeks": weeks,
            "pred_weeks": np.clip(weeks + rng.integers(-3, 4, n), 0, 52),
            "sex": frame["sex"],
            "group": frame["sex"].where(np.arange(n) >= 2),
            "weight": np.round(rng.random(n) * 2, 3),
            "cls": rng.choice(["Private", "Self-emp", "Gov"], n),
            "pred_cls": rng.choice(["Private", "Self-emp", "Gov"], n),
        }
    ).to_csv(root / "weeks.csv", index=False)
    (root / "empty.csv").write_text("")
    (root / "header.csv").write_text("y,pred,sex\n")
    (root / "bad.parquet").write_bytes(b"not parquet at all")
    (root / "data.txt").write_text("y,pred\n1,0\n")
    (root / "pass.yaml").write_text(PASSING)
    (root / "fail.yaml").write_text(FAILING)
    (root / "malformed.yaml").write_text("version: 1\nrules:\n  - metric: [selection_rate\n")
    (root / "unknown_metric.yaml").write_text(
        "version: 1\nrules:\n  - {metric: selection_rte, min: 0.8}\n"
    )
    (root / "impossible.yaml").write_text(
        "version: 1\nrules:\n  - {metric: selection_rate, compare: difference, min: 0.3, max: 0.1}\n"
    )
    return root


def run(*argv, cwd=None):
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        code = main([str(a) for a in argv], stdout=out, stderr=err)
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def base(folder, data="data.csv"):
    return [
        "audit",
        folder / data,
        "--target",
        "y",
        "--prediction",
        "pred",
        "--sensitive",
        "sex",
        "race",
    ]


# --------------------------------------------------------------------------------------------
# exit codes
# --------------------------------------------------------------------------------------------


def test_no_policy_exits_0_and_prints_a_summary(folder):
    code, out, err = run(*base(folder))
    assert code == 0, err
    assert out.startswith(f"Audited {folder / 'data.csv'}: 800 rows, SHA-256 ")
    assert "Groups by sex, race; no intervals (--n-boot 0)." in out
    assert "Traceback" not in err


def test_passing_policy_exits_0(folder, tmp_path):
    code, out, err = run(
        *base(folder), "--policy", folder / "pass.yaml", "--junit", tmp_path / "j.xml"
    )
    assert code == 0, err
    assert "Policy 'lenient': all 2 checks passed." in out
    assert ET.parse(tmp_path / "j.xml").getroot().get("failures") == "0"


def test_failing_policy_exits_1_and_still_writes_everything(folder, tmp_path):
    code, out, err = run(
        *base(folder), "--score", "score", "--n-boot", "100",
        "--policy", folder / "fail.yaml",
        "--report", tmp_path / "r.html", "--json", tmp_path / "r.json", "--junit", tmp_path / "j.xml",
    )  # fmt: skip
    assert code == 1, err
    assert "FAIL  sr-sex [sex]: selection_rate ratio >= 0.8 vs M" in out
    html = (tmp_path / "r.html").read_text()
    assert "FAILED" in html
    assert EVIL not in html
    report = json.loads((tmp_path / "r.json").read_text())
    fa.report.validate_report(report)
    assert report["passed"] is False
    # marginals by sex and by race, then the intersection
    assert [s["sensitive_features"] for s in report["sections"]] == [
        ["sex"],
        ["race"],
        ["sex", "race"],
    ]
    assert report["provenance"]["inputs"]["data SHA-256"] == fa.report.sha256_file(
        folder / "data.csv"
    )
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert int(junit.get("failures")) >= 1
    assert junit.find("testsuite").get("name") == "four-fifths"


def test_parquet_gives_the_same_numbers_as_csv(folder, tmp_path):
    assert run(*base(folder), "--json", tmp_path / "c.json")[0] == 0
    assert run(*base(folder, "data.parquet"), "--json", tmp_path / "p.json")[0] == 0
    csv, parquet = (json.loads((tmp_path / f).read_text()) for f in ("c.json", "p.json"))
    assert csv["sections"][-1]["groups"] == parquet["sections"][-1]["groups"]


def test_format_json_prints_the_report(folder):
    code, out, _ = run(
        *base(folder), "--policy", folder / "fail.yaml", "--format", "json", "--quiet"
    )
    assert code == 1
    data = json.loads(out)
    fa.report.validate_report(data)
    assert data["passed"] is False


def test_quiet_writes_nothing_on_stderr(folder):
    code, _, err = run(*base(folder), "--quiet")
    assert (code, err) == (0, "")


def test_pos_label_binarizes_string_labels(folder):
    code, out, err = run(
        "audit", folder / "labels.csv", "--target", "y", "--prediction", "pred",
        "--sensitive", "sex", "--pos-label", ">50K", "--format", "json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    _code2, out2, _ = run(*base(folder)[:-1], "--format", "json", "--quiet")
    groups = json.loads(out)["sections"][-1]["groups"]
    assert groups == json.loads(out2)["sections"][-1]["groups"]


def test_byte_identical_reruns(folder, tmp_path):
    outputs = []
    for name in ("a", "b"):
        argv = [
            *base(folder), "--score", "score", "--n-boot", "50", "--seed", "1",
            "--policy", folder / "fail.yaml", "--report", tmp_path / f"{name}.html",
            "--json", tmp_path / f"{name}.json", "--junit", tmp_path / f"{name}.xml",
        ]  # fmt: skip
        assert run(*argv)[0] == 1
        outputs.append(
            [(tmp_path / f"{name}.{ext}").read_bytes() for ext in ("html", "json", "xml")]
        )
    assert outputs[0] == outputs[1]


def test_seed_changes_the_intervals(folder):
    def lower(seed):
        argv = [*base(folder)[:-1], "--metrics", "selection_rate", "--n-boot", "30"]
        _, out, _ = run(*argv, "--seed", seed, "--format", "json", "--quiet")
        return json.loads(out)["sections"][-1]["groups"][0]["lower"]

    assert lower(1) == lower(1)
    # rate intervals are Jeffreys intervals (closed form): the seed moves only the
    # bootstrapped (score, regression) intervals, so it leaves these alone
    assert lower(1) == lower(2)


# --------------------------------------------------------------------------------------------
# every bad input: exit 2, one line, no traceback
# --------------------------------------------------------------------------------------------

BAD = [
    (["audit", "{f}/nope.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "DATA: file not found: {f}/nope.csv"),
    (["audit", "{f}/empty.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "DATA: {f}/empty.csv is empty."),
    (["audit", "{f}/header.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "DATA: {f}/header.csv has a header but no rows."),
    (["audit", "{f}/bad.parquet", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "DATA: cannot read {f}/bad.parquet as Parquet"),
    (["audit", "{f}/data.txt", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "DATA: cannot tell the format of {f}/data.txt"),
    (["audit", "{f}", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "is a directory"),
    (["audit", "{f}/data.csv", "--target", "income", "--prediction", "pred", "--sensitive", "sex"], "--target: no column 'income' in {f}/data.csv."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "prd", "--sensitive", "sex"], "--prediction: no column 'prd' in {f}/data.csv. Did you mean 'pred'?"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "gender"], "--sensitive: no column 'gender'"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--score", "proba", "--sensitive", "sex"], "--score: no column 'proba'"),
    (["audit", "{f}/three.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "--target: column 'y' has values ['0', '1', '2'], not 0/1; give --task regression if they are quantities (counts, weeks), --task multiclass for metrics per class, or --pos-label '2'"),
    (["audit", "{f}/labels.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "not 0/1; name the positive class with --pos-label (e.g. --pos-label '>50K')"),
    (["audit", "{f}/labels.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--pos-label", "yes"], "--pos-label: 'yes' is not a value of --target 'y'"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "score", "--sensitive", "sex"], "--prediction: column 'score' has fractional values"),
    (["audit", "{f}/missing.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex"], "--target: column 'y' has 1 missing value(s) (NULL)"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--policy", "{f}/malformed.yaml"], "{f}/malformed.yaml: not valid YAML"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--policy", "{f}/unknown_metric.yaml"], "rule 1: key 'metric': unknown metric 'selection_rte'. Did you mean 'selection_rate'?"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--policy", "{f}/impossible.yaml"], "rule 1: impossible rule, 'min' (0.3) is greater than 'max' (0.1)"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--policy", "{f}/none.yaml"], "policy file not found: {f}/none.yaml"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--n-boot", "-1"], "--n-boot == -1, must be >= 0."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--n-boot", "many"], "argument --n-boot: invalid int value: 'many'"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--confidence", "95"], "--confidence == 95.0, must be < 1. Pass a level such as 0.95"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--n-boot", "1000000000"], "--n-boot == 1000000000, must be <= 100000."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--seed", "-1"], "--seed == -1, must be >= 0. Pass a seed in [0, 4294967295]."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--min-group-size", "-3"], "--min-group-size == -3, must be >= 0."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--metrics", "roc_auc"], "metric 'roc_auc' needs --score; pass the score column with --score."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--sample-weight", "wieght"], "--sample-weight: no column 'wieght'"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--sample-weight", "sex", "--engine", "pandas"], "--sample-weight must be numeric"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--task", "ranking"], "argument --task: invalid choice: 'ranking'"),
    (["audit", "{f}/labels.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--task", "multiclass", "--pos-label", ">50K"], "--pos-label picks one class against the rest (a binary task); leave it out with --task multiclass."),
    (["audit", "{f}/labels.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--task", "regression", "--engine", "pandas"], "--target: column 'y' holds"),
    (["audit", "{f}/weeks.csv", "--target", "weeks", "--prediction", "pred_weeks", "--sensitive", "sex"], "--target: column 'weeks' has values ['0', '1', '2', '3', '4', ... and 48 more], not 0/1; give --task regression if they are quantities"),
    (["audit", "{f}/weeks.csv", "--target", "weeks", "--prediction", "pred_weeks", "--task", "regression", "--sensitive", "group"], "sensitive feature 'group' has 2 missing"),
    (["audit", "{f}/weeks.csv", "--target", "weeks", "--prediction", "pred_weeks", "--task", "regression", "--sensitive", "group", "--engine", "pandas"], "impute them, or pass --missing-groups separate"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--junit", "j.xml"], "--junit writes the policy checks; give --policy as well."),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--report", "r.pdf"], "--report: use a .html, .md or .json file name"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "--metrics", "selection_rte"], "--metrics: unknown metric 'selection_rte'. Did you mean 'selection_rate'?"),
    (["audit", "{f}/data.csv", "--target", "y", "--prediction", "pred", "--sensitive", "sex", "sex"], "--sensitive: a column is named twice"),
    (["audit", "{f}/data.csv", "--prediction", "pred", "--sensitive", "sex"], "the following arguments are required: --target"),
    (["audit"], "the following arguments are required: DATA"),
    ([], "the following arguments are required: COMMAND"),
    (["audti"], "invalid choice: 'audti'"),
    (["validate-policy", "{f}/malformed.yaml"], "not valid YAML"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a[:1] + a[-2:]) for a, _ in BAD])
def test_bad_input_exits_2_with_one_clear_message(folder, argv, message):
    argv = [a.replace("{f}", str(folder)) for a in argv]
    code, out, err = (
        run(*argv, "--quiet") if argv[:1] == ["audit"] and len(argv) > 1 else run(*argv)
    )
    assert code == 2, (out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fairaudit: error: ")
    assert message.replace("{f}", str(folder)) in lines[0]


def test_policy_needing_a_missing_score_is_an_input_error(folder, tmp_path):
    path = tmp_path / "auc.yaml"
    path.write_text("version: 1\nrules:\n  - {metric: roc_auc, compare: difference, max: 0.1}\n")
    code, _, err = run(*base(folder), "--policy", path, "--quiet")
    assert code == 2
    assert "score" in err
    assert "Traceback" not in err


def test_version_and_validate_policy(folder, capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"fairaudit {fa.__version__}"
    code, out, _ = run("validate-policy", folder / "fail.yaml")
    assert code == 0
    assert "valid policy 'four-fifths' with 2 rule(s)" in out


def test_traceback_flag_shows_the_traceback(folder):
    code, _, err = run(
        "--traceback",
        "audit",
        folder / "nope.csv",
        "--target",
        "y",
        "--prediction",
        "p",
        "--sensitive",
        "s",
    )
    assert code == 2
    assert "Traceback" in err


# --------------------------------------------------------------------------------------------
# the installed entry point
# --------------------------------------------------------------------------------------------


def test_installed_entry_point_and_python_m(folder, tmp_path):
    exe = Path(sys.executable).with_name("fairaudit")
    if not exe.exists():
        pytest.skip(f"no installed entry point next to {sys.executable}")
    argv = [
        *map(str, base(folder)),
        "--policy",
        str(folder / "fail.yaml"),
        "--json",
        str(tmp_path / "r.json"),
        "--quiet",
    ]
    done = subprocess.run([str(exe), *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "FAIL  sr-sex [sex]" in done.stdout
    bad = subprocess.run(
        [str(exe), "audit", "nope.csv", "--target", "y", "--prediction", "p", "--sensitive", "s"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "fairaudit: error: DATA: file not found: nope.csv"
    version = subprocess.run(
        [sys.executable, "-m", "fairaudit", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (version.returncode, version.stdout.strip()) == (0, f"fairaudit {fa.__version__}")


# --------------------------------------------------------------------------------------------
# on par with the API: --task, --sample-weight, --missing-groups give what the library gives
# --------------------------------------------------------------------------------------------


def _json_by_group(out):
    data = json.loads(out)
    (section,) = [s for s in data["sections"] if s["kind"] == "group_metrics"]
    return section


def _cli_gm(folder, *argv):
    code, out, err = run("audit", folder / "weeks.csv", *argv, "--format", "json", "--quiet")
    assert code == 0, err
    return _json_by_group(out)


@pytest.mark.parametrize(
    ("argv", "kwargs"),
    [
        (
            ["--target", "weeks", "--prediction", "pred_weeks", "--task", "regression"],
            {"y_true": "weeks", "y_pred": "pred_weeks", "task": "regression", "pos_label": None},
        ),
        (
            ["--target", "cls", "--prediction", "pred_cls", "--task", "multiclass"],
            {"y_true": "cls", "y_pred": "pred_cls", "task": "multiclass", "pos_label": None},
        ),
        (
            ["--target", "cls", "--prediction", "pred_cls", "--sample-weight", "weight",
             "--task", "multiclass"],
            {"y_true": "cls", "y_pred": "pred_cls", "task": "multiclass", "pos_label": None,
             "sample_weight": "weight"},
        ),
        (
            ["--target", "weeks", "--prediction", "pred_weeks", "--task", "regression",
             "--missing-groups", "separate", "--sample-weight", "weight"],
            {"y_true": "weeks", "y_pred": "pred_weeks", "task": "regression", "pos_label": None,
             "missing_groups": "separate", "sample_weight": "weight"},
        ),
    ],
    ids=["regression", "multiclass", "weighted", "missing-separate"],
)  # fmt: skip
def test_cli_task_weights_and_missing_groups_match_the_api(folder, argv, kwargs):
    frame = pd.read_csv(folder / "weeks.csv")
    sensitive = "group" if kwargs.get("missing_groups") else "sex"
    section = _cli_gm(folder, *argv, "--sensitive", sensitive)
    kw = dict(kwargs)
    y_true, y_pred = frame[kw.pop("y_true")], frame[kw.pop("y_pred")]
    if "sample_weight" in kw:
        kw["sample_weight"] = frame[kw["sample_weight"]]
    gm = fa.group_metrics(
        y_true, y_pred, sensitive_features=frame[[sensitive]], min_group_size=1, **kw
    )
    assert gm.task == kwargs["task"]
    assert section["parameters"]["task"] == kwargs["task"]
    got = {(str(r[sensitive]), r["metric"]): r["value"] for r in section["table"]}
    assert {m for _, m in got} == set(gm.metrics)
    for group, row in gm.by_group.iterrows():
        for metric in gm.metrics:
            value = got[(str(group), metric)]
            np.testing.assert_allclose(np.nan if value is None else value, row[metric])


def test_warnings_name_flags(folder):
    code, _, err = run(
        "audit", folder / "weeks.csv", "--target", "weeks", "--prediction", "pred_weeks",
        "--task", "regression", "--sensitive", "group", "--missing-groups", "separate",
    )  # fmt: skip
    assert code == 0
    assert "or lower --min-group-size to silence" in err
    assert "min_group_size" not in err


def test_per_class_policy_same_in_multiclass_and_one_vs_rest(folder, tmp_path):
    policy = tmp_path / "private.yaml"
    policy.write_text(
        "version: 1\nname: per class\nrules:\n"
        "  - {id: tpr, metric: 'true_positive_rate[Private]', compare: difference, max: 0.9}\n"
    )
    outputs = []
    for extra in (["--task", "multiclass"], ["--pos-label", "Private"]):
        code, out, _ = run(
            "audit", folder / "weeks.csv", "--target", "cls", "--prediction", "pred_cls",
            "--sensitive", "sex", "--policy", policy, "--quiet", *extra,
        )  # fmt: skip
        assert code == 0, out
        outputs.append([line for line in out.splitlines() if "tpr" in line])
    assert outputs[0] == outputs[1]
    assert outputs[0][0].split() == [
        "PASS",
        "tpr",
        "[sex]:",
        "true_positive_rate[Private]",
        "difference",
        "<=",
        "0.9",
    ]


# --------------------------------------------------------------------------------------------
# reading through DuckDB: text groups, globs, compressed and corrupt files, engines
# --------------------------------------------------------------------------------------------


def _groups_of(out: str) -> list:
    return [g["group"] for g in json.loads(out)["sections"][-1]["groups"]]


def test_sensitive_columns_are_read_as_text(tmp_path):
    rows = ["y,pred,code"]
    codes = ["1", "01", "NA", "None", "1.0"] * 40
    rows += [f"{i % 2},{(i // 2) % 2},{c}" for i, c in enumerate(codes)]
    (tmp_path / "codes.csv").write_text("\n".join(rows) + "\n")
    code, out, err = run(
        "audit", tmp_path / "codes.csv", "--target", "y", "--prediction", "pred",
        "--sensitive", "code", "--format", "json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    groups = json.loads(out)["sections"][-1]
    labels = sorted(str(g) for g in groups["by_group"]["index"]) if "by_group" in groups else None
    table = fa.metrics._engines._files.scan_files(
        [str(tmp_path / "codes.csv")], target="y", prediction="pred", sensitive=["code"]
    )
    assert list(table.index) == ["01", "1", "1.0", "NA", "None"]
    assert table.group_rows.tolist() == [40] * 5
    del labels


def test_empty_sensitive_field_is_missing(tmp_path):
    (tmp_path / "gap.csv").write_text("y,pred,sex\n1,1,F\n0,1,\n1,0,M\n")
    code, _, err = run(
        "audit", tmp_path / "gap.csv", "--target", "y", "--prediction", "pred",
        "--sensitive", "sex", "--quiet",
    )  # fmt: skip
    assert code == 2
    assert "sensitive feature 'sex' has 1 missing" in err


@pytest.mark.parametrize("name", ["bad.csv.gz", "bad.csv.zip"])
def test_corrupt_compressed_file_exits_2(tmp_path, name):
    (tmp_path / name).write_bytes(b"\x1f\x8b\x08 this is not gzip nor zip" * 10)
    code, _, err = run(*base(tmp_path, name), "--quiet")
    assert code == 2, err
    assert "Traceback" not in err
    assert err.startswith("fairaudit: error: DATA: cannot read")


def test_gzip_zip_glob_and_engines_agree(folder, tmp_path):
    import gzip
    import zipfile

    text = (folder / "data.csv").read_bytes()
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(text))
    with zipfile.ZipFile(tmp_path / "d.csv.zip", "w") as z:
        z.writestr("d.csv", text)
    frame = pd.read_csv(folder / "data.csv")
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        frame.iloc[i::3].to_parquet(parts / f"part-{i}.parquet")

    def groups(*argv):
        code, out, err = run(*argv, "--format", "json", "--quiet", "--score", "score")
        assert code == 0, err
        return json.loads(out)["sections"][-1]["groups"]

    reference = groups(*base(folder))
    for data in (tmp_path / "d.csv.gz", tmp_path / "d.csv.zip", f"{parts}/*.parquet"):
        assert groups(*base(folder, data)) == reference
    assert groups(*base(folder), "--engine", "pandas") == reference
    # the shell expands a glob into several DATA arguments
    argv = base(folder)
    argv[1:2] = sorted(parts.glob("*.parquet"))
    assert groups(*argv) == reference


def test_bad_file_sets_exit_2(folder, tmp_path):
    frame = pd.read_csv(folder / "data.csv")
    frame.to_parquet(tmp_path / "a.parquet")
    frame.drop(columns="race").to_parquet(tmp_path / "b.parquet")
    for data, message in (
        (f"{tmp_path}/*.parquet", "do not share one schema"),
        (f"{tmp_path}/none-*.parquet", "DATA: no file matches"),
    ):
        code, _, err = run(*base(tmp_path, data), "--quiet")
        assert code == 2, err
        assert message in err
