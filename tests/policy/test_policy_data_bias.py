"""Policy rules on data-bias measures (``measure:``)."""

from __future__ import annotations

import pytest

import fairaudit as fa
from fairaudit.exceptions import PolicyError

POLICY = """
version: 1
name: labels
rules:
  - id: dpl-sex
    measure: DPL
    sensitive_feature: sex
    max: 0.25
  - id: dpl-sex-interval
    measure: label_proportion_difference
    sensitive_feature: sex
    max: 0.1
    judge: interval
  - id: ci
    measure: CI
    max: 0.99
    min_group_size: 50
  - id: selection
    metric: selection_rate
    min: 0.5
"""


@pytest.fixture(scope="module")
def adult():
    return fa.datasets.load_adult()


def test_measure_rules_judged_on_data_bias(adult):
    policy = fa.Policy.from_yaml_text(POLICY)
    assert policy.measures == ("label_proportion_difference", "class_imbalance")
    assert policy.metrics == ("selection_rate",)
    db = fa.data_bias(
        adult.y, sensitive_features=adult.sensitive[["sex", "race"]], n_boot=200, random_state=0
    )
    outcome = policy.check(db)
    by_rule = {r.rule.id: r for r in outcome.results}
    # women: DPL 0.200 <= 0.25 passes; its interval's upper end (~0.209) > 0.1 fails
    assert by_rule["dpl-sex"].status == "pass"
    assert by_rule["dpl-sex"].worst_group == "Female"
    assert by_rule["dpl-sex"].estimate == pytest.approx(db.value("DPL", "Female"))
    assert by_rule["dpl-sex-interval"].status == "fail"
    assert by_rule["dpl-sex-interval"].value == pytest.approx(
        db.to_frame()
        .query("group == 'Female' and measure == 'label_proportion_difference'")["upper"]
        .item()
    )
    # one result per sensitive feature (not the intersection) without sensitive_feature
    ci = [r for r in outcome.results if r.rule.id == "ci"]
    assert [r.feature for r in ci] == [("sex",), ("race",)]
    # race: "Other" (231 rows) has CI 0.985 <= 0.99; small groups would be listed, not judged
    assert all(r.status == "pass" for r in ci)
    # the group-metric rule needs a GroupMetrics: not passed, by design
    assert by_rule["selection"].status == "error"
    assert "needs a GroupMetrics" in by_rule["selection"].reason
    assert not outcome.passed


def test_check_takes_both_results(adult):
    policy = fa.Policy.from_yaml_text(POLICY)
    db = fa.data_bias(adult.y, sensitive_features=adult.sensitive[["sex"]])
    gm = fa.group_metrics(adult.y, adult.y, sensitive_features=adult.sensitive[["sex"]])
    outcome = policy.check(gm, db)
    statuses = {r.rule.id: r.status for r in outcome.results}
    assert statuses["selection"] == "fail"  # women's base rate is far under 0.5
    assert statuses["dpl-sex"] == "pass"
    with pytest.raises(PolicyError, match="two data_bias results"):
        policy.check(db, db)
    with pytest.raises(PolicyError, match=r"needs a GroupMetrics .* and/or a DataBias"):
        policy.check("not a result")


def test_bad_measure_rules():
    with pytest.raises(PolicyError, match="Did you mean 'class_imbalance'"):
        fa.Policy.from_yaml_text("version: 1\nrules:\n  - {measure: class_imbalanse, max: 1}")
    with pytest.raises(PolicyError, match="not both"):
        fa.Policy.from_yaml_text(
            "version: 1\nrules:\n  - {measure: DPL, metric: selection_rate, max: 1}"
        )
    with pytest.raises(PolicyError, match="bound its value"):
        fa.Policy.from_yaml_text("version: 1\nrules:\n  - {measure: DPL, compare: ratio, max: 1}")
    with pytest.raises(PolicyError, match="impossible rule, js_divergence lies in"):
        fa.Policy.from_yaml_text("version: 1\nrules:\n  - {measure: JS, min: 0.9}")
    with pytest.raises(PolicyError, match="post-training measure"):
        fa.Policy.from_yaml_text("version: 1\nrules:\n  - {measure: DCA, max: 0.1}")


def test_reference_must_match_the_result(adult):
    policy = fa.Policy.from_yaml_text(
        "version: 1\nrules:\n  - {measure: DPL, sensitive_feature: race, reference_group: White,"
        " max: 0.2}"
    )
    rest = fa.data_bias(adult.y, sensitive_features=adult.sensitive[["race"]])
    (result,) = policy.check(rest).results
    assert result.status == "error"
    assert "reference_group=" in result.reason
    vs_white = fa.data_bias(
        adult.y, sensitive_features=adult.sensitive[["race"]], reference_group="White"
    )
    (result,) = policy.check(vs_white).results
    assert result.status == "pass"  # largest DPL vs White: Other, 0.173
    assert result.worst_group == "Other"
