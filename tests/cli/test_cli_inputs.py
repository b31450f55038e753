"""The command on inputs that would make up findings, and on outputs that are links."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from fairaudit.cli import main

pytest.importorskip("jinja2")
pytest.importorskip("yaml")


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_inputs")
    rng = np.random.default_rng(0)
    n = 200
    y = rng.integers(0, 2, n)
    pred = rng.integers(0, 2, n)
    sex = rng.choice(["F", "M"], n)
    income = np.where(y == 1, ">50K", "<=50K")
    pd.DataFrame({"y": income, "pred": pred, "sex": sex}).to_csv(root / "int_pred.csv", index=False)
    dotted = np.where(pred == 1, ">50K.", "<=50K.")
    pd.DataFrame({"y": income, "pred": dotted, "sex": sex}).to_csv(root / "dotted.csv", index=False)
    pd.DataFrame({"y": income, "pred": "<=50K", "sex": sex}).to_csv(
        root / "all_negative.csv", index=False
    )
    (root / "policy.yaml").write_text(
        "version: 1\nrules:\n  - {metric: selection_rate, compare: difference, max: 0.1}\n"
    )
    return root


def audit(folder, data, *extra):
    return run(
        "audit", folder / data, "--target", "y", "--prediction", "pred", "--sensitive", "sex",
        "--pos-label", ">50K", "--quiet", *extra,
    )  # fmt: skip


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize("data", ["int_pred.csv", "dotted.csv"])
def test_pos_label_missing_from_a_foreign_prediction_column_exits_2(folder, data, engine):
    # every prediction would count as negative: selection rates 0 vs 0, and the gate would pass
    code, out, err = audit(folder, data, "--policy", folder / "policy.yaml", "--engine", engine)
    assert code == 2, (out, err)
    line = err.strip()
    assert line.startswith("fairaudit: error: --prediction:")
    assert "--pos-label '>50K'" in line
    assert "Traceback" not in line


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_model_that_never_predicts_the_positive_class_is_still_audited(folder, engine):
    # the predictions are labels of the target that never happen to be positive: legitimate
    code, _, err = audit(folder, "all_negative.csv", "--engine", engine)
    assert code == 0, err


# --------------------------------------------------------------------------------------------
# outputs never go through a symbolic link unless asked, and are written atomically
# --------------------------------------------------------------------------------------------


def plain_audit(folder, *extra):
    return run(
        "audit", folder / "dotted.csv", "--target", "y", "--prediction", "y", "--sensitive",
        "sex", "--pos-label", ">50K", "--quiet", *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flag", "name"), [("--report", "r.html"), ("--json", "r.json"), ("--junit", "r.xml")]
)
def test_an_output_that_is_a_link_is_refused_and_its_target_untouched(folder, tmp_path, flag, name):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / name
    link.symlink_to(victim)
    extra = ["--policy", folder / "policy.yaml"] if flag == "--junit" else []
    code, _, err = plain_audit(folder, flag, link, *extra)
    assert code == 2
    assert err.startswith(f"fairaudit: error: {flag}: {link} is a symbolic link")
    assert "--follow-symlinks" in err
    assert victim.read_text() == "precious"
    assert link.is_symlink()


def test_a_dangling_link_creates_no_file_elsewhere(folder, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "planted.html"
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "report.html"
    link.symlink_to(elsewhere)
    code, _, err = plain_audit(folder, "--report", link)
    assert code == 2, err
    assert not elsewhere.exists()


def test_follow_symlinks_writes_the_target_and_keeps_the_link(folder, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    code, _, err = plain_audit(folder, "--json", link, "--follow-symlinks")
    assert code == 0, err
    assert link.is_symlink()
    assert target.read_text().startswith("{")


def test_outputs_are_written_atomically_and_leave_no_temporary_file(folder, tmp_path):
    out = tmp_path / "deep" / "r.html"
    code, _, err = plain_audit(folder, "--report", out, "--json", tmp_path / "r.json")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["r.html", "r.json"]


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    import os

    import fairaudit as fa

    out = tmp_path / "r.json"
    out.write_text("previous report")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        fa.Report(title="t").save(out)
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_report_save_refuses_a_link_unless_asked(tmp_path):
    import fairaudit as fa

    target = tmp_path / "target.md"
    link = tmp_path / "link.md"
    link.symlink_to(target)
    with pytest.raises(ValueError, match="is a symbolic link"):
        fa.Report(title="t").save(link)
    assert not target.exists()
    fa.Report(title="t").save(link, follow_symlinks=True)
    assert target.read_text().startswith("# t")
