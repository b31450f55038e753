"""`fairaudit audit DATA --target COL --sensitive ...` without --prediction: bias in the labels."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.cli import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def labels_csv(tmp_path_factory):
    ds = fa.datasets.load_german()
    folder = tmp_path_factory.mktemp("labels")
    frame = ds.frame.assign(y=ds.y.to_numpy())
    frame.to_csv(folder / "german.csv", index=False)
    return folder / "german.csv", frame


def test_labels_alone_match_the_api(labels_csv, tmp_path):
    path, frame = labels_csv
    code, out, err = run(
        "audit",
        path,
        "--target",
        "y",
        "--sensitive",
        "sex",
        "--strata",
        "purpose",
        "--n-boot",
        100,
        "--seed",
        1,
        "--json",
        tmp_path / "r.json",
        "--quiet",
    )
    assert code == 0, err
    assert "Findings:" in out
    assert "DPL" in out
    section = json.loads((tmp_path / "r.json").read_text())["sections"][0]
    assert section["kind"] == "data_bias"
    api = fa.data_bias(
        frame["y"],
        sensitive_features=frame[["sex"]].astype(str),
        strata=frame["purpose"].astype(str),
        n_boot=100,
        random_state=1,
    ).to_frame()
    cli = pd.DataFrame(section["table"])
    np.testing.assert_allclose(cli["value"], api["value"], rtol=1e-12)
    np.testing.assert_allclose(cli["lower"], api["lower"], rtol=1e-12)


def test_measure_policy_gates_the_labels(labels_csv, tmp_path):
    path, _ = labels_csv
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - {id: dpl, measure: DPL, sensitive_feature: sex, max: 0.01}\n"
    )
    junit = tmp_path / "j.xml"
    code, out, _ = run(
        "audit",
        path,
        "--target",
        "y",
        "--sensitive",
        "sex",
        "--policy",
        policy,
        "--junit",
        junit,
        "--quiet",
    )
    assert code == 1  # women's DPL on German credit is 0.075 > 0.01
    assert "FAIL  dpl [sex]" in out
    ET.parse(junit)


def test_bad_input_names_the_flag(labels_csv):
    path, _ = labels_csv
    code, _, err = run("audit", path, "--target", "y", "--sensitive", "sx", "--quiet")
    assert code == 2
    assert "--sensitive 'sx'" in err
    assert "Did you mean 'sex'" in err
    code, _, err = run("audit", path, "--target", "credit", "--sensitive", "sex", "--quiet")
    assert code == 2
    assert "--pos-label" in err
    code, _, err = run(
        "audit",
        path,
        "--target",
        "credit",
        "--sensitive",
        "sex",
        "--pos-label",
        "good",
        "--quiet",
    )
    assert code == 0, err
    code, _, err = run(
        "audit", path, "--target", "y", "--sensitive", "sex", "--score", "duration", "--quiet"
    )
    assert code == 2
    assert "--score needs --prediction" in err
