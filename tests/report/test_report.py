"""Reports: self-contained HTML, JSON valid against the schema, escaping, reproducibility."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.report import report_schema, validate_report

jsonschema = pytest.importorskip("jsonschema")
pytest.importorskip("jinja2")

EVIL = "<script>alert(1)</script>"  # the group label of the script_group_data fixture


@pytest.fixture(scope="module")
def data(script_group_data):
    n = 1200
    frame, rng = script_group_data(seed=7, n=n, sexes=("Female", "Male"), rates=(0.2, 0.4))
    y, pred = frame["y"].to_numpy(), frame["pred"].to_numpy()
    score = np.clip(pred * 0.5 + rng.random(n) * 0.5, 0, 1)
    return y, pred, score, frame[["sex", "race"]]


@pytest.fixture(scope="module")
def gm(data):
    y, pred, score, sensitive = data
    return fa.group_metrics(
        y, pred, sensitive_features=sensitive, y_score=score, n_boot=100, random_state=0
    )


@pytest.fixture(scope="module")
def outcome(gm):
    policy = fa.Policy.from_dict(
        {
            "version": 1,
            "name": "gate",
            "rules": [
                {"id": "sr-sex", "metric": "selection_rate", "min": 0.8, "sensitive_feature": "sex", "reference_group": "Male"},
                {"id": "acc", "metric": "accuracy", "compare": "value", "min": 0.3},
            ],
        }
    )  # fmt: skip
    return policy.check(gm)


@pytest.fixture(scope="module")
def report(gm, outcome):
    return (
        fa.Report(title="Audit <b>bold</b>", inputs={"data file": "x.csv", "rows": 1200})
        .add(outcome)
        .add(gm.marginal("sex"))
        .add(gm)
    )


@pytest.fixture(scope="module")
def html(report):
    return report.to_html()


def test_html_escapes_user_data(html):
    assert EVIL not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html
    assert "Audit &lt;b&gt;bold&lt;/b&gt;" in html


def test_html_references_nothing_on_the_network(html):
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<script" not in html.lower()
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html.lower()
    # the plots are inline SVG
    assert html.count("<svg") == 2


def test_html_shows_summary_first_then_details(html):
    order = [
        html.index('id="summary"'),
        html.index('id="verdict"'),
        html.index('id="audited"'),
        html.index('id="summary-table"'),
        html.index('id="checks"'),
        html.index('id="result-1"'),
        html.index('id="provenance"'),
    ]
    assert order == sorted(order)
    assert "FAILED: 1 of 3 checks failed" in html
    # plain-language explanations from the metric registry
    assert fa.metrics.get_metric("selection_rate").description in html


def test_json_validates_against_the_schema(report):
    data = json.loads(report.to_json())
    validate_report(data)
    assert data["schema_version"] == 1
    assert data["passed"] is False
    assert [s["kind"] for s in data["sections"]] == ["group_metrics", "group_metrics"]
    assert data["checks"][0]["kind"] == "policy_outcome"
    assert data["provenance"]["policies"][0]["sha256"] == data["checks"][0]["parameters"]["sha256"]
    assert data["provenance"]["environment"]["fairaudit"] == fa.__version__
    assert data["timestamp"] is None


def test_schema_rejects_a_broken_report(report):
    data = report.to_dict()
    data["schema_version"] = 2
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)
    data = report.to_dict()
    del data["checks"][0]["results"][0]["status"]
    with pytest.raises(jsonschema.ValidationError):
        validate_report(data)
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_byte_identical_reruns(gm, outcome, tmp_path):
    def build(folder):
        r = fa.Report(title="t", inputs={"rows": 3}).add(outcome).add(gm)
        return [r.save(folder / f"r.{ext}").read_bytes() for ext in ("html", "json", "md")]

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert build(tmp_path / "a") == build(tmp_path / "b")


def test_timestamp_only_when_given(gm):
    assert "Generated 2026" not in fa.Report(plots=False).add(gm).to_html()
    r = fa.Report(timestamp="2026-11-22T03:00:00Z", plots=False).add(gm)
    assert "Generated 2026-11-22T03:00:00Z" in r.to_html()
    assert r.to_dict()["timestamp"] == "2026-11-22T03:00:00Z"


def test_save_by_suffix(report, tmp_path):
    assert report.save(tmp_path / "sub" / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert json.loads(report.save(tmp_path / "r.json").read_text())["kind"] == "report"
    md = report.save(tmp_path / "r.md").read_text()
    assert md.startswith("# Audit &lt;b&gt;bold&lt;/b&gt;")
    assert EVIL not in md
    with pytest.raises(ValueError, match=r"use a \.html, \.json or \.md suffix"):
        report.save(tmp_path / "r.pdf")


@dataclass(frozen=True)
class _OtherResult:
    """A result of some other analysis, following only the common keys of CONTRACT.md."""

    def to_dict(self):
        return {
            "kind": "orthogonal_importance",
            "schema_version": 1,
            "title": "Dependence on each feature",
            "summary": ["The model depends most on relationship (0.21)."],
            "parameters": {"n_repeats": 10, "random_state": 0},
            "table": [
                {"feature": "relationship", "total": 0.21, "direct": 0.05},
                {"feature": EVIL, "total": 0.01, "direct": None},
            ],
        }

    def plot(self, ax=None):
        ax.barh(["relationship", EVIL], [0.21, 0.01])
        return ax


def test_any_result_is_rendered_generically(tmp_path):
    report = fa.Report().add(_OtherResult())
    html = report.to_html()
    assert "Dependence on each feature" in html
    assert "The model depends most on relationship (0.21)." in html
    assert "<td>relationship</td>" in html
    assert "0.210" in html
    assert "n_repeats" in html
    assert "<svg" in html
    assert EVIL not in html
    validate_report(report.to_dict())
    assert "| relationship | 0.210 | 0.050 |" in report.to_markdown()


def test_add_rejects_objects_that_are_not_results():
    with pytest.raises(TypeError, match=r"Report.add\(\) takes a fairaudit result"):
        fa.Report().add(object())
    with pytest.raises(TypeError, match="must return a dict with a 'kind' key"):
        fa.Report().add(pd.DataFrame())


def test_report_without_plots_and_title_check(gm):
    assert "<svg" not in fa.Report(plots=False).add(gm).to_html()
    with pytest.raises(ValueError, match="title must not be empty"):
        fa.Report(title="")
    with pytest.raises(TypeError, match="title must be a string"):
        fa.Report(title=3)


def test_report_summarizes_many_groups(tmp_path):
    """Beyond MAX_GROUPS_SHOWN groups the page lists the largest and the most distant ones."""
    import warnings

    from fairaudit.report._view import MAX_GROUPS_SHOWN

    rng = np.random.default_rng(4)
    n_groups = 3 * MAX_GROUPS_SHOWN
    g = np.repeat([f"g{i:03d}" for i in range(n_groups)], np.arange(n_groups) + 5)
    y = rng.integers(0, 2, g.size)
    p = y.copy()
    p[g == "g000"] = 1 - p[g == "g000"]  # the smallest group, furthest from the overall value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = fa.group_metrics(y, p, sensitive_features=g, metrics=["accuracy"], min_group_size=1)
    report = fa.Report().add(gm)
    html = report.to_html()
    assert f"Showing {MAX_GROUPS_SHOWN} of {n_groups} groups" in html
    assert "No plot of" in html
    assert ">g000<" in html  # furthest from the overall accuracy
    assert f">g{n_groups - 1:03d}<" in html  # the largest
    assert ">g050<" not in html  # neither
    assert len(report.to_dict()["sections"][0]["groups"]) == n_groups  # the JSON has them all
    assert f"Showing {MAX_GROUPS_SHOWN} of {n_groups} groups" in report.to_markdown()
