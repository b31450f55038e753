"""pandas inputs are paired on their index labels, never silently by position.

A reversed Series or a shuffled ``y_true`` used to be paired row by row with the other inputs:
{a: .75, b: .25} came out as {a: .25, b: .75}, and accuracy 1.0 as 0.0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError

S = ["a", "a", "a", "a", "b", "b", "b", "b"]
Y = [1, 1, 1, 0, 1, 0, 0, 0]
INDEX = [10, 11, 12, 13, 14, 15, 16, 17]


def frames():
    y = pd.Series(Y, index=INDEX, name="y")
    s = pd.Series(S, index=INDEX, name="group")
    return y, s


def shuffled(obj, seed=0):
    return obj.iloc[np.random.default_rng(seed).permutation(len(obj))]


def test_a_reversed_series_is_paired_on_its_labels():
    y, s = frames()
    gm = fa.group_metrics(
        y, y, sensitive_features=s[::-1], metrics=["selection_rate"], min_group_size=1
    )
    assert gm.by_group["selection_rate"].to_dict() == {"a": 0.75, "b": 0.25}


@pytest.mark.parametrize(
    "moved", ["y_true", "y_pred", "sensitive_features", "y_score", "sample_weight"]
)
def test_each_input_is_aligned_the_same_way(moved):
    y, s = frames()
    score = pd.Series(np.linspace(0.1, 0.9, 8), index=INDEX)
    weight = pd.Series(np.arange(1.0, 9.0), index=INDEX)
    args = {
        "y_true": y,
        "y_pred": y,
        "sensitive_features": s,
        "y_score": score,
        "sample_weight": weight,
    }
    expected = fa.group_metrics(**args, min_group_size=1).by_group
    args[moved] = shuffled(args[moved])
    got = fa.group_metrics(**args, min_group_size=1).by_group
    pd.testing.assert_frame_equal(got, expected)
    assert got["accuracy"].eq(1.0).all()


def test_indexes_with_different_labels_are_refused():
    y, s = frames()
    with pytest.raises(
        DataError, match=r"indexes hold different labels .* to pair them by position"
    ):
        fa.group_metrics(y, y, sensitive_features=s.reset_index(drop=True))


def test_duplicate_labels_in_a_different_order_are_refused():
    y = pd.Series(Y, index=[0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(DataError, match="repeats index labels"):
        fa.group_metrics(y, y.iloc[::-1], sensitive_features=S)


def test_a_positional_input_beside_reordered_pandas_inputs_is_refused():
    y, s = frames()
    with pytest.raises(DataError, match="y_pred has no index to pair on"):
        fa.group_metrics(y, np.array(Y), sensitive_features=shuffled(s))


def test_positional_inputs_pair_by_position_as_before():
    y, s = frames()
    gm = fa.group_metrics(
        np.array(Y), list(Y), sensitive_features=s, metrics=["selection_rate"], min_group_size=1
    )
    assert gm.by_group["selection_rate"].to_dict() == {"a": 0.75, "b": 0.25}
    # pandas inputs with one and the same index need nothing
    gm = fa.group_metrics(y, y, sensitive_features=s, metrics=["selection_rate"], min_group_size=1)
    assert gm.by_group["selection_rate"].to_dict() == {"a": 0.75, "b": 0.25}


def test_a_dict_of_series_is_aligned_column_by_column():
    y, s = frames()
    gm = fa.group_metrics(
        y,
        y,
        sensitive_features={"group": shuffled(s)},
        metrics=["selection_rate"],
        min_group_size=1,
    )
    assert gm.by_group["selection_rate"].to_dict() == {"a": 0.75, "b": 0.25}


def test_audit_aligns_y_and_sensitive_features_on_x():
    pytest.importorskip("sklearn")
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.tree import DecisionTreeClassifier

    X = pd.DataFrame({"x": Y, "s": S}, index=INDEX)
    model = make_pipeline(
        make_column_transformer(("passthrough", ["x"])), DecisionTreeClassifier(random_state=0)
    ).fit(X, Y)
    y, s = frames()
    gm = fa.audit(model, X, shuffled(y), sensitive_features=shuffled(s, 1), min_group_size=1)
    assert gm.overall["accuracy"] == 1.0
    assert gm.by_group["selection_rate"].to_dict() == {"a": 0.75, "b": 0.25}
    gm = fa.audit(model, X, shuffled(y), sensitive_features="s", min_group_size=1)
    assert gm.by_group["selection_rate"].to_dict() == {"a": 0.75, "b": 0.25}
    with pytest.raises(DataError, match="indexes hold different labels"):
        fa.audit(model, X, y.reset_index(drop=True), sensitive_features=s)


def test_leakage_aligns_scores_z_and_y():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(0)
    index = rng.permutation(400) + 1000
    z = pd.Series(rng.integers(0, 2, 400), index=index)
    scores = pd.Series(z.to_numpy() + rng.normal(scale=0.3, size=400), index=index)
    aligned = fa.debias.leakage(scores, z, n_boot=0, random_state=0).auc
    assert aligned > 0.9
    # z is paired with the scores on its labels, in the scores' row order: the same split
    assert fa.debias.leakage(scores, shuffled(z), n_boot=0, random_state=0).auc == pytest.approx(
        aligned
    )
    with pytest.raises(DataError, match="indexes hold different labels"):
        fa.debias.leakage(scores.reset_index(drop=True), z, n_boot=0)


def test_shap_by_group_aligns_x_and_sensitive_features():
    pytest.importorskip("shap")
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 1.0, 0.0, 0.0]}, index=[7, 8, 9, 6])
    s = pd.Series(["f", "f", "m", "m"], index=[7, 8, 9, 6])
    model = fa.wrap(lambda X: np.asarray(X) @ [1.0, 2.0], task="regression")
    expected = fa.importance.shap_by_group(
        model, X, sensitive_features=s, reference_group="m", random_state=0
    )
    got = fa.importance.shap_by_group(
        model, X, sensitive_features=s.iloc[::-1], reference_group="m", random_state=0
    )
    pd.testing.assert_frame_equal(got.contributions, expected.contributions)
    with pytest.raises(DataError, match="indexes hold different labels"):
        fa.importance.shap_by_group(model, X, sensitive_features=s.reset_index(drop=True))
