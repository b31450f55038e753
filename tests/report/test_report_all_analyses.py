"""Every analysis's real result goes into one report: rendered, valid, escaped, reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.report import validate_report

pytest.importorskip("jinja2")
pytest.importorskip("jsonschema")
pytest.importorskip("matplotlib")

EVIL = "<script>alert(1)</script>"  # the group label of the script_group_data fixture


@pytest.fixture(scope="module")
def results():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    n = 400
    x0 = rng.normal(size=n)
    X = pd.DataFrame({"income": x0, EVIL: 0.8 * x0 + 0.6 * rng.normal(size=n)})
    y = (X["income"] + 0.1 * rng.normal(size=n) > 0).astype(int)
    sex = pd.Series(rng.choice(["F", "M"], n), name="sex")
    model = LinearRegression().fit(X, y)

    gm = fa.group_metrics(y, (model.predict(X) > 0.5).astype(int), sensitive_features=sex)
    imp = fa.orthogonal_importance(fa.wrap(model), X, n_boot=20, random_state=0)
    shap_gap = fa.importance.shap_by_group(
        model, X, sensitive_features=sex, n_background=20, max_samples=60, random_state=0
    )

    words = ["he", "she", "man", "woman", "doctor", "nurse", "engineer", "dancer"]
    vectors = rng.normal(size=(len(words), 6)).astype(np.float32)
    wv = fa.embeddings.WordVectors(words, vectors)
    direction = fa.embeddings.bias_direction(wv, [("she", "he")], method="single")
    bias = fa.embeddings.direct_bias(wv, ["doctor", "nurse", "engineer", "dancer"], direction)
    weat = fa.embeddings.weat(
        wv, ["doctor", "engineer"], ["nurse", "dancer"], ["he", "man"], ["she", "woman"]
    )
    leak = fa.debias.leakage(rng.normal(size=n), sex.to_numpy(), random_state=0)
    return [gm, imp, shap_gap, bias, weat, leak]


def test_every_result_kind_renders_into_one_valid_report(results, tmp_path):
    report = fa.Report(title="All analyses")
    for result in results:
        report.add(result)
    data = report.to_dict()
    validate_report(data)
    kinds = {section["kind"] for section in data["sections"]}
    assert kinds == {r.to_dict()["kind"] for r in results}
    assert len(kinds) == len(results), "each analysis reports its own kind"

    html = report.to_html()
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<svg") >= len(results)
    for result in results:
        assert result.to_dict()["title"].split(" ")[0] in html

    first = report.save(tmp_path / "a.html").read_bytes()
    second = report.save(tmp_path / "b.html").read_bytes()
    assert first == second
