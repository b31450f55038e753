"""fa.orthogonal_importance: known answers, fairml arithmetic, strategies, groups, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError, MissingValueError, ModelError


def linear(w):
    w = np.asarray(w, dtype=float)
    return fa.wrap(lambda X: np.asarray(X, dtype=float) @ w, task="regression")


def regressor(f):
    return fa.wrap(f, task="regression")


def correlated_frame(rng, n=400):
    a = rng.normal(size=n)
    b = 0.8 * a + 0.6 * rng.normal(size=n)
    c = rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b, "c": c})


# ---------------------------------------------------------------- known answers


def test_linear_model_direct_and_total_by_hand(rng):
    X = correlated_frame(rng)
    w = np.array([1.5, -2.0, 0.5])
    imp = fa.orthogonal_importance(linear(w), X, n_boot=0)
    Z = X.to_numpy()
    for j, name in enumerate(X.columns):
        x = Z[:, j]
        m = np.median(x)
        # direct: only x_j moves, to its median: output changes by w_j (m - x_j)
        direct = np.mean((w[j] * (m - x)) ** 2)
        # total: the other columns also lose beta_k (x_j - mean x_j), beta_k = cov(x_k, x_j)/var(x_j)
        xc = x - x.mean()
        beta = np.array([(Z[:, k] - Z[:, k].mean()) @ xc / (xc @ xc) for k in range(3)])
        beta[j] = 0.0
        change = w[j] * (m - x) - xc * (w @ beta)
        total = np.mean(change**2)
        # documented sign: sign(sum_i (x_ij' - x_ij) * change_i), here x_ij' = m
        sign = np.sign((m - x) @ change)
        assert imp.direct[name] == pytest.approx(direct, rel=1e-10)
        assert imp.total[name] == pytest.approx(sign * total, rel=1e-10)


def test_exact_small_example():
    # a = 0..3, b alternates; f = a. Median of b is 0.5, cov(a, b) = -0.25, var(b) = 0.25,
    # so dropping b gives a' = a + (b - 0.5): the output moves by +-0.5 on every row.
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    imp = fa.orthogonal_importance(linear([1.0, 0.0]), X, n_boot=0)
    # a -> median 1.5: changes 1.5, 0.5, -0.5, -1.5 -> mean square (2.25 + 0.25) / 2 = 1.25
    assert imp.direct.tolist() == pytest.approx([1.25, 0.0])
    assert imp.total.tolist() == pytest.approx([1.25, -0.25])


def test_ignored_but_correlated_feature_has_zero_direct_and_positive_total(rng):
    X = correlated_frame(rng)
    imp = fa.orthogonal_importance(linear([1.0, 0.0, 0.0]), X, n_boot=50, random_state=0)
    assert imp.direct["b"] == 0.0
    assert imp.total["b"] > 0.3  # b carries about 0.8 of a's signal
    assert imp.direct["c"] == 0.0
    assert abs(imp.total["c"]) < 0.05  # c is independent of a
    ratio = imp.indirect_ratio()
    assert np.isinf(ratio["b"])
    assert any("b: total dependence" in line for line in imp.to_dict()["summary"])


def test_uncorrelated_inputs_total_equals_direct():
    # exactly uncorrelated centred columns: orthogonalizing changes nothing
    X = pd.DataFrame({"a": [1.0, -1.0, 1.0, -1.0], "b": [1.0, 1.0, -1.0, -1.0]})
    imp = fa.orthogonal_importance(linear([2.0, 3.0]), X, n_boot=0)
    assert imp.total.abs().to_numpy() == pytest.approx(imp.direct.to_numpy())


def test_sign_follows_direction(rng):
    X = correlated_frame(rng)
    imp = fa.orthogonal_importance(linear([0.0, 0.0, -1.0]), X, n_boot=0)
    assert imp.total["c"] < 0
    assert imp.table.query("feature == 'c' and dependence == 'direct'")["sign"].item() == -1.0


# ---------------------------------------------------------------- fairml arithmetic


def fairml_loop(predict, X, n_runs=2):
    """Independent loop over the fairml package's arithmetic (float64)."""
    Z = np.asarray(X, dtype=float)
    base = predict(Z)
    total, direct = {}, {}
    for j in range(Z.shape[1]):
        runs_t, runs_d = [], []
        for _ in range(n_runs):
            Xd = Z.copy()
            Xd[:, j] = 0.0
            runs_d.append(np.mean((predict(Xd) - base) ** 2))
            v = Z[:, j]
            Xt = Xd.copy()
            for k in range(Z.shape[1]):
                if k != j:
                    Xt[:, k] = Xt[:, k] - (v @ Xt[:, k]) / (v @ v) * v
            runs_t.append(np.mean((predict(Xt) - base) ** 2))
        Xs = Z.copy()
        Xs[:, j] = Xs[:, j] + (Z[:, j].max() - Z[:, j].min())
        sign = 1.0 if np.mean(predict(Xs) - base) >= 0 else -1.0
        total[j] = sign * np.median(runs_t)
        direct[j] = np.median(runs_d)
    return total, direct


