"""Bad input: each case a clear error naming the argument, or a documented policy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import (
    DataError,
    MissingValueError,
    SmallGroupWarning,
    UndefinedMetricWarning,
)
from fairaudit.metrics import disparate_impact

Y = [0, 1, 1, 0, 1, 0]
P = [0, 1, 0, 0, 1, 1]
S = ["a", "a", "a", "b", "b", "b"]


def gm(*args, **kwargs):
    kwargs.setdefault("min_group_size", 1)
    return fa.group_metrics(*args, **kwargs)


def test_mismatched_lengths():
    with pytest.raises(DataError, match="y_pred has 5 rows but y_true has 6"):
        gm(Y, P[:5], sensitive_features=S)
    with pytest.raises(DataError, match="sensitive_features has 5 rows but y_true has 6"):
        gm(Y, P, sensitive_features=S[:5])
    with pytest.raises(DataError, match="sample_weight has 2 rows"):
        gm(Y, P, sensitive_features=S, sample_weight=[1, 2])


@pytest.mark.parametrize("argument", ["y_true", "y_pred"])
def test_nan_in_labels(argument):
    bad = [0, np.nan, 1, 0, 1, 0]
    kwargs = {"y_true": Y, "y_pred": P}
    kwargs[argument] = bad
    with pytest.raises(MissingValueError, match=rf"{argument} has 1 missing .* rows \[1\]"):
        gm(kwargs["y_true"], kwargs["y_pred"], sensitive_features=S)


def test_missing_sensitive_refused_or_separate():
    s = ["a", None, "a", "b", "b", np.nan]
    with pytest.raises(MissingValueError, match="missing_groups='separate'"):
        gm(Y, P, sensitive_features=s)
    out = gm(Y, P, sensitive_features=s, missing_groups="separate", metrics=["selection_rate"])
    assert out.by_group.index.tolist() == ["a", "b", "missing"]
    assert out.by_group.loc["missing", "count"] == 2


def test_non_binary_labels():
    with pytest.raises(DataError, match=r"binary metrics need two labels.*pos_label=None"):
        gm([0, 1, 2, 0, 1, 2], P, sensitive_features=S)


def test_pos_label_absent():
    with pytest.raises(DataError, match="pos_label='yes' does not occur"):
        gm(Y, P, sensitive_features=S, pos_label="yes")


def test_single_group_policy():
    with pytest.warns(UndefinedMetricWarning, match="single group"):
        out = gm(Y, P, sensitive_features=["a"] * 6, metrics=["selection_rate"])
    assert out.by_group.loc["a", "selection_rate"] == 0.5
    assert math.isnan(out.difference()["selection_rate"])
    assert math.isnan(out.ratio()["selection_rate"])


def test_empty_input():
    with pytest.raises(DataError, match="empty"):
        gm([], [], sensitive_features=[])


def test_negative_and_nan_weights():
    with pytest.raises(DataError, match="sample_weight has 1 negative"):
        gm(Y, P, sensitive_features=S, sample_weight=[1, 1, -1, 1, 1, 1])
    with pytest.raises(MissingValueError, match="sample_weight has 1 missing"):
        gm(Y, P, sensitive_features=S, sample_weight=[1, 1, np.nan, 1, 1, 1])


def test_unknown_metric_lists_known():
    with pytest.raises(ValueError, match="unknown metric 'fairness'; known metrics: accuracy"):
        gm(Y, P, sensitive_features=S, metrics=["fairness"])


def test_nonexistent_reference_group():
    with pytest.raises(DataError, match=r"reference_group='z' is not one of the groups.*'a'"):
        gm(Y, P, sensitive_features=S, reference_group="z")
    out = gm(Y, P, sensitive_features=S)
    with pytest.raises(DataError, match="reference_group='z'"):
        out.difference(reference_group="z")
    with pytest.raises(TypeError, match="reference_group"):
        disparate_impact(Y, P, sensitive_features=S)  # required, no default


def test_zero_denominator_is_nan_with_warning():
    # group b has no actual positives: its TPR is 0/0
    with pytest.warns(UndefinedMetricWarning, match=r"true_positive_rate is undefined .*\['b'\]"):
        out = gm([1, 1, 0, 0, 0, 0], P, sensitive_features=S, metrics=["true_positive_rate"])
    assert math.isnan(out.by_group.loc["b", "true_positive_rate"])


def test_small_group_warning():
    with pytest.warns(SmallGroupWarning, match=r"2 group\(s\) have fewer than min_group_size=30"):
        fa.group_metrics(Y, P, sensitive_features=S, metrics=["selection_rate"])


def test_score_metric_needs_scores_and_probabilities():
    with pytest.raises(DataError, match="needs y_score"):
        gm(Y, P, sensitive_features=S, metrics=["roc_auc"])
    with pytest.raises(DataError, match=r"probabilities in \[0, 1\]"):
        gm(Y, P, sensitive_features=S, y_score=[0, 2, 1, 0, 3, 1], metrics=["brier_score"])
    with pytest.raises(MissingValueError, match="y_score"):
        gm(Y, P, sensitive_features=S, y_score=[0, np.inf, 1, 0, 1, 1], metrics=["roc_auc"])


def test_wrong_types_and_options():
    with pytest.raises(TypeError, match="sensitive_features is required"):
        gm(Y, P, sensitive_features=None)
    with pytest.raises(ValueError, match="n_boot == -1, must be >= 0"):
        gm(Y, P, sensitive_features=S, n_boot=-1)
    with pytest.raises(ValueError, match="confidence"):
        gm(Y, P, sensitive_features=S, confidence=95)
    with pytest.raises(ValueError, match="missing_groups"):
        gm(Y, P, sensitive_features=S, missing_groups="drop")
    with pytest.raises(DataError, match="needs class labels"):
        gm(Y, P, sensitive_features=S, metrics=["selection_rate", "mean_prediction"])
    with pytest.raises(DataError, match=r"2-dimensional|1-dimensional"):
        gm(Y, np.zeros((6, 2)), sensitive_features=S)


def test_input_types_give_identical_results():
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    expected = gm(Y, P, sensitive_features=S, metrics=["selection_rate", "accuracy"]).by_group
    variants = [
        (np.array(Y), np.array(P), np.array(S)),
        (
            pd.Series(Y, dtype="Int64"),
            pd.Series(P, dtype="boolean"),
            pd.Series(S, dtype="category"),
        ),
        (
            # pandas inputs pair on their index (issue 10): one index for all of them
            pd.Series(Y, index=range(10, 16)),
            pd.Series(P, dtype="int8", index=range(10, 16)),
            pd.Series(S, dtype="string", index=range(10, 16)),
        ),
        (pl.Series(Y), pl.Series(P), pl.Series(S)),
        (pa.array(Y), pa.array(P), pa.array(S)),
        (Y, P, pd.DataFrame({"sensitive_feature_0": S})),
    ]
    for y, p, s in variants:
        got = gm(y, p, sensitive_features=s, metrics=["selection_rate", "accuracy"]).by_group
        np.testing.assert_array_equal(got.to_numpy(float), expected.to_numpy(float))
        assert got.index.tolist() == ["a", "b"]
    # indexes holding different labels are no longer paired by position
    with pytest.raises(DataError, match="indexes hold different labels"):
        gm(pd.Series(Y, index=range(10, 16)), pd.Series(P), sensitive_features=S)


def test_string_labels_with_pos_label():
    yt = ["no", "yes", "yes", "no", "yes", "no"]
    yp = ["no", "yes", "no", "no", "yes", "yes"]
    out = gm(yt, yp, sensitive_features=S, pos_label="yes", metrics=["selection_rate"])
    expected = gm(Y, P, sensitive_features=S, metrics=["selection_rate"])
    pd.testing.assert_frame_equal(out.by_group, expected.by_group)


def test_categorical_keeps_category_order_and_drops_unobserved():
    s = pd.Categorical(S, categories=["b", "z", "a"])
    out = gm(Y, P, sensitive_features=s, metrics=["selection_rate"])
    assert out.by_group.index.tolist() == ["b", "a"]
