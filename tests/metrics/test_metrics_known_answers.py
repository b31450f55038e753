"""Known answers: fairlearn's documented toy example and a hand-computed count table."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import UndefinedMetricWarning
from fairaudit.metrics import (
    METRIC_REGISTRY,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    get_metric,
)

# fairlearn docs, user_guide/assessment/common_fairness_metrics.rst
Y_TRUE = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
Y_PRED = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
SF = ["b", "b", "a", "b", "b", "c", "c", "c", "a", "a", "c", "a", "b", "c", "c", "b", "c", "c"]


def test_fairlearn_documented_example():
    # selection rates: a 3/4, b 3/6, c 4/8 -> difference 0.75 - 0.5 = 0.25, ratio 0.5 / 0.75
    assert demographic_parity_difference(Y_TRUE, Y_PRED, sensitive_features=SF) == 0.25
    assert demographic_parity_ratio(Y_TRUE, Y_PRED, sensitive_features=SF) == pytest.approx(
        2 / 3, abs=1e-15
    )
    # group a has one actual negative, predicted positive (FPR 1); group b's negative is
    # predicted negative (FPR 0): FPR difference 1, ratio 0
    assert equalized_odds_difference(Y_TRUE, Y_PRED, sensitive_features=SF) == 1.0
    assert equalized_odds_ratio(Y_TRUE, Y_PRED, sensitive_features=SF) == 0.0


# hand-computed table:
#   group a: y_true 1 1 0 0 1, y_pred 1 0 0 1 1 -> TP 2 (rows 0, 4), FN 1, TN 1, FP 1
#   group b: y_true 0 0 1,     y_pred 0 0 0     -> TN 2, FN 1, no positive prediction
HAND_T = [1, 1, 0, 0, 1, 0, 0, 1]
HAND_P = [1, 0, 0, 1, 1, 0, 0, 0]
HAND_G = ["a"] * 5 + ["b"] * 3


def _hand(**kwargs):
    with pytest.warns(UndefinedMetricWarning, match="precision is undefined"):
        return fa.group_metrics(
            HAND_T, HAND_P, sensitive_features=HAND_G, min_group_size=1, **kwargs
        )


def test_hand_computed_counts_and_rates():
    gm = _hand()
    counts = gm.counts()
    assert counts.loc["a", ["tn", "fp", "fn", "tp"]].tolist() == [1, 1, 1, 2]
    assert counts.loc["b", ["tn", "fp", "fn", "tp"]].tolist() == [2, 0, 1, 0]
    a, b = gm.by_group.loc["a"], gm.by_group.loc["b"]
    assert a["selection_rate"] == 3 / 5  # (TP + FP) / n = (2 + 1) / 5
    assert a["true_positive_rate"] == 2 / 3  # TP / (TP + FN) = 2 / 3
    assert a["false_positive_rate"] == 1 / 2  # FP / (FP + TN) = 1 / 2
    assert a["precision"] == 2 / 3  # TP / (TP + FP) = 2 / 3
    assert a["accuracy"] == 3 / 5  # (TP + TN) / n = 3 / 5
    assert b["selection_rate"] == 0.0
    assert b["true_positive_rate"] == 0.0  # 0 / 1
    assert b["false_positive_rate"] == 0.0  # 0 / 2
    assert math.isnan(b["precision"])  # 0 / 0: NaN, never 0
    assert gm.overall["selection_rate"] == 3 / 8
    assert gm.overall["precision"] == 2 / 3  # pooled: TP 2, FP 1
    d = gm.difference()
    assert d["selection_rate"] == 3 / 5
    assert d["equalized_odds"] == max(2 / 3, 1 / 2)
    r = gm.ratio()
    assert r["selection_rate"] == 0.0
    assert math.isnan(r["precision"])  # one group only has a value
    # to overall: |0.6 - 0.375| = 0.225, |0 - 0.375| = 0.375
    assert gm.difference(method="to_overall")["selection_rate"] == pytest.approx(0.375)
    # vs reference "a": |0 - 0.6|, ratio 0 / 0.6
    assert gm.difference(reference_group="a")["selection_rate"] == pytest.approx(0.6)
    assert gm.ratio(reference_group="a")["selection_rate"] == 0.0


def test_hand_weighted():
    # weight 2 on group a's false positive (row 3): FP mass 2, n mass 6
    w = [1, 1, 1, 2, 1, 1, 1, 1]
    gm = _hand(sample_weight=w)
    assert gm.by_group.loc["a", "selection_rate"] == 4 / 6
    assert gm.by_group.loc["a", "false_positive_rate"] == 2 / 3
    assert gm.by_group.loc["a", "count"] == 5  # rows, unweighted


def test_roc_auc_hand_computed_with_ties():
    # positives score 0.9, 0.5; negatives 0.5, 0.1: pairs (0.9>0.5) 1, (0.9>0.1) 1,
    # (0.5=0.5) 1/2, (0.5>0.1) 1 -> 3.5 / 4
    with pytest.warns(UndefinedMetricWarning, match="single group"):
        gm = fa.group_metrics(
            [1, 1, 0, 0],
            [1, 1, 1, 0],
            y_score=[0.9, 0.5, 0.5, 0.1],
            sensitive_features=["g"] * 4,
            metrics=["roc_auc", "brier_score"],
            min_group_size=1,
        )
    assert gm.by_group.loc["g", "roc_auc"] == 3.5 / 4
    # Brier: (0.1^2 + 0.5^2 + 0.5^2 + 0.1^2) / 4 = 0.13
    assert gm.by_group.loc["g", "brier_score"] == pytest.approx(0.13, abs=1e-15)
    assert math.isnan(gm.difference()["roc_auc"])


def test_regression_hand_computed():
    # group a errors (pred - true): +1, -1 -> mean 0, MAE 1, RMSE 1; group b: +2 -> 2, 2, 2
    gm = fa.group_metrics(
        [0.0, 2.0, 1.0], [1.0, 1.0, 3.0], sensitive_features=["a", "a", "b"], min_group_size=1
    )
    assert gm.task == "regression"
    assert gm.by_group.loc["a"].tolist()[:4] == [1.0, 0.0, 1.0, 1.0]
    assert gm.by_group.loc["b"].tolist()[:4] == [3.0, 2.0, 2.0, 2.0]
    assert gm.ratio()["mean_error"] == 0.0  # 0 / 2 (NaN as soon as an error mean is negative)
    assert gm.difference()["root_mean_squared_error"] == 1.0


def test_multiclass_one_vs_rest_hand_computed():
    # classes x, y, z in one group: true x x y z, pred x y y x
    with pytest.warns(UndefinedMetricWarning, match=r"true_positive_rate\[z\] is undefined"):
        gm = fa.group_metrics(
            list("xxyz") + list("xy"),
            list("xyyx") + list("xy"),
            sensitive_features=["g"] * 4 + ["h"] * 2,
            pos_label=None,
            metrics=["true_positive_rate", "selection_rate"],
            min_group_size=1,
        )
    g = gm.by_group.loc["g"]
    assert g["true_positive_rate[x]"] == 0.5  # one of two x found
    assert g["true_positive_rate[y]"] == 1.0
    assert g["true_positive_rate[z]"] == 0.0
    assert g["selection_rate[x]"] == 0.5  # two of four predicted x
    assert math.isnan(gm.by_group.loc["h", "true_positive_rate[z]"])  # h has no true z


def test_intersectional_index_and_marginal_equals_direct():
    rng = np.random.default_rng(0)
    n = 2000
    sex = rng.choice(["F", "M"], n)
    race = rng.choice(["A", "B", "C"], n)
    yt = rng.integers(0, 2, n)
    yp = rng.integers(0, 2, n)
    s = pd.DataFrame({"sex": sex, "race": race})
    gm = fa.group_metrics(yt, yp, sensitive_features=s, n_boot=50, random_state=0)
    assert gm.by_group.index.names == ["sex", "race"]
    assert gm.by_group.index.tolist()[0] == ("F", "A")
    direct = fa.group_metrics(yt, yp, sensitive_features=s["sex"], n_boot=50, random_state=0)
    marginal = gm.marginal("sex")
    pd.testing.assert_frame_equal(marginal.by_group, direct.by_group)
    pd.testing.assert_frame_equal(marginal.ci, direct.ci)


def test_to_dict_is_json_and_has_contract_keys():
    gm = fa.group_metrics(
        Y_TRUE,
        Y_PRED,
        sensitive_features=SF,
        min_group_size=1,
        n_boot=100,
        random_state=0,
        reference_group="a",
    )
    d = json.loads(json.dumps(gm.to_dict(), allow_nan=False))
    for key in (
        "kind",
        "schema_version",
        "title",
        "summary",
        "parameters",
        "table",
        "sensitive_features",
        "metrics",
        "overall",
        "groups",
        "disparities",
        "metric_info",
        "provenance",
    ):
        assert key in d
    assert d["kind"] == "group_metrics"
    assert d["parameters"]["random_state"] == 0
    assert d["groups"][0]["group"] == {"sensitive_feature_0": "a"}
    assert set(d["metric_info"]["selection_rate"]) >= {"label", "description", "ideal", "direction"}
    methods = {r["method"] for r in d["disparities"]}
    assert methods == {"between_groups", "to_overall", "reference"}
    frame = gm.to_frame()
    assert list(frame.columns) == [
        "sensitive_feature_0",
        "metric",
        "value",
        "lower",
        "upper",
        "interval_method",
        "count",
    ]
    assert "<table" in gm._repr_html_()


def test_registry_entries_are_complete():
    for name, d in METRIC_REGISTRY.items():
        assert d.name == name
        assert d.label
        assert d.description
        assert d.limitations
        assert d.formula
        assert d.direction in ("higher", "lower", "none")
        assert d.task in ("binary", "score", "regression")
    assert get_metric("precision").is_rate


def test_plot(pyplot):
    gm = fa.group_metrics(
        Y_TRUE, Y_PRED, sensitive_features=SF, min_group_size=1, n_boot=50, random_state=0
    )
    ax = gm.plot("selection_rate")
    assert len(ax.patches) == 3
    assert ax.get_ylabel() == "Selection rate"
