"""Policies: parsing with errors that name the rule and key, and rule evaluation."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import PolicyError
from fairaudit.policy import Policy
from fairaudit.testing import assert_policy


def _policy(*rules, **top):
    return Policy.from_dict({"version": 1, "rules": list(rules), **top})


# --------------------------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------------------------


def test_minimum_schema_from_issue_parses(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        """
version: 1
rules:
  - metric: selection_rate      # any registry metric
    compare: ratio              # ratio | difference
    min: 0.8                    # min and/or max
    reference_group: White      # optional: vs this group; default between groups
    sensitive_feature: race     # optional; default all given
    judge: estimate             # estimate | interval (the bound that is worse)
    min_group_size: 30          # optional: smaller groups reported, not judged
"""
    )
    policy = Policy.from_yaml(path)
    (rule,) = policy.rules
    assert (rule.id, rule.metric, rule.compare, rule.min, rule.max) == (
        "rule-1",
        "selection_rate",
        "ratio",
        0.8,
        None,
    )
    assert rule.reference_group == "White"
    assert rule.sensitive_feature == ("race",)
    assert rule.min_group_size == 30
    assert policy.source == str(path)
    assert len(policy.sha256) == 64


def test_hash_ignores_formatting_but_not_thresholds():
    a = Policy.from_yaml_text("version: 1\nrules:\n  - {metric: selection_rate, min: 0.8}\n")
    b = Policy.from_yaml_text(
        "# comment\nversion: 1\nrules:\n- metric: selection_rate\n  compare: ratio\n  min: 0.80\n"
    )
    c = Policy.from_yaml_text("version: 1\nrules:\n  - {metric: selection_rate, min: 0.75}\n")
    assert a.sha256 == b.sha256
    assert a.sha256 != c.sha256


def test_defaults_apply_to_rules_that_do_not_set_the_key():
    policy = _policy(
        {"metric": "selection_rate", "min": 0.8},
        {"metric": "accuracy", "compare": "value", "min": 0.7, "judge": "estimate"},
        defaults={"judge": "interval", "min_group_size": 50},
    )
    assert [r.judge for r in policy.rules] == ["interval", "estimate"]
    assert [r.min_group_size for r in policy.rules] == [50, 50]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"metric": "selection_rate", "mni": 0.8}, r"rule 1: unknown key 'mni'\. Did you mean 'min'\?"),
        ({"metric": "selection_rte", "min": 0.8}, r"rule 1: key 'metric': unknown metric 'selection_rte'\. Did you mean 'selection_rate'\?"),
        ({"min": 0.8}, r"rule 1: key 'metric' is required"),
        ({"metric": "selection_rate", "min": 0.9, "max": 0.5}, r"rule 1: impossible rule, 'min' \(0\.9\) is greater than 'max' \(0\.5\)"),
        ({"metric": "selection_rate", "min": 1.2}, r"rule 1: impossible rule, a ratio .* at most 1"),
        ({"metric": "selection_rate"}, r"rule 1: set 'min' and/or 'max'"),
        ({"metric": "selection_rate", "min": "high"}, r"rule 1: key 'min' must be a finite number, got 'high'"),
        ({"metric": "selection_rate", "min": True}, r"rule 1: key 'min' must be a finite number, got True"),
        ({"metric": "selection_rate", "min": 0.8, "compare": "ratoi"}, r"rule 1: key 'compare' must be one of 'ratio', 'difference', 'value', got 'ratoi'"),
        ({"metric": "selection_rate", "min": 0.8, "judge": "bound"}, r"rule 1: key 'judge' must be one of 'estimate', 'interval'"),
        ({"metric": "selection_rate", "min": 0.8, "min_group_size": -1}, r"rule 1: key 'min_group_size' must be a number >= 0"),
        ({"metric": "selection_rate", "min": 0.8, "sensitive_feature": 3}, r"rule 1: key 'sensitive_feature' must be a column name"),
        ({"metric": "selection_rate", "min": 0.8, "reference_group": "a", "method": "to_overall"}, r"rule 1: set either 'reference_group' or 'method'"),
        ({"metric": "accuracy", "min": 0.8, "compare": "value", "reference_group": "a"}, r"rule 1: 'reference_group' has no meaning with compare: value"),
        ("selection_rate >= 0.8", r"rule 1: expected a mapping of keys"),
    ],
)  # fmt: skip
def test_bad_rules_name_the_rule_and_key(rule, message):
    with pytest.raises(PolicyError, match=message):
        _policy(rule)


def test_error_names_the_second_rule_and_its_id():
    with pytest.raises(PolicyError, match=r"rule 2 \('tpr'\): unknown key 'maxx'"):
        _policy(
            {"metric": "selection_rate", "min": 0.8},
            {"id": "tpr", "metric": "true_positive_rate", "maxx": 0.1},
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": [{"metric": "selection_rate", "min": 0.8}]}, r"key 'version' must be 1"),
        ({"version": 2, "rules": [{"metric": "selection_rate", "min": 0.8}]}, r"key 'version' must be 1 .* got 2"),
        ({"version": 1, "rules": []}, r"key 'rules' must be a non-empty list"),
        ({"version": 1, "rule": []}, r"unknown top-level key 'rule'\. Did you mean 'rules'\?"),
        ({"version": 1, "defaults": {"min": 1}, "rules": [{"metric": "selection_rate", "min": 0.8}]}, r"defaults: unknown key 'min'"),
        ({"version": 1, "rules": [{"id": "a", "metric": "selection_rate", "min": 0.8}, {"id": "a", "metric": "accuracy", "min": 0.8}]}, r"rule ids must be unique, repeated: a"),
        (["version", 1], r"a policy is a mapping"),
    ],
)  # fmt: skip
def test_bad_top_level(data, message):
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(data)


def test_malformed_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - metric: selection_rate\n   min: [0.8\n")
    with pytest.raises(PolicyError, match=r"bad\.yaml: not valid YAML: .*line"):
        Policy.from_yaml(bad)
    with pytest.raises(PolicyError, match=r"policy file not found: .*nope\.yaml"):
        Policy.from_yaml(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    with pytest.raises(PolicyError, match=r"empty\.yaml: the policy is empty"):
        Policy.from_yaml(empty)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("version: 1\nrules: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        Policy.from_yaml(path)


# --------------------------------------------------------------------------------------------
# evaluation, known answers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def toy():
    # group a: predictions 1,1,1,0 -> selection rate 3/4; group b: 1,0,0,0 -> 1/4
    # ratio = (1/4) / (3/4) = 1/3, difference = 3/4 - 1/4 = 1/2
    # true positive rates: a: y=1 at rows 0,1 both predicted 1 -> 1; b: y=1 at rows 4,5, one
    # predicted 1 -> 1/2
    y_true = [1, 1, 0, 0, 1, 1, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 0, 0, 0]
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    return fa.group_metrics(
        y_true,
        y_pred,
        sensitive_features=pd.Series(groups, name="g"),
        metrics=["selection_rate", "true_positive_rate", "accuracy"],
        min_group_size=1,
    )


def test_ratio_rule_known_answer(toy):
    outcome = _policy({"id": "sr", "metric": "selection_rate", "min": 0.3}).check(toy)
    (r,) = outcome.results
    assert r.status == "pass"
    assert r.estimate == pytest.approx(1 / 3)
    assert r.feature == ("g",)
    outcome = _policy({"id": "sr", "metric": "selection_rate", "min": 0.34}).check(toy)
    assert outcome.results[0].status == "fail"
    assert not outcome.passed
    assert "outside the minimum 0.34" in outcome.results[0].reason
    assert "Lowest b 0.25, highest a 0.75" in outcome.results[0].reason


def test_bounds_are_inclusive(toy):
    outcome = _policy({"metric": "selection_rate", "compare": "difference", "max": 0.5}).check(toy)
    assert outcome.passed
    assert outcome.results[0].estimate == pytest.approx(0.5)


def test_reference_group_rule(toy):
    # vs reference a: b / a = 1/3 (selection), vs reference b: smallest ratio is b/b = 1 or a/b=3
    outcome = _policy(
        {"metric": "selection_rate", "min": 0.3, "reference_group": "a"},
        {"id": "tpr", "metric": "true_positive_rate", "compare": "difference", "max": 0.4, "reference_group": "a"},
    ).check(toy)  # fmt: skip
    sr, tpr = outcome.results
    assert sr.reference == "a"
    assert sr.estimate == pytest.approx(1 / 3)
    assert tpr.estimate == pytest.approx(0.5)
    assert tpr.status == "fail"


def test_value_rule_names_the_worst_group(toy):
    outcome = _policy({"metric": "true_positive_rate", "compare": "value", "min": 0.6}).check(toy)
    (r,) = outcome.results
    assert r.status == "fail"
    assert r.worst_group == "b"
    assert r.value == pytest.approx(0.5)


def test_rules_that_cannot_be_judged_are_errors_not_passes(toy):
    outcome = _policy(
        {"id": "not-computed", "metric": "false_positive_rate", "max": 0.1, "compare": "difference"},
        {"id": "no-interval", "metric": "selection_rate", "min": 0.3, "judge": "interval"},
        {"id": "no-such-group", "metric": "selection_rate", "min": 0.3, "reference_group": "zzz"},
        {"id": "too-small", "metric": "selection_rate", "min": 0.3, "min_group_size": 5},
    ).check(toy)  # fmt: skip
    assert [r.status for r in outcome.results] == ["error"] * 4
    assert not outcome.passed
    reasons = [r.reason for r in outcome.results]
    assert "false_positive_rate was not computed" in reasons[0]
    assert "n_boot > 0" in reasons[1]
    assert "'zzz' is not a group of g" in reasons[2]
    assert "fewer than two groups" in reasons[3]


def test_unknown_sensitive_feature_is_a_policy_error(toy):
    with pytest.raises(
        PolicyError,
        match=r"sensitive_feature 'sex' is not a sensitive feature of the result, which has 'g'",
    ):
        _policy({"metric": "selection_rate", "min": 0.3, "sensitive_feature": "sex"}).check(toy)


def test_check_rejects_other_results():
    with pytest.raises(PolicyError, match="needs a GroupMetrics"):
        _policy({"metric": "selection_rate", "min": 0.3}).check(object())


def test_reference_group_label_from_yaml_matches_integer_and_string_groups():
    y = [1, 0, 1, 0, 1, 0, 0, 0]
    p = [1, 1, 1, 0, 1, 0, 0, 0]
    policy = Policy.from_yaml_text(
        "version: 1\nrules:\n  - {metric: selection_rate, min: 0.1, reference_group: 1}\n"
    )
    for labels in ([1, 1, 1, 1, 2, 2, 2, 2], ["1", "1", "1", "1", "2", "2", "2", "2"]):
        gm = fa.group_metrics(y, p, sensitive_features=labels, min_group_size=1)
        (r,) = policy.check(gm).results
        assert r.status == "pass"
        assert r.estimate == pytest.approx((1 / 4) / (3 / 4))


# --------------------------------------------------------------------------------------------
# on real data, cross-checked with fairlearn
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult_predictions():
    # a fixed rule as the "model" (no training needed): predict >50K for graduates and for
    # people with large capital gains; real data, real disparities
    test = fa.datasets.load_adult(split="test")
    X = test.X
    pred = ((X["education_num"] >= 13) | (X["capital_gain"] > 5000)).astype(int).to_numpy()
    sensitive = test.sensitive.astype(str)
    return test.y.to_numpy(), pred, sensitive


def test_ratio_and_difference_match_fairlearn_on_adult(adult_predictions):
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    y, pred, sensitive = adult_predictions
    gm = fa.group_metrics(
        y, pred, sensitive_features=sensitive, metrics=["selection_rate", "true_positive_rate"]
    )
    outcome = _policy(
        {"id": "dp", "metric": "selection_rate", "min": 0.8},
        {"id": "eo", "metric": "true_positive_rate", "compare": "difference", "max": 0.1},
    ).check(gm)
    by = {(r.rule.id, r.feature[0]): r.estimate for r in outcome.results}
    for feature in ("sex", "race"):
        expected_ratio = fairlearn_metrics.demographic_parity_ratio(
            y, pred, sensitive_features=sensitive[feature]
        )
        frame = fairlearn_metrics.MetricFrame(
            metrics=fairlearn_metrics.true_positive_rate,
            y_true=y,
            y_pred=pred,
            sensitive_features=sensitive[feature],
        )
        assert by[("dp", feature)] == pytest.approx(expected_ratio, rel=1e-12)
        assert by[("eo", feature)] == pytest.approx(frame.difference(), rel=1e-12)


def test_min_group_size_excludes_small_groups_from_the_comparison(adult_predictions):
    y, pred, sensitive = adult_predictions
    race = sensitive["race"]
    gm = fa.group_metrics(y, pred, sensitive_features=race, metrics=["selection_rate"])
    counts = race.value_counts()
    large = counts[counts >= 200].index
    rates = pd.Series(pred).groupby(race.to_numpy()).mean()
    expected = rates[large].min() / rates[large].max()  # hand computation over large groups
    (r,) = (
        _policy({"metric": "selection_rate", "min": 0.0, "min_group_size": 200}).check(gm).results
    )
    assert r.estimate == pytest.approx(expected, rel=1e-12)
    assert set(r.excluded_groups) == set(counts[counts < 200].index)
    assert "Not judged (fewer than 200 samples)" in r.reason


def test_interval_judging_uses_the_worse_bound(adult_predictions):
    y, pred, sensitive = adult_predictions
    gm = fa.group_metrics(
        y, pred, sensitive_features=sensitive["sex"], metrics=["selection_rate"],
        n_boot=200, random_state=0,
    )  # fmt: skip
    est = _policy({"metric": "selection_rate", "min": 0.0}).check(gm).results[0]
    lo = _policy({"metric": "selection_rate", "min": 0.0, "judge": "interval"}).check(gm).results[0]
    assert est.lower < est.estimate < est.upper
    assert lo.value == est.lower  # against a minimum the lower end is the worse one
    hi = (
        _policy(
            {"metric": "selection_rate", "compare": "difference", "max": 1.0, "judge": "interval"}
        )
        .check(gm)
        .results[0]
    )
    assert hi.value == hi.upper
    # a bound between the estimate and the lower end: passes on the estimate, fails on the interval
    bound = (est.lower + est.estimate) / 2
    assert _policy({"metric": "selection_rate", "min": bound}).check(gm).passed
    assert (
        not _policy({"metric": "selection_rate", "min": bound, "judge": "interval"})
        .check(gm)
        .passed
    )


def test_rule_without_feature_runs_per_feature_and_intersection_on_request(adult_predictions):
    y, pred, sensitive = adult_predictions
    gm = fa.group_metrics(y, pred, sensitive_features=sensitive, metrics=["selection_rate"])
    outcome = _policy(
        {"id": "each", "metric": "selection_rate", "min": 0.0},
        {"id": "both", "metric": "selection_rate", "min": 0.0, "sensitive_feature": ["sex", "race"], "min_group_size": 100},
    ).check(gm)  # fmt: skip
    assert [r.feature for r in outcome.results] == [("sex",), ("race",), ("sex", "race")]
    assert outcome.results[2].name == "both [sex x race]"


# --------------------------------------------------------------------------------------------
# outputs
# --------------------------------------------------------------------------------------------


def test_junit_parses_and_counts(toy):
    outcome = _policy(
        {"id": "ok", "metric": "selection_rate", "min": 0.3},
        {"id": "bad", "metric": "selection_rate", "compare": "difference", "max": 0.1},
        {"id": "err", "metric": "false_positive_rate", "max": 0.1, "compare": "difference"},
        name="gate <&>",
    ).check(toy)
    root = ET.fromstring(outcome.to_junit())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")
    suite = root.find("testsuite")
    assert suite.get("name") == "gate <&>"
    cases = suite.findall("testcase")
    assert [c.get("name").split(":")[0] for c in cases] == ["ok [g]", "bad [g]", "err [g]"]
    # a dotted path without spaces, as JUnit reporters expect
    assert {c.get("classname") for c in cases} == {"fairaudit.policy.gate"}
    assert cases[0].find("failure") is None
    assert cases[0].find("error") is None
    assert "outside the maximum 0.1" in cases[1].find("failure").get("message")
    assert cases[2].find("error") is not None
    assert outcome.to_junit() == outcome.to_junit()


def test_outcome_dict_and_frame(toy):
    outcome = _policy({"id": "sr", "metric": "selection_rate", "min": 0.5}).check(toy)
    d = outcome.to_dict()
    assert d["kind"] == "policy_outcome"
    assert d["passed"] is False
    assert d["counts"] == {"pass": 0, "fail": 1, "error": 0}
    assert d["summary"][0] == "Policy 'policy': 1 of 1 checks failed."
    assert d["parameters"]["sha256"] == outcome.policy.sha256
    frame = outcome.to_frame()
    assert frame.loc[0, "status"] == "fail"
    assert frame.loc[0, "estimate"] == pytest.approx(1 / 3)


def test_assert_policy(toy, tmp_path):
    passing = {"version": 1, "rules": [{"metric": "selection_rate", "min": 0.3}]}
    assert assert_policy(passing, toy).passed
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nrules:\n  - {id: strict, metric: selection_rate, min: 0.9}\n")
    with pytest.raises(AssertionError) as info:
        assert_policy(path, toy)
    message = str(info.value)
    assert message.splitlines()[0] == "policy 'policy' failed 1 of 1 checks:"
    assert "FAIL strict [g] (selection_rate ratio >= 0.9)" in message
    with pytest.raises(TypeError, match="policy must be"):
        assert_policy(3, toy)


def test_policy_check_does_not_change_the_result(toy):
    before = toy.by_group.copy()
    _policy({"metric": "selection_rate", "min": 0.3, "min_group_size": 1}).check(toy)
    pd.testing.assert_frame_equal(toy.by_group, before)
    assert np.isfinite(before["selection_rate"]).all()


def test_equalized_odds_rule_matches_fairlearn(adult_predictions):
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    y, pred, sensitive = adult_predictions
    gm = fa.group_metrics(y, pred, sensitive_features=sensitive["sex"])
    outcome = _policy(
        {"id": "eo-d", "metric": "equalized_odds", "compare": "difference", "max": 0.1},
        {"id": "eo-r", "metric": "equalized_odds", "compare": "ratio", "min": 0.8},
    ).check(gm)
    difference, ratio = (r.estimate for r in outcome.results)
    kw = {"sensitive_features": sensitive["sex"]}
    assert difference == pytest.approx(
        fairlearn_metrics.equalized_odds_difference(y, pred, **kw), rel=1e-12
    )
    assert ratio == pytest.approx(fairlearn_metrics.equalized_odds_ratio(y, pred, **kw), rel=1e-12)
    assert _policy({"metric": "equalized_odds", "min": 0.8}).metrics == (
        "true_positive_rate",
        "false_positive_rate",
    )
    with pytest.raises(PolicyError, match="equalized_odds compares groups"):
        _policy({"metric": "equalized_odds", "compare": "value", "min": 0.8})


def test_junit_classname_has_no_spaces(toy):
    outcome = _policy(
        {"id": "ok", "metric": "selection_rate", "min": 0.3}, name="four-fifths rule (v2.1)"
    ).check(toy)
    case = ET.fromstring(outcome.to_junit()).find("testsuite/testcase")
    assert case.get("classname") == "fairaudit.policy.four-fifths_rule_v2_1"


# --------------------------------------------------------------------------------------------
# multiclass: metric[class] rules, judged the same per class or one class against the rest
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nine_classes():
    rng = np.random.default_rng(11)
    classes = np.array(["Private", "Self-emp", "Gov", "State", "Local", "Never", "NA", "X", "Y"])
    y = rng.choice(classes, 1800)
    sex = rng.choice(["F", "M"], 1800)
    keep = np.where(sex == "F", 0.5, 0.8)
    p = np.where(rng.random(1800) < keep, y, rng.choice(classes, 1800))
    return y, p, sex


def test_per_class_rules_parse_and_unknown_ones_are_refused():
    policy = _policy({"metric": "true_positive_rate[Private]", "compare": "ratio", "min": 0.8})
    assert policy.rules[0].metric == "true_positive_rate[Private]"
    assert policy.metrics == ("true_positive_rate",)
    for bad in ["true_positive_rte[Private]", "mean_absolute_error[a]", "roc_auc[a]", "tpr[]"]:
        with pytest.raises(PolicyError, match="unknown metric"):
            _policy({"metric": bad, "min": 0.1})


def test_per_class_rule_same_verdict_multiclass_and_one_vs_rest(nine_classes):
    y, p, sex = nine_classes
    policy = _policy(
        {"id": "tpr", "metric": "true_positive_rate[Private]", "compare": "ratio", "min": 0.8},
        {"id": "sr", "metric": "selection_rate[Private]", "compare": "difference", "max": 0.5},
    )
    multi = fa.group_metrics(y, p, sensitive_features=sex, pos_label=None)
    one = fa.group_metrics(y, p, sensitive_features=sex, pos_label="Private")
    a, b = policy.check(multi), policy.check(one)
    assert [r.status for r in a.results] == [r.status for r in b.results]
    assert a.results[0].status == "fail"  # F is recalled much less often than M
    for ra, rb in zip(a.results, b.results, strict=True):
        assert ra.rule.metric == rb.rule.metric
        assert ra.value == pytest.approx(rb.value)
    # by hand: recall of Private among F over recall among M
    is_p = y == "Private"
    tpr = {s: np.mean(p[is_p & (sex == s)] == "Private") for s in ("F", "M")}
    assert a.results[0].value == pytest.approx(tpr["F"] / tpr["M"])
    # another positive class: not judged (the numbers are not there), never silently passed
    other = fa.group_metrics(y, p, sensitive_features=sex, pos_label="Gov")
    assert policy.check(other).results[0].status == "error"