@pytest.mark.parametrize("output", ["label", "score"])
def test_fairml_compat_matches_loop(rng, output):
    from sklearn.linear_model import LogisticRegression

    n = 300
    X = pd.DataFrame(
        {
            "priors": rng.poisson(3, n),
            "young": rng.integers(0, 2, n),
            "group": rng.integers(0, 2, n),
            "x": rng.normal(1.0, 1.0, n),
        }
    )
    X["priors"] = X["priors"] + 2 * X["group"]
    y = (X["priors"] + rng.normal(size=n) > 4).astype(int)
    clf = LogisticRegression(C=0.1).fit(X.to_numpy(dtype=float), y)

    def score(Z):
        return clf.predict_proba(np.asarray(Z, dtype=float))[:, 1]

    predict = clf.predict if output == "label" else score
    total, direct = fairml_loop(lambda Z: predict(np.asarray(Z, dtype=float)), X)
    model = clf if output == "label" else fa.wrap(score, response_method="predict_proba")
    imp = fa.orthogonal_importance(
        model, X.to_numpy(dtype=float), fairml_compat=True, output=output, n_repeats=2
    )
    assert imp.total.to_numpy() == pytest.approx([total[j] for j in range(4)], rel=1e-12, abs=1e-15)
    assert imp.direct.to_numpy() == pytest.approx([direct[j] for j in range(4)], rel=1e-12)
    assert imp.table["lower"].isna().all()
    assert imp.strategy == "constant-zero"
    assert len(imp.repeats) == 4 * 2 * 2


def test_fairml_compat_differs_from_centred_default(rng):
    X = correlated_frame(rng) + 3.0  # non-zero means: centring matters
    compat = fa.orthogonal_importance(linear([1.0, 0.0, 0.0]), X, fairml_compat=True)
    default = fa.orthogonal_importance(
        linear([1.0, 0.0, 0.0]), X, strategy="constant-zero", n_boot=0
    )
    assert compat.direct.to_numpy() == pytest.approx(default.direct.to_numpy())
    assert not np.allclose(compat.total.to_numpy(), default.total.to_numpy())


def test_fairml_compat_rejects_strategy_groups_and_categoricals(rng):
    X = correlated_frame(rng, 20)
    with pytest.raises(ValueError, match="always replaces the column by zero"):
        fa.orthogonal_importance(linear([1, 0, 0]), X, fairml_compat=True, strategy="permutation")
    with pytest.raises(ValueError, match="single columns only"):
        fa.orthogonal_importance(
            linear([1, 0, 0]), X, fairml_compat=True, groups={"ab": ["a", "b"]}
        )
    Xc = X.assign(cat=pd.Categorical(["u", "v"] * 10))
    with pytest.raises(DataError, match="numeric columns only"):
        fa.orthogonal_importance(lambda Z: np.zeros(len(Z)), Xc, fairml_compat=True)


# ---------------------------------------------------------------- strategies, intervals


@pytest.mark.parametrize("strategy", ["random-sample", "permutation"])
def test_random_strategies_are_seeded(rng, strategy):
    X = correlated_frame(rng, 200)
    kw = {"strategy": strategy, "n_repeats": 4, "n_boot": 40}
    r1 = fa.orthogonal_importance(linear([1, 1, 0]), X, random_state=7, **kw)
    r2 = fa.orthogonal_importance(linear([1, 1, 0]), X, random_state=7, **kw)
    r3 = fa.orthogonal_importance(linear([1, 1, 0]), X, random_state=8, **kw)
    pd.testing.assert_frame_equal(r1.to_frame(), r2.to_frame())
    assert not np.allclose(r1.total.to_numpy(), r3.total.to_numpy())
    assert r1.repeats.groupby(["feature", "dependence"])["value"].nunique().max() > 1


