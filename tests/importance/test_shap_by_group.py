"""fa.importance.shap_by_group: hand-computed SHAP for a linear model, gap decomposition."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError

pytest.importorskip("shap")


@pytest.fixture
def data(rng):
    n = 200
    group = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    x1 = rng.normal(size=n) + (group == "b") * 1.0
    x2 = rng.normal(size=n) - (group == "c") * 0.5
    x3 = rng.normal(size=n)
    X = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3})
    return X, pd.Series(group, name="grp")


def test_linear_model_matches_hand_computed_shap(data):
    X, group = data
    w = np.array([1.0, -2.0, 0.5])
    model = fa.wrap(lambda Z: np.asarray(Z) @ w, task="regression")
    r = fa.importance.shap_by_group(
        model,
        X,
        sensitive_features=group,
        background=X,
        algorithm="permutation",
        max_evals=8,
        random_state=0,
    )
    # interventional SHAP of a linear model: phi_j(x) = w_j (x_j - mean of the background x_j)
    phi = (X - X.mean()).to_numpy() * w
    for g in ["a", "b", "c"]:
        rows = (group == g).to_numpy()
        assert r.mean_abs[g].to_numpy() == pytest.approx(np.abs(phi[rows]).mean(axis=0))
        assert r.mean_shap[g].to_numpy() == pytest.approx(phi[rows].mean(axis=0))
    assert r.reference_group == "a"  # the largest group
    assert r.base_value == pytest.approx(float(X.to_numpy().mean(axis=0) @ w))
    # the gap b - a is carried by x1 only, c - a by x2 (up to noise in x3)
    assert r.contributions.loc["x1", "b"] == pytest.approx(
        w[0] * (X.x1[group == "b"].mean() - X.x1[group == "a"].mean())
    )


def test_contributions_sum_to_the_gap_for_a_nonlinear_model(data):
    from sklearn.linear_model import LogisticRegression

    X, group = data
    y = (X.x1 - X.x2 + np.random.default_rng(1).normal(size=len(X)) > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    r = fa.importance.shap_by_group(
        clf,
        X,
        sensitive_features=group,
        reference_group="b",
        n_background=40,
        max_evals=14,
        random_state=0,
    )
    proba = clf.predict_proba(X)[:, 1]
    for g in ["a", "c"]:
        gap = proba[group == g].mean() - proba[group == "b"].mean()
        assert r.gap[g] == pytest.approx(gap, abs=1e-12)
        assert r.contributions[g].sum() == pytest.approx(gap, abs=1e-8)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["kind"] == "shap_by_group"
    assert {"schema_version", "title", "summary", "parameters", "table"} <= set(d)
    assert max(abs(v) for v in d["residual"].values()) < 1e-8
    assert len(r.to_frame()) == 9


def test_pipeline_with_categorical_column(rng, pyplot):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    n = 150
    colour = pd.Categorical(rng.choice(["red", "green"], size=n))
    x = rng.normal(size=n)
    X = pd.DataFrame({"colour": colour, "x": x})
    y = ((colour == "red") + x + rng.normal(size=n) > 0.5).astype(int)
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(X, y)
    sex = rng.choice(["f", "m"], size=n)
    r = fa.importance.shap_by_group(
        pipe, X, sensitive_features=sex, n_background=30, max_evals=10, random_state=0
    )
    assert r.contributions["f" if r.reference_group == "m" else "m"].sum() == pytest.approx(
        r.gap.iloc[0], abs=1e-8
    )
    assert r.plot() is not None


def test_sampling_keeps_small_groups(rng):
    n = 3000
    group = np.where(np.arange(n) < 40, "small", "big")
    X = pd.DataFrame({"x": rng.normal(size=n)})
    model = fa.wrap(lambda Z: np.asarray(Z)[:, 0], task="regression")
    r = fa.importance.shap_by_group(
        model, X, sensitive_features=group, max_samples=300, n_background=20, random_state=0
    )
    assert r.counts["small"] >= 30
    assert r.n_samples < 400


def test_bad_input(data):
    X, group = data
    model = fa.wrap(lambda Z: np.asarray(Z)[:, 0], task="regression")
    with pytest.raises(DataError, match="not among the groups"):
        fa.importance.shap_by_group(model, X, sensitive_features=group, reference_group="z")
    with pytest.raises(DataError, match="two or more"):
        fa.importance.shap_by_group(model, X, sensitive_features=["a"] * len(X))
    with pytest.raises(DataError, match="rows"):
        fa.importance.shap_by_group(model, X, sensitive_features=group[:10])


# --------------------------------------------------------------------------------------------
# the gap on all rows, the sample's interval, what was sampled (issue 10); checked arguments
# and multiclass models (issue 11)
# --------------------------------------------------------------------------------------------


def test_gap_is_on_all_rows_and_the_sample_has_an_interval(rng):
    n = 2000
    group = rng.choice(["a", "b"], size=n, p=[0.8, 0.2])
    X = pd.DataFrame({"x1": rng.normal(size=n) + (group == "b"), "x2": rng.normal(size=n)})
    w = np.array([1.0, -0.5])
    model = fa.wrap(lambda Z: np.asarray(Z) @ w, task="regression")
    r = fa.importance.shap_by_group(
        model, X, sensitive_features=group, reference_group="a", max_samples=200,
        n_background=50, n_boot=300, random_state=1,
    )  # fmt: skip
    score = X.to_numpy() @ w
    full_gap = score[group == "b"].mean() - score[group == "a"].mean()
    assert r.gap["b"] == pytest.approx(full_gap, abs=1e-12)  # all 2,000 rows, not the sample
    assert r.n_rows == n
    assert r.n_samples == r.counts.sum() < n
    assert r.group_sizes.to_dict() == {
        "a": int((group == "a").sum()),
        "b": int((group == "b").sum()),
    }
    # the decomposition is on the sample: its contributions sum to the sample's gap ...
    assert r.contributions["b"].sum() == pytest.approx(r.sample_gap["b"], abs=1e-9)
    # ... whose bootstrap interval holds the full-data gap (and the full-data contribution of
    # x1, w1 * difference in the mean of x1)
    assert r.sample_gap_lower["b"] < full_gap < r.sample_gap_upper["b"]
    x1_full = w[0] * (X.x1[group == "b"].mean() - X.x1[group == "a"].mean())
    assert r.contributions_lower.loc["x1", "b"] < x1_full < r.contributions_upper.loc["x1", "b"]
    # what was sampled is recorded, and the seed repeats the run
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["sampling"]["rows_per_group"] == r.counts.to_dict()
    assert d["sampling"]["seed"] == r.seed == 1
    assert any("explained 200 of 2,000 rows" in line for line in d["summary"])
    frame = r.to_frame()
    assert {"contribution_lower", "contribution_upper"} <= set(frame.columns)
    again = fa.importance.shap_by_group(
        model, X, sensitive_features=group, reference_group="a", max_samples=200,
        n_background=50, n_boot=300, random_state=r.seed,
    )  # fmt: skip
    pd.testing.assert_frame_equal(again.contributions_lower, r.contributions_lower)


def test_without_bootstrap_the_intervals_are_nan(data):
    X, group = data
    model = fa.wrap(lambda Z: np.asarray(Z)[:, 0], task="regression")
    r = fa.importance.shap_by_group(model, X, sensitive_features=group, n_boot=0, random_state=0)
    assert r.contributions_lower.isna().all().all()
    assert r.sample_gap_upper.isna().all()
    assert json.dumps(r.to_dict(), allow_nan=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"algorithm": "foo"},
            ValueError,
            r"algorithm must be one of \['auto', 'exact', 'permutation'\], got 'foo'",
        ),
        (
            {"algorithm": "exact", "max_evals": 4},
            ValueError,
            r"max_evals=4 is too small for algorithm='exact', which evaluates all 2 \*\* 3 = 8",
        ),
        (
            {"max_evals": 5},
            ValueError,
            r"max_evals=5 is too small for the permutation explainer.*max_evals >= 7",
        ),
        ({"algorithm": "permutation", "max_evals": 6}, ValueError, r"max_evals >= 7"),
        ({"max_evals": 7.5}, TypeError, r"max_evals must be an int or None"),
        ({"n_boot": -1}, ValueError, r"n_boot must be a non-negative int"),
        ({"confidence": 95}, ValueError, r"confidence must be between 0 and 1"),
        ({"max_samples": 0}, ValueError, r"max_samples must be a positive int"),
        ({"target_class": 1}, ValueError, r"target_class=1 is for multiclass models"),
    ],
)
def test_explainer_arguments_are_checked_before_any_model_call(data, kwargs, error, message):
    X, group = data
    calls = []

    def model(Z):
        calls.append(len(Z))
        return np.asarray(Z)[:, 0]

    with pytest.raises(error, match=message):
        fa.importance.shap_by_group(
            fa.wrap(model, task="regression"), X, sensitive_features=group, **kwargs
        )
    if "target_class" not in kwargs:
        assert calls == []


def test_a_small_max_evals_with_auto_picks_the_permutation_explainer(rng):
    # 12 features: max_evals=40 is what the docs suggest, and auto used to pick Exact (2**12)
    X = pd.DataFrame(rng.normal(size=(60, 12)), columns=[f"x{i}" for i in range(12)])
    group = rng.choice(["a", "b"], size=60)
    model = fa.wrap(lambda Z: np.asarray(Z).sum(axis=1), task="regression")
    with pytest.raises(ValueError, match="max_evals >= 25"):
        fa.importance.shap_by_group(model, X, sensitive_features=group, max_evals=24)
    r = fa.importance.shap_by_group(
        model, X, sensitive_features=group, max_evals=40, n_background=10, random_state=0
    )
    assert r.algorithm == "permutation"
    assert r.contributions.sum().to_numpy() == pytest.approx(r.sample_gap.to_numpy(), abs=1e-9)
    small = fa.importance.shap_by_group(
        model, X.iloc[:, :3], sensitive_features=group, max_evals=40, n_background=10
    )
    assert small.algorithm == "exact"  # 2 ** 3 = 8 evaluations fit in 40


def test_multiclass_model_explains_the_named_class(rng):
    from sklearn.linear_model import LogisticRegression

    n = 150
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    y = np.digitize(X.x1 + 0.3 * rng.normal(size=n), [-0.5, 0.5])  # classes 0, 1, 2
    group = np.where(X.x2 > 0, "p", "q")
    clf = LogisticRegression().fit(X, y)
    with pytest.raises(
        DataError, match=r"multiclass \(3 classes \[0, 1, 2\]\).*pass target_class="
    ):
        fa.importance.shap_by_group(clf, X, sensitive_features=group)
    with pytest.raises(DataError, match="target_class=7 is not one of the model's classes"):
        fa.importance.shap_by_group(clf, X, sensitive_features=group, target_class=7)
    r = fa.importance.shap_by_group(
        clf, X, sensitive_features=group, target_class=2, n_background=30, random_state=0
    )
    assert r.output == "score[2]"
    proba = clf.predict_proba(X)[:, 2]
    other = "q" if r.reference_group == "p" else "p"
    gap = proba[group == other].mean() - proba[group == r.reference_group].mean()
    assert r.gap[other] == pytest.approx(gap, abs=1e-12)
    assert r.contributions[other].sum() == pytest.approx(gap, abs=1e-8)
    # a callable returning one column per class works the same way
    r2 = fa.importance.shap_by_group(
        fa.wrap(clf.predict_proba, response_method="predict_proba"), X,
        sensitive_features=group, target_class=2, n_background=30, random_state=0,
    )  # fmt: skip
    assert r2.gap[other] == pytest.approx(gap, abs=1e-12)
