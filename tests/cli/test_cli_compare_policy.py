"""``fairaudit compare --policy/--junit``: the comparison rules of a policy gate the exit status."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from fairaudit.cli import main

POLICY = """
version: 1
name: production matches research
rules:
  - id: agreement
    comparison: agreement
    min: {agreement}
  - id: selection-rate
    comparison: selection_rate
    max: 0.05
  - id: precision
    comparison: precision
    max: 0.5
  - id: four-fifths
    metric: selection_rate
    min: 0.8
"""


def run(args: list) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(3)
    n = 500
    a = rng.integers(0, 2, n)
    b = a.copy()
    b[:10] = 1 - b[:10]
    path = tmp_path / "pred.csv"
    pd.DataFrame(
        {"y": rng.integers(0, 2, n), "a": a, "b": b, "sex": rng.choice(["F", "M"], n)}
    ).to_csv(path, index=False)
    base = ["compare", path, "--target", "y", "--sensitive", "sex"]
    return [*base, "--prediction-a", "a", "--prediction-b", "b", "--n-boot", "50"]


def test_compare_policy_passes_and_fails(data, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(agreement=0.9))
    junit = tmp_path / "out" / "checks.xml"
    code, out, err = run([*data, "--policy", policy, "--junit", junit])
    assert code == 0, err + out
    assert "all 3 checks passed" in out
    root = ET.fromstring(junit.read_text())
    names = [case.get("name").split(":")[0] for case in root.iter("testcase")]
    # the group-metric rule is not a comparison rule: compare does not judge it
    assert names == ["agreement [sex]", "selection-rate [sex]", "precision [sex]"]
    # precision is not among the default metrics: the policy added it
    policy.write_text(POLICY.format(agreement=0.999))
    code, out, _ = run([*data, "--policy", policy, "--junit", junit, "--json", tmp_path / "r.json"])
    assert code == 1
    assert "FAIL  agreement [sex]" in out
    assert ET.fromstring(junit.read_text()).find("testsuite").get("failures") == "1"


def test_compare_policy_usage_errors(data, tmp_path):
    code, _, err = run([*data, "--junit", tmp_path / "j.xml"])
    assert code == 2
    assert "give --policy as well" in err
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules:\n  - {metric: selection_rate, min: 0.8}\n")
    code, _, err = run([*data, "--policy", policy])
    assert code == 2
    assert "no 'comparison:' rule" in err
    policy.write_text("version: 1\nrules:\n  - {id: x, comparison: agreement, max: 0.8}\n")
    code, _, err = run([*data, "--policy", policy])
    assert code == 2
    assert "rule 1 ('x'): comparison: agreement takes 'min' only" in err
