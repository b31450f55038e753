"""Policy rules on flip tests (``metric: flip_rate`` ...) and comparisons (``comparison:``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import PolicyError


@pytest.fixture(scope="module")
def flip() -> fa.FlipTestResult:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({"x": rng.normal(size=n), "sex": rng.choice(["F", "M"], n)})
    y = (X["x"] + 0.8 * (X["sex"] == "M") + 0.5 * rng.normal(size=n) > 0.4).astype(int)
    encode = make_column_transformer((OneHotEncoder(), ["sex"]), remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    return fa.flip_test(model, X, feature="sex")


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    n = 600
    y = rng.integers(0, 2, n)
    a = rng.integers(0, 2, n)
    b = a.copy()
    b[:30] = 1 - b[:30]  # 5% of the rows disagree
    g = rng.choice(["F", "M", "X"], n, p=[0.45, 0.45, 0.1])
    return {"y": y, "a": a, "b": b, "g": g}


@pytest.fixture(scope="module")
def comparison(data: dict[str, np.ndarray]) -> fa.ComparisonResult:
    return fa.compare_predictions(
        data["y"],
        data["a"],
        data["b"],
        sensitive_features=pd.Series(data["g"], name="sex"),
        n_boot=200,
        tolerance=0.1,
        random_state=0,
    )


def policy(*rules: dict) -> fa.Policy:
    return fa.Policy.from_dict({"version": 1, "rules": list(rules)})


# --- flip tests ---------------------------------------------------------------------------


def test_flip_rule_judges_the_largest_group_value(flip):
    frame = flip.by_group
    worst = frame["flip_rate"].idxmax()
    top = float(frame["flip_rate"].max())
    ok = policy({"id": "f", "metric": "flip_rate", "max": top + 0.01}).check(flip)
    bad = policy({"id": "f", "metric": "flip_rate", "max": top - 0.01}).check(flip)
    assert ok.passed
    assert not bad.passed
    for outcome in (ok, bad):
        (r,) = outcome.results
        assert r.value == top
        assert r.worst_group == worst
        assert r.feature == ("sex",)
        assert r.rule.target == "flip_test"
        assert r.lower == frame.loc[worst, "flip_rate_lower"]
        assert set(r.judged_groups) == {"F", "M"}
    assert bad.results[0].status == "fail"


def test_flip_rule_interval_uses_the_upper_bound_and_min_group_size(flip):
    frame = flip.by_group
    (r,) = policy({"metric": "flip_rate", "max": 0.9, "judge": "interval"}).check(flip).results
    assert r.value == frame["flip_rate_upper"].max()
    # F has 142 rows, M 158: a size between leaves F out
    (r,) = policy({"metric": "to_negative", "max": 0.05, "min_group_size": 150}).check(flip).results
    assert r.excluded_groups == ("F",)
    assert r.judged_groups == ("M",)
    assert r.value == frame.loc["M", "to_negative"]
    assert r.status == "fail"


def test_flip_rule_min_bound_on_mean_score_change(flip):
    frame = flip.by_group
    low = float(frame["mean_score_change"].min())
    (r,) = policy({"metric": "mean_score_change", "min": low - 0.01}).check(flip).results
    assert r.passed
    assert r.value == low
    assert r.worst_group == frame["mean_score_change"].idxmin()
    (r,) = policy({"metric": "to_positive", "max": 0.0}).check(flip).results
    assert r.status == "fail"
    assert r.worst_group == "F"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"id": "r", "metric": "flip_rate", "compare": "ratio", "max": 0.1}, ["'r'", "compare"]),
        ({"id": "r", "metric": "flip_rate", "reference_group": "F", "max": 0.1}, ["'r'", "ref"]),
        ({"id": "r", "metric": "flip_rate", "sensitive_feature": "sex", "max": 0.1}, ["'r'"]),
        ({"id": "r", "metric": "flip_rate"}, ["'r'", "'min' and/or 'max'"]),
        ({"id": "r", "metric": "flip_rate", "min": 1.5}, ["'r'", "impossible"]),
        ({"id": "r", "metric": "flip_rate", "max": "x"}, ["'r'", "'max'"]),
        ({"id": "r", "metric": "flip_rate", "max": 0.1, "judge": "best"}, ["'r'", "'judge'"]),
        ({"id": "r", "metric": "flip_rat", "max": 0.1}, ["'r'", "Did you mean 'flip_rate'"]),
    ],
)
def test_bad_flip_rules(rule, words):
    with pytest.raises(PolicyError) as info:
        policy(rule)
    for word in words:
        assert word in str(info.value)


# --- comparisons --------------------------------------------------------------------------


def test_agreement_rule_judges_overall_and_every_group(comparison, data):
    by_hand = {
        g: float(np.mean(data["a"][data["g"] == g] == data["b"][data["g"] == g])) for g in "FMX"
    }
    by_hand["(all rows)"] = float(np.mean(data["a"] == data["b"]))
    assert by_hand["(all rows)"] == comparison.agreement
    low = min(by_hand.values())
    worst = min(by_hand, key=by_hand.__getitem__)
    (ok,) = policy({"comparison": "agreement", "min": low}).check(comparison).results
    (bad,) = policy({"comparison": "agreement", "min": low + 1e-9}).check(comparison).results
    assert ok.passed
    assert bad.status == "fail"
    assert ok.value == pytest.approx(low, abs=1e-15)
    assert ok.worst_group == worst
    assert set(ok.judged_groups) == set(by_hand)
    (r,) = (
        policy({"comparison": "agreement", "min": 0.5, "min_group_size": 100})
        .check(comparison)
        .results
    )
    assert r.excluded_groups == ("X",)


def test_metric_difference_rule_matches_the_differences_frame(comparison):
    table = comparison.differences
    rows = table[table["metric"] == "selection_rate"]
    biggest = float(rows["difference"].abs().max())
    worst = rows.loc[rows["difference"].abs().idxmax(), "group"]
    (ok,) = policy({"comparison": "selection_rate", "max": biggest}).check(comparison).results
    (bad,) = (
        policy({"comparison": "selection_rate", "max": biggest * 0.99}).check(comparison).results
    )
    assert ok.passed
    assert bad.status == "fail"
    assert ok.value == pytest.approx(biggest, abs=1e-15)
    assert ok.worst_group == worst
    # judge: interval judges the end of the paired interval furthest from 0
    far = float(np.maximum(rows["lower"].abs(), rows["upper"].abs()).max())
    (r,) = (
        policy({"comparison": "selection_rate", "max": far, "judge": "interval"})
        .check(comparison)
        .results
    )
    assert r.passed
    assert r.value == pytest.approx(far, abs=1e-15)
    (r,) = (
        policy({"comparison": "selection_rate", "max": far - 1e-6, "judge": "interval"})
        .check(comparison)
        .results
    )
    assert r.status == "fail"


def test_equivalent_rule_follows_tost(comparison, data):
    table = comparison.differences
    rows = table[table["metric"] == "true_positive_rate"]
    (r,) = (
        policy({"comparison": "true_positive_rate", "equivalent": True}).check(comparison).results
    )
    assert r.passed is bool(rows["equivalent"].all())
    # identical predictions: equivalent; a shifted model b: not
    same = fa.compare_predictions(
        data["y"], data["a"], data["a"], sensitive_features=data["g"], tolerance=0.02, n_boot=100
    )
    moved = data["a"].copy()
    moved[np.flatnonzero(data["a"] == 0)[:120]] = 1
    shifted = fa.compare_predictions(
        data["y"], data["a"], moved, sensitive_features=data["g"], tolerance=0.02, n_boot=100
    )
    rule = {"id": "eq", "comparison": "selection_rate", "equivalent": True}
    assert policy(rule).check(same).passed
    (r,) = policy(rule).check(shifted).results
    assert r.status == "fail"
    assert "not shown within" in r.reason
    # with a max as well, both must hold
    both = policy({**rule, "max": 1.0}).check(shifted)
    assert not both.passed
    assert "not shown within" in both.results[0].reason
    # no tolerance: the verdict does not exist, so the rule cannot be judged
    plain = fa.compare_predictions(
        data["y"], data["a"], data["b"], sensitive_features=data["g"], n_boot=0
    )
    (r,) = policy(rule).check(plain).results
    assert r.status == "error"
    assert "tolerance" in r.reason
    (r,) = (
        policy({"comparison": "selection_rate", "max": 0.5, "judge": "interval"})
        .check(plain)
        .results
    )
    assert r.status == "error"


def test_metric_not_compared_is_an_error(data):
    result = fa.compare_predictions(
        data["y"],
        data["a"],
        data["b"],
        sensitive_features=data["g"],
        metrics=["selection_rate"],
        n_boot=0,
    )
    (r,) = policy({"comparison": "precision", "max": 0.1}).check(result).results
    assert r.status == "error"
    assert "metrics=" in r.reason


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"id": "c", "comparison": "selection_rat", "max": 0.1}, ["'c'", "Did you mean"]),
        ({"id": "c", "comparison": "auc", "max": 0.1}, ["'c'", "'comparison'", "accuracy"]),
        ({"id": "c", "comparison": "selection_rate", "min": 0.1}, ["'c'", "'min'"]),
        ({"id": "c", "comparison": "selection_rate"}, ["'c'", "'max'", "equivalent"]),
        ({"id": "c", "comparison": "selection_rate", "max": -1}, ["'c'", "impossible"]),
        ({"id": "c", "comparison": "agreement", "max": 0.9}, ["'c'", "'min' only"]),
        ({"id": "c", "comparison": "agreement"}, ["'c'", "needs 'min'"]),
        ({"id": "c", "comparison": "agreement", "min": 0.9, "equivalent": True}, ["'c'"]),
        ({"id": "c", "comparison": "agreement", "min": 0.9, "judge": "interval"}, ["'c'"]),
        (
            {"id": "c", "comparison": "selection_rate", "equivalent": "yes"},
            ["'c'", "'equivalent'"],
        ),
        ({"id": "c", "comparison": "selection_rate", "compare": "ratio", "max": 1}, ["compare"]),
        ({"id": "c", "comparison": "selection_rate", "metric": "selection_rate"}, ["'c'"]),
        ({"id": "c", "metric": "selection_rate", "min": 0.8, "equivalent": True}, ["'c'"]),
    ],
)
def test_bad_comparison_rules(rule, words):
    with pytest.raises(PolicyError) as info:
        policy(rule)
    for word in words:
        assert word in str(info.value)


def test_default_judge_interval_does_not_break_agreement_rules(comparison):
    p = fa.Policy.from_dict(
        {
            "version": 1,
            "defaults": {"judge": "interval"},
            "rules": [{"comparison": "agreement", "min": 0.5}],
        }
    )
    assert p.rules[0].judge == "estimate"
    assert p.check(comparison).passed


# --- dispatch, outputs ----------------------------------------------------------------------


def test_check_dispatches_each_rule_to_its_kind_and_missing_kinds_are_errors(flip, comparison):
    p = policy(
        {"id": "flip", "metric": "flip_rate", "max": 0.9},
        {"id": "agree", "comparison": "agreement", "min": 0.5},
        {"id": "sr", "metric": "selection_rate", "min": 0.0, "compare": "value"},
    )
    outcome = p.check(flip, comparison)
    status = {r.rule.id: r.status for r in outcome.results}
    assert status == {"flip": "pass", "agree": "pass", "sr": "error"}
    assert not outcome.passed
    only_flip = p.check(flip)
    assert [r.status for r in only_flip.results] == ["pass", "error", "error"]
    assert "ComparisonResult" in only_flip.results[1].reason
    assert "FlipTestResult" in p.check(comparison).results[0].reason
    with pytest.raises(PolicyError, match="two flip_test"):
        p.check(flip, flip)
    with pytest.raises(PolicyError, match="FlipTestResult"):
        p.check(object())
    assert p.metrics == ("selection_rate",)


def test_outputs_render_the_new_rules(flip, comparison):
    p = policy(
        {"id": "flip", "metric": "flip_rate", "max": 0.01},
        {"id": "eq", "comparison": "selection_rate", "equivalent": True, "max": 0.05},
    )
    outcome = p.check(flip, comparison)
    root = ET.fromstring(outcome.to_junit())
    names = [case.get("name") for case in root.iter("testcase")]
    assert names[0].startswith("flip [sex]")
    assert names[1].startswith("eq [sex]")
    assert root.find("testsuite").get("failures") == "1"
    frame = outcome.to_frame()
    assert list(frame["rule"]) == ["flip", "eq"]
    json.dumps(outcome.to_dict())
    assert [r["comparison"] for r in p.to_dict()["rules"] if "comparison" in r] == [
        "selection_rate"
    ]
    report = fa.Report(title="t").add(outcome).add(flip).add(comparison)
    html = report.to_html()
    assert "flip_rate &lt;= 0.01 in every group" in html or "flip_rate <= 0.01" in html
    assert "|selection_rate b - a| &lt;= 0.05" in html or "|selection_rate b - a| <= 0.05" in html
    assert "eq \\[sex\\]" in report.to_markdown()


def test_new_rules_round_trip_through_to_dict():
    p = policy(
        {"id": "f", "metric": "flip_rate", "max": 0.1, "judge": "interval"},
        {"id": "a", "comparison": "agreement", "min": 0.99, "min_group_size": 30},
        {"id": "e", "comparison": "accuracy", "equivalent": True},
    )
    body = p.to_dict()
    again = fa.Policy.from_dict({k: body[k] for k in ("version", "name", "rules")})
    assert again.rules == p.rules
    assert again.sha256 == p.sha256


def test_assert_policy_takes_several_results(flip, comparison):
    from fairaudit.testing import assert_policy

    rules = {
        "version": 1,
        "rules": [
            {"id": "f", "metric": "flip_rate", "max": 0.9},
            {"id": "a", "comparison": "agreement", "min": 0.5},
        ],
    }
    assert assert_policy(rules, flip, comparison).passed
    with pytest.raises(AssertionError, match=r"ERROR a \[\]"):
        assert_policy(rules, flip)
