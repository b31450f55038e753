"""The pytest plugin: the same fairness test file against the local model and the endpoint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import fairaudit as fa
from fairaudit.testing import assert_equivalent

RESEARCH_TESTS = """
import pickle

import pytest

import fairaudit as fa
from fairaudit.testing import assert_equivalent

MODEL = {model_path!r}


@pytest.fixture(scope="session")
def fairaudit_local_model():
    with open(MODEL, "rb") as fh:
        return pickle.load(fh)


@pytest.fixture(scope="session")
def data():
    test = fa.datasets.load_adult(split="test")
    return test.X.iloc[:400], test.y.iloc[:400]


def test_the_served_model_is_the_research_model(endpoint, fairaudit_local_model, data):
    X, y = data
    assert_equivalent(fa.compare(fairaudit_local_model, endpoint, X, y,
                                 sensitive_features="sex", tolerance=0.01, n_boot=100,
                                 random_state=0))


def test_selection_rate_gap_is_known(endpoint, data):
    X, y = data
    gm = fa.audit(endpoint, X, y, sensitive_features="sex")
    print("MODEL-KIND", gm.provenance["model"]["kind"])
    assert gm.by_group.loc["Male", "selection_rate"] > gm.by_group.loc["Female", "selection_rate"]
"""


@pytest.mark.slow
def test_one_test_file_runs_against_the_model_and_the_endpoint(adult_model, adult_server, tmp_path):
    import pickle

    model_path = tmp_path / "research.pkl"
    model_path.write_bytes(pickle.dumps(adult_model))
    (tmp_path / "test_research.py").write_text(RESEARCH_TESTS.format(model_path=str(model_path)))
    (tmp_path / "endpoint.yaml").write_text("label: label\nscore: score\nbatch_size: 128\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:fairaudit",
        "-p",
        "fairaudit.testing",
        "--rootdir",
        str(tmp_path),
        "-c",
        os.devnull,
        str(tmp_path / "test_research.py"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRAUDIT_")}
    local = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "MODEL-KIND sklearn" in local.stdout
    env["FAIRAUDIT_ENDPOINT"] = adult_server + "/predict"
    env["FAIRAUDIT_ENDPOINT_CONFIG"] = str(tmp_path / "endpoint.yaml")
    remote = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    assert "MODEL-KIND endpoint" in remote.stdout


def test_assert_equivalent_lists_what_is_not_equivalent():
    y = [1, 0, 1, 0] * 20
    a = [1, 0, 1, 0] * 20
    b = [1, 1, 1, 1] * 20
    s = ["f", "m"] * 40
    cmp = fa.compare_predictions(
        y, a, b, sensitive_features=s, tolerance=0.05, n_boot=50, random_state=0
    )
    with pytest.raises(
        AssertionError,
        match=r"not shown equivalent within ±0\.05 \(8 of 12 differences\):\n  selection_rate \[m\]: b - a = 1 ",
    ):
        assert_equivalent(cmp)
    with pytest.raises(ValueError, match="no tolerance"):
        assert_equivalent(fa.compare_predictions(y, a, b, sensitive_features=s, n_boot=10))
    with pytest.raises(TypeError, match="ComparisonResult"):
        assert_equivalent("passed")
