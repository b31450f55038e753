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


@pytest.mark.parametrize("data", ["int_pred.csv", "dotted.csv"])
def test_pos_label_missing_from_a_foreign_prediction_column_exits_2(folder, data):
    # every prediction would count as negative: selection rates 0 vs 0, and the gate would pass
    code, out, err = audit(folder, data, "--policy", folder / "policy.yaml")
    assert code == 2, (out, err)
    line = err.strip()
    assert line.startswith("fairaudit: error: --prediction:")
    assert "--pos-label '>50K'" in line
    assert "Traceback" not in line


def test_a_model_that_never_predicts_the_positive_class_is_still_audited(folder):
    # the predictions are labels of the target that never happen to be positive: legitimate
    code, _, err = audit(folder, "all_negative.csv")
    assert code == 0, err