def test_permutation_direct_dependence_is_twice_the_variance_on_average(rng):
    # f = x: permuting x gives E[(x_pi - x)^2] = 2 var(x) (population variance, n/(n-1) aside)
    x = rng.normal(size=2000)
    X = pd.DataFrame({"x": x})
    imp = fa.orthogonal_importance(
        linear([1.0]), X, strategy="permutation", n_repeats=5, n_boot=0, random_state=0
    )
    expected = 2 * x.var() * len(x) / (len(x) - 1)
    assert imp.direct["x"] == pytest.approx(expected, rel=0.1)
    lower, upper = imp.table.loc[1, ["lower", "upper"]]
    assert lower <= imp.direct["x"] <= upper


def test_bootstrap_interval_contains_estimate(rng):
    X = correlated_frame(rng)
    imp = fa.orthogonal_importance(linear([1, -1, 0.5]), X, n_boot=100, random_state=1)
    t = imp.to_frame()
    assert ((t["lower"] <= t["value"] + 1e-12) & (t["value"] <= t["upper"] + 1e-12)).all()
    assert (t["upper"] - t["lower"] > 0).all()


def test_batching_does_not_change_results(rng):
    X = correlated_frame(rng, 300)
    calls = []

    def model(Z):
        calls.append(len(Z))
        return np.tanh(np.asarray(Z) @ np.array([1.0, 0.5, -0.3]))

    big = fa.orthogonal_importance(
        regressor(model), X, n_boot=30, random_state=3, strategy="permutation"
    )
    n_big = len(calls)
    small = fa.orthogonal_importance(
        regressor(model), X, n_boot=30, random_state=3, strategy="permutation", max_batch_bytes=1
    )
    assert len(calls) - n_big > n_big
    assert max(calls[n_big:]) <= 256
    cols = ["value", "sign"]
    pd.testing.assert_frame_equal(big.to_frame()[cols], small.to_frame()[cols], rtol=1e-10)
    # the bootstrap sums are accumulated in float32 per batch
    cols = ["lower", "upper"]
    pd.testing.assert_frame_equal(big.to_frame()[cols], small.to_frame()[cols], rtol=1e-5)
    assert small.n_model_calls > big.n_model_calls


def test_unchanged_rows_are_not_sent_to_the_model():
    # a binary column whose median is 0: only the rows with a 1 change in the direct copy
    X = pd.DataFrame({"flag": [0.0] * 90 + [1.0] * 10})
    imp = fa.orthogonal_importance(linear([1.0]), X, n_boot=0)
    assert imp.direct["flag"] == pytest.approx(0.1)
    assert imp.n_rows_predicted == 100 + 10 + 10


def test_label_output_is_share_of_flipped_labels(rng):
    from sklearn.tree import DecisionTreeClassifier

    X = correlated_frame(rng)
    y = (X["a"] > 0.3).astype(int)
    tree = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    imp = fa.orthogonal_importance(tree, X, output="label", n_boot=0)
    threshold = tree.tree_.threshold[0]
    median = X["a"].median()
    flipped = np.mean((X["a"] <= threshold) != (median <= threshold))
    assert imp.direct["a"] == pytest.approx(flipped)
    assert imp.output == "label"


# ---------------------------------------------------------------- groups and categoricals


def test_group_block_is_one_input(rng):
    n = 600
    race = rng.choice(["x", "y", "z"], size=n, p=[0.5, 0.3, 0.2])
    onehot = pd.get_dummies(race, dtype=float)
    proxy = onehot["y"] * 2.0 + onehot["z"] * -1.0 + 0.3 * rng.normal(size=n)
    X = pd.concat([onehot, pd.Series(proxy, name="proxy")], axis=1)
    imp = fa.orthogonal_importance(
        linear([0, 0, 0, 1.0]), X, groups={"race": ["x", "y", "z"]}, n_boot=20, random_state=0
    )
    assert list(imp.total.index) == ["race", "proxy"]
    assert imp.direct["race"] == 0.0
    assert imp.total["race"] > 0.5  # most of proxy's variance comes from race
    assert np.isnan(imp.table.query("feature == 'race'")["sign"]).all()
    assert imp.features["race"] == ("x", "y", "z")


