"""Policy.check(data=...) and assert_policy(data=...): the results computed from columns.

The outcome of a policy checked on a file (or a table, or a DuckDB relation) equals the
outcome of checking the results computed in memory by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import PolicyError
from fairaudit.testing import assert_policy

duckdb = pytest.importorskip("duckdb")

POLICY = """
version: 1
name: release
rules:
  - id: four-fifths
    metric: selection_rate
    compare: ratio
    min: 0.8
    sensitive_feature: sex
  - id: eo
    metric: equalized_odds
    compare: difference
    max: 0.2
    judge: interval
  - id: auc
    metric: roc_auc
    compare: difference
    max: 0.1
  - id: dpl
    measure: DPL
    sensitive_feature: sex
    max: 0.25
  - id: agree
    comparison: agreement
    min: 0.9
  - id: tpr-equivalent
    comparison: true_positive_rate
    max: 0.05
    equivalent: true
  - id: npv-close
    comparison: negative_predictive_value
    max: 0.05
  - id: flips
    metric: flip_rate
    max: 0.01
"""

KW = {"n_boot": 100, "random_state": 0, "min_group_size": 1}


@pytest.fixture(scope="module")
def adult(tmp_path_factory):
    from sklearn.linear_model import LogisticRegression

    ds = fa.datasets.load_adult()
    frame = ds.frame.copy()
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(str)
    numeric = ["age", "education_num", "hours_per_week", "capital_gain"]
    model = LogisticRegression(max_iter=500).fit(frame[numeric], ds.y)
    frame["y"] = ds.y.to_numpy()
    frame["score"] = model.predict_proba(frame[numeric])[:, 1].round(2)  # few atoms: fast AUC
    frame["pred"] = (frame["score"] > 0.5).astype(int)
    rng = np.random.default_rng(0)
    frame["pred_v2"] = np.where(rng.random(len(frame)) < 0.97, frame["pred"], 1 - frame["pred"])
    path = tmp_path_factory.mktemp("policy") / "adult.parquet"
    frame.to_parquet(path)
    return frame, path


def by_hand(policy: fa.Policy, frame: pd.DataFrame, **extra) -> fa.PolicyOutcome:
    s = frame[["sex", "race"]]
    gm = fa.group_metrics(
        frame["y"], frame["pred"], sensitive_features=s, y_score=frame["score"],
        metrics=list(policy.metrics), fingerprint=False, **KW,
    )  # fmt: skip
    db = fa.data_bias(frame["y"], sensitive_features=s, measures=list(policy.measures), **KW)
    cmp = fa.compare_predictions(
        frame["y"], frame["pred"], frame["pred_v2"], sensitive_features=s,
        metrics=["selection_rate", "true_positive_rate", "false_positive_rate", "accuracy",
                 "negative_predictive_value"],
        n_boot=KW["n_boot"], random_state=KW["random_state"], **extra,
    )  # fmt: skip
    return policy.check(gm, db, cmp)


def same(x: fa.PolicyOutcome, y: fa.PolicyOutcome) -> None:
    assert x.to_dict() == y.to_dict()
    assert [r.status for r in x.results] == [r.status for r in y.results]


@pytest.mark.parametrize("source", ["file", "frame", "relation"])
def test_check_on_data_equals_check_on_results(adult, source):
    frame, path = adult
    policy = fa.Policy.from_yaml_text(POLICY)
    expected = by_hand(policy, frame, tolerance=0.05)
    data = {
        "file": path,
        "frame": frame,
        "relation": duckdb.connect().sql(f"SELECT * FROM read_parquet('{path}')"),
    }[source]
    got = policy.check(
        data=data, y_true="y", y_pred="pred", y_score="score", pred_b="pred_v2",
        sensitive_features=["sex", "race"], tolerance=0.05, **KW,
    )  # fmt: skip
    same(got, expected)
    statuses = {r.rule.id: r.status for r in got.results}
    # the flip test needs a model: an error, as when its result is not passed
    assert statuses["flips"] == "error"
    assert statuses["agree"] == "pass"
    assert {s for k, s in statuses.items() if k != "flips"} <= {"pass", "fail"}


def test_arrays_without_data_and_assert_policy(adult):
    frame, path = adult
    policy = fa.Policy.from_yaml_text(POLICY)
    arrays = policy.check(
        y_true=frame["y"], y_pred=frame["pred"], y_score=frame["score"],
        pred_b=frame["pred_v2"], sensitive_features=frame[["sex", "race"]], tolerance=0.05, **KW,
    )  # fmt: skip
    same(arrays, by_hand(policy, frame, tolerance=0.05))
    with pytest.raises(AssertionError, match=r"ERROR flips .* needs a FlipTestResult"):
        assert_policy(
            policy, data=path, y_true="y", y_pred="pred", y_score="score",
            sensitive_features=["sex", "race"], **KW,
        )  # fmt: skip
    only = {"version": 1, "rules": [{"metric": "selection_rate", "compare": "ratio", "min": 0.4}]}
    outcome = assert_policy(only, data=path, y_true="y", y_pred="pred", sensitive_features="sex")
    assert outcome.passed


def test_positional_results_and_data_of_another_kind_combine(adult):
    frame, path = adult
    policy = fa.Policy.from_yaml_text(POLICY)
    expected = by_hand(policy, frame, tolerance=0.05)
    cmp = fa.compare_predictions(
        "y", "pred", "pred_v2", sensitive_features=["sex", "race"], data=path,
        metrics=["selection_rate", "true_positive_rate", "false_positive_rate", "accuracy",
                 "negative_predictive_value"], tolerance=0.05, n_boot=100, random_state=0,
    )  # fmt: skip
    got = policy.check(
        cmp, data=path, y_true="y", y_pred="pred", y_score="score",
        sensitive_features=["sex", "race"], **KW,
    )  # fmt: skip
    same(got, expected)


def test_bad_calls(adult):
    frame, path = adult
    policy = fa.Policy.from_yaml_text(POLICY)
    gm = fa.group_metrics(
        frame["y"], frame["pred"], sensitive_features=frame["sex"], metrics=["selection_rate"]
    )
    with pytest.raises(PolicyError, match="got a group_metrics result and the inputs"):
        policy.check(gm, data=path, y_true="y", y_pred="pred", sensitive_features="sex")
    with pytest.raises(TypeError, match="needs y_true"):
        policy.check(data=path, y_pred="pred", sensitive_features="sex")
    with pytest.raises(TypeError, match="needs sensitive_features"):
        policy.check(data=path, y_true="y", y_pred="pred")
    with pytest.raises(TypeError, match="pass pred_b as well"):
        policy.check(data=path, y_true="y", y_pred="pred", pred_a="pred", sensitive_features="sex")
    with pytest.raises(TypeError, match="needs results"):
        policy.check()
    with pytest.raises(TypeError, match=r"y_pred='pred' is a column name, but data= is not"):
        policy.check(y_true=frame["y"], y_pred="pred", sensitive_features=frame["sex"])
    with pytest.raises(fa.exceptions.DataError, match=r"no column 'preds'.*Did you mean 'pred'"):
        policy.check(data=path, y_true="y", y_pred="preds", sensitive_features="sex")


def test_strata_reach_the_data_bias_measures(adult):
    """measure: CDDL needs strata: Policy.check(data=..., strata=[...]) passes them on."""
    frame, path = adult
    policy = fa.Policy.from_yaml_text(
        "version: 1\nrules:\n  - {id: cddl, measure: CDDL, sensitive_feature: sex, max: 0.5}\n"
    )
    got = policy.check(
        data=path, y_true="y", sensitive_features=["sex"], strata=["education"], **KW
    )
    db = fa.data_bias(
        frame["y"], sensitive_features=frame[["sex"]], strata=frame[["education"]],
        measures=["CDDL"], **KW,
    )  # fmt: skip
    same(got, policy.check(db))
    assert got.results[0].status in {"pass", "fail"}
    with pytest.raises(ValueError, match="needs strata="):
        policy.check(data=path, y_true="y", sensitive_features=["sex"], **KW)
    with pytest.raises(TypeError, match="strata= is for the policy's measure: rules"):
        fa.Policy.from_yaml_text(POLICY.replace("measure: DPL", "metric: selection_rate")).check(
            data=path, y_true="y", y_pred="pred", sensitive_features=["sex"], strata=["education"]
        )
