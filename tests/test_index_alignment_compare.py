"""compare_predictions and flip_test pair pandas inputs on their index, as group_metrics does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError

INDEX = [10, 11, 12, 13, 14, 15, 16, 17]
Y = pd.Series([1, 1, 1, 0, 1, 0, 0, 0], index=INDEX)
A = pd.Series([1, 1, 0, 0, 1, 0, 0, 1], index=INDEX)
B = pd.Series([1, 0, 0, 0, 1, 1, 0, 1], index=INDEX)
S = pd.Series(list("aaaabbbb"), index=INDEX, name="group")
SA = pd.Series(np.linspace(0.1, 0.8, 8), index=INDEX)
SB = pd.Series(np.linspace(0.2, 0.6, 8), index=INDEX)


def shuffled(obj):
    return obj.iloc[::-1]


def compare(**over):
    args = {"y_true": Y, "pred_a": A, "pred_b": B, "sensitive_features": S, "score_a": SA,
            "score_b": SB, **over}  # fmt: skip
    return fa.compare_predictions(**args, n_boot=50, random_state=0)


@pytest.mark.parametrize(
    "moved", ["y_true", "pred_a", "pred_b", "sensitive_features", "score_a", "score_b"]
)
def test_compare_predictions_pairs_on_the_index(moved):
    expected = compare()
    value = {"y_true": Y, "pred_a": A, "pred_b": B, "sensitive_features": S, "score_a": SA,
             "score_b": SB}[moved]  # fmt: skip
    got = compare(**{moved: shuffled(value)})
    pd.testing.assert_frame_equal(got.differences, expected.differences)
    pd.testing.assert_frame_equal(got.by_group, expected.by_group)
    # by position the answer would differ (the test has teeth)
    positional = compare(**{moved: shuffled(value).to_numpy()})
    assert not (
        positional.differences.equals(expected.differences)
        and positional.by_group.equals(expected.by_group)
    )


def test_compare_predictions_refuses_other_labels_and_ambiguous_arrays():
    with pytest.raises(DataError, match="indexes hold different labels"):
        compare(pred_b=B.reset_index(drop=True))
    with pytest.raises(DataError, match="has no index to pair on"):
        compare(pred_a=shuffled(A), pred_b=B.to_numpy())


def test_compare_pairs_y_with_x_on_the_index():
    X = pd.DataFrame({"x": np.arange(8.0), "s": list("aaaabbbb")}, index=INDEX)
    y = pd.Series([0, 0, 0, 1, 1, 0, 1, 1], index=INDEX)
    model = fa.wrap(lambda X: (X["x"].to_numpy() > 2.5).astype(int))
    expected = fa.compare(model, model, X, y, sensitive_features="s", n_boot=20, random_state=0)
    got = fa.compare(
        model, model, X, shuffled(y), sensitive_features="s", n_boot=20, random_state=0
    )
    pd.testing.assert_frame_equal(got.differences, expected.differences)
    with pytest.raises(DataError, match="indexes hold different labels"):
        fa.compare(model, model, X, y.reset_index(drop=True), sensitive_features="s")


def test_flip_test_pairs_sensitive_features_with_x_on_the_index():
    X = pd.DataFrame({"sex": list("FMFMFMFM"), "income": [30, 30, 60, 60, 10, 90, 50, 20]},
                     index=INDEX)  # fmt: skip
    model = fa.wrap(lambda X: ((X["income"] > 40) | (X["sex"] == "M")).astype(int))
    groups = pd.Series(list("aabbaabb"), index=INDEX, name="band")
    expected = fa.flip_test(model, X, feature="sex", sensitive_features=groups)
    got = fa.flip_test(model, X, feature="sex", sensitive_features=shuffled(groups))
    pd.testing.assert_frame_equal(got.by_group, expected.by_group)
    positional = fa.flip_test(
        model, X, feature="sex", sensitive_features=shuffled(groups).to_numpy()
    )
    assert not positional.by_group.equals(expected.by_group)
    with pytest.raises(DataError, match="indexes hold different labels"):
        fa.flip_test(model, X, feature="sex", sensitive_features=groups.reset_index(drop=True))