def test_categorical_frame_with_pipeline(rng):
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    n = 500
    race = pd.Categorical(rng.choice(["A", "B", "C"], size=n))
    income = np.where(race == "A", 2.0, 0.0) + rng.normal(size=n)
    X = pd.DataFrame({"race": race, "income": income, "flag": rng.integers(0, 2, n) == 1})
    y = (income + rng.normal(size=n) > 1).astype(int)
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["race", "flag"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(X, y)
    imp = fa.orthogonal_importance(pipe, X, n_boot=20, random_state=0)
    assert set(imp.total.index) == {"race", "income", "flag"}
    # race is read only a little directly, but income carries it
    assert imp.total["race"] > 3 * imp.direct["race"]
    assert any("not orthogonalized" in note for note in imp.notes)
    with pytest.raises(DataError, match="not defined for categorical"):
        fa.orthogonal_importance(pipe, X, strategy="constant-zero")
    perm = fa.orthogonal_importance(pipe, X, strategy="permutation", n_repeats=2, n_boot=0)
    assert perm.direct["race"] > 0


# ---------------------------------------------------------------- bad input


def test_missing_and_infinite_values_name_the_column():
    X = pd.DataFrame({"ok": [1.0, 2.0, 3.0], "bad": [1.0, np.nan, 3.0]})
    with pytest.raises(MissingValueError, match="'bad'"):
        fa.orthogonal_importance(linear([1, 1]), X)
    X["bad"] = [1.0, np.inf, 3.0]
    with pytest.raises(MissingValueError, match="'bad'"):
        fa.orthogonal_importance(linear([1, 1]), X)


def test_constant_column_is_zero_with_a_note(rng):
    X = correlated_frame(rng, 50).assign(k=4.0)
    imp = fa.orthogonal_importance(linear([1, 0, 0, 1]), X, n_boot=10, random_state=0)
    assert imp.total["k"] == 0.0
    assert imp.direct["k"] == 0.0
    assert any("'k' is constant" in note for note in imp.notes)
    assert np.isfinite(imp.total.to_numpy()).all()
    compat = fa.orthogonal_importance(linear([1, 0, 0, 1]), X.assign(k=0.0), fairml_compat=True)
    assert np.isfinite(compat.total.to_numpy()).all()


def test_model_raising_on_perturbed_data_names_feature_and_strategy(rng):
    X = correlated_frame(rng, 40)

    def picky(Z):
        Z = np.asarray(Z)
        if np.any(Z[:, 2] == np.median(X["c"])):
            raise ValueError("unseen value")
        return Z[:, 0]

    with pytest.raises(
        ModelError, match=r"feature 'c' perturbed \(direct dependence, strategy='constant-median'\)"
    ):
        fa.orthogonal_importance(regressor(picky), X, n_boot=0)


def test_model_failing_on_x_itself():
    with pytest.raises(ModelError, match="on X itself"):
        fa.orthogonal_importance(regressor(lambda Z: 1 / 0), np.eye(3))


def test_model_returning_nan(rng):
    X = correlated_frame(rng, 20)
    with pytest.raises(ModelError, match="NaN"):
        fa.orthogonal_importance(
            regressor(lambda Z: np.where(np.asarray(Z)[:, 0] == np.median(X["a"]), np.nan, 0.0)), X
        )


def test_wrong_arguments(rng):
    X = correlated_frame(rng, 20)
    f = linear([1, 0, 0])
    with pytest.raises(DataError, match="at least two rows"):
        fa.orthogonal_importance(f, X.iloc[:1])
    with pytest.raises(
        ValueError, match="'constant-median', 'constant-zero', 'random-sample', 'permutation'"
    ):
        fa.orthogonal_importance(f, X, strategy="shuffle")
    with pytest.raises(DataError, match=r"groups\['g'\] names column\(s\) \['nope'\]"):
        fa.orthogonal_importance(f, X, groups={"g": ["a", "nope"]})
    with pytest.raises(DataError, match="appear in groups"):
        fa.orthogonal_importance(f, X, groups={"g": ["a"], "h": ["a", "b"]})
    with pytest.raises(TypeError, match="list of column names"):
        fa.orthogonal_importance(f, X, groups={"g": "a"})
    with pytest.raises(ValueError, match="output must be"):
        fa.orthogonal_importance(f, X, output="proba")
    with pytest.raises(ValueError, match="n_repeats == 0, must be >= 1"):
        fa.orthogonal_importance(f, X, n_repeats=0)
    with pytest.raises(TypeError, match="n_boot must be an instance of int, not float"):
        fa.orthogonal_importance(f, X, n_boot=1.5)
    with pytest.raises(ValueError, match="confidence"):
        fa.orthogonal_importance(f, X, confidence=95)
    with pytest.raises(TypeError, match="random_state"):
        fa.orthogonal_importance(f, X, random_state="seed")


# ---------------------------------------------------------------- result object


def test_array_input_and_row_order_invariance(rng):
    X = correlated_frame(rng, 100)
    f = linear([1, -1, 2])
    imp = fa.orthogonal_importance(f, X.to_numpy(), n_boot=0)
    assert list(imp.total.index) == ["x0", "x1", "x2"]
    shuffled = fa.orthogonal_importance(f, X.to_numpy()[::-1], n_boot=0)
    # magnitudes only: the sign of a near-zero total can flip with summation order
    assert np.abs(shuffled.total.to_numpy()) == pytest.approx(
        np.abs(imp.total.to_numpy()), rel=1e-7, abs=1e-7
    )
    assert shuffled.direct.to_numpy() == pytest.approx(imp.direct.to_numpy(), rel=1e-9)


def test_to_dict_is_json_safe_with_common_keys(rng):
    imp = fa.orthogonal_importance(
        linear([1, 1, 0]), correlated_frame(rng, 60), random_state=0, n_boot=20
    )
    d = json.loads(json.dumps(imp.to_dict(), allow_nan=False))
    assert d["kind"] == "orthogonal_importance"
    assert d["schema_version"] == 1
    assert {"title", "summary", "parameters", "table"} <= set(d)
    assert d["parameters"]["random_state"] == 0
    assert len(d["table"]) == 6
    assert d["summary"][0].startswith("Largest total dependence")
    assert "<table" in imp._repr_html_()


def test_frame_columns(rng):
    imp = fa.orthogonal_importance(linear([1, 1, 0]), correlated_frame(rng, 60), n_boot=0)
    assert list(imp.to_frame().columns) == [
        "feature",
        "dependence",
        "value",
        "lower",
        "upper",
        "sign",
        "columns",
    ]


def test_plot(rng, pyplot):
    imp = fa.orthogonal_importance(
        linear([1, -1, 0]), correlated_frame(rng, 60), n_boot=10, random_state=0
    )
    ax = imp.plot()
    assert len(ax.patches) == 6
    _fig, ax2 = pyplot.subplots()
    assert imp.plot(ax=ax2) is ax2


def test_progress_bar(rng, capsys):
    pytest.importorskip("tqdm")
    imp = fa.orthogonal_importance(
        linear([1, 1, 0]), correlated_frame(rng, 30), n_boot=0, progress=True
    )
    assert "orthogonal_importance" in capsys.readouterr().err
    assert len(imp.total) == 3


def test_object_array_input_keeps_categorical_values(rng):
    n = 60
    colour = rng.choice(["red", "blue"], size=n)
    x = rng.normal(size=n) + (colour == "red")
    X = np.empty((n, 2), dtype=object)
    X[:, 0], X[:, 1] = colour, x
    seen = []

    def model(Z):
        Z = np.asarray(Z, dtype=object)
        seen.append(set(Z[:, 0]))
        return (Z[:, 0] == "red").astype(float) + Z[:, 1].astype(float)

    imp = fa.orthogonal_importance(regressor(model), X, n_boot=0)
    assert set().union(*seen) == {"red", "blue"}
    assert imp.direct["x0"] > 0
    assert np.isnan(imp.table.query("feature == 'x0'")["sign"]).all()


def test_multiclass_scores_have_no_sign(rng):
    from sklearn.linear_model import LogisticRegression

    X = correlated_frame(rng, 150)
    y = np.digitize(X["a"], [-0.5, 0.5])
    clf = LogisticRegression().fit(X, y)
    imp = fa.orthogonal_importance(clf, X, n_boot=0)
    proba = clf.predict_proba(X)
    moved = X.assign(a=X["a"].median())
    expected = np.mean(np.sum((clf.predict_proba(moved) - proba) ** 2, axis=1))
    assert imp.direct["a"] == pytest.approx(expected)
    assert imp.table["sign"].isna().all()


# ---------------------------------------------------------------- real data: FairML's README


def fairml_readme_frame():
    f = fa.datasets.load_compas().frame
    X = pd.DataFrame(
        {
            "Two_yr_Recidivism": f["two_year_recid"],
            "Number_of_Priors": f["priors_count"],
            "Age_Above_FourtyFive": (f["age_cat"] == "Greater than 45").astype(int),
            "Age_Below_TwentyFive": (f["age_cat"] == "Less than 25").astype(int),
            "African_American": (f["race"] == "African-American").astype(int),
            "Asian": (f["race"] == "Asian").astype(int),
            "Hispanic": (f["race"] == "Hispanic").astype(int),
            "Native_American": (f["race"] == "Native American").astype(int),
            "Other": (f["race"] == "Other").astype(int),
            "Female": (f["sex"] == "Female").astype(int),
            "Misdemeanor": (f["c_charge_degree"] == "M").astype(int),
        }
    )
    y = (f["score_text"] != "Low").astype(int)
    return X, y


RACE = ["African_American", "Asian", "Hispanic", "Native_American", "Other"]


def test_compas_fairml_readme_example():
    from sklearn.linear_model import LogisticRegression

    X, y = fairml_readme_frame()
    assert X.shape == (6172, 11)
    assert int(X["African_American"].sum()) == 3175
    clf = LogisticRegression(C=0.01).fit(X, y)

    # compat mode = the package's arithmetic on clf.predict (its README), checked by the loop
    compat = fa.orthogonal_importance(
        fa.wrap(clf, response_method="predict"), X, fairml_compat=True
    )
    total, direct = fairml_loop(lambda Z: clf.predict(pd.DataFrame(Z, columns=X.columns)), X, 1)
    assert compat.total.to_numpy() == pytest.approx([total[j] for j in range(11)], abs=1e-15)
    assert compat.direct.to_numpy() == pytest.approx([direct[j] for j in range(11)], abs=1e-15)
    assert compat.total["African_American"] > 3 * compat.direct["African_American"]

    # default mode: race as one block; its total dependence is far above its direct one
    imp = fa.orthogonal_importance(clf, X, groups={"race": RACE}, random_state=0)
    race = imp.to_frame().set_index(["feature", "dependence"]).loc["race"]
    assert race.loc["total", "lower"] > 2 * race.loc["direct", "upper"]
    assert imp.indirect_ratio()["race"] > 3


# ---------------------------------------------------------------- properties

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
hnp = pytest.importorskip("hypothesis.extra.numpy")


@hypothesis.settings(max_examples=25, deadline=None)
@hypothesis.given(
    data=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 30), st.integers(1, 4)),
        elements=st.floats(-100, 100, allow_nan=False, allow_infinity=False),
    ),
    seed=st.integers(0, 2**16),
)
def test_linear_direct_dependence_property(data, seed):
    # f = X @ w: replacing column j by its median m moves the output by w_j (m - x_j), and
    # relabelling the rows does not change any result
    w = np.random.default_rng(seed).normal(size=data.shape[1])
    imp = fa.orthogonal_importance(linear(w), data, n_boot=0)
    medians = np.median(data, axis=0)
    expected = w**2 * np.mean((data - medians) ** 2, axis=0)
    constant = np.ptp(data, axis=0) == 0
    expected[constant] = 0.0
    assert imp.direct.to_numpy() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    perm = np.random.default_rng(seed).permutation(data.shape[0])
    shuffled = fa.orthogonal_importance(linear(w), data[perm], n_boot=0)
    assert shuffled.total.to_numpy() == pytest.approx(
        imp.total.abs().to_numpy() * np.sign(shuffled.total.to_numpy()), rel=1e-7, abs=1e-7
    )
    assert shuffled.direct.to_numpy() == pytest.approx(imp.direct.to_numpy(), rel=1e-9, abs=1e-9)


def test_bare_callable_with_scores_is_caught(rng):
    X = correlated_frame(rng, 30)
    with pytest.raises(ModelError, match="non-integer values"):
        fa.orthogonal_importance(lambda Z: np.asarray(Z)[:, 0], X)


def test_subnormal_column_is_treated_as_constant():
    # Hypothesis found this: a column of 0 and 5e-324 has a subnormal Gram entry whose inverse
    # overflows; it carries no usable direction and is reported as zero dependence with a note.
    X = np.array([[0.0, 1.0], [5e-324, 2.0], [0.0, 4.0]])
    imp = fa.orthogonal_importance(linear(np.array([1.0, 2.0])), X, n_boot=0)
    assert imp.direct.iloc[0] == 0.0
    assert imp.total.iloc[0] == 0.0
    assert imp.direct.iloc[1] > 0
    assert any("constant in X" in note for note in imp.notes)
