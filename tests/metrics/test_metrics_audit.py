"""fa.audit: wrap + predict + group_metrics on shipped data, with fingerprints."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError


@pytest.fixture(scope="module")
def german():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    ds = fa.datasets.load_german()
    cat = ds.X.select_dtypes("category").columns.tolist()
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), cat), remainder=StandardScaler()
        ),
        LogisticRegression(max_iter=1000),
    ).fit(ds.X, ds.y)
    return ds, model


def test_audit_equals_group_metrics_and_fingerprints(german):
    ds, model = german
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fa.exceptions.SmallGroupWarning)
        gm = fa.audit(model, ds.X, ds.y, sensitive_features=["sex"], n_boot=100, random_state=0)
        direct = fa.group_metrics(
            ds.y,
            model.predict(ds.X),
            y_score=model.predict_proba(ds.X)[:, 1],
            sensitive_features=ds.X[["sex"]],
            n_boot=100,
            random_state=0,
        )
    np.testing.assert_array_equal(gm.by_group.to_numpy(float), direct.by_group.to_numpy(float))
    assert "roc_auc" in gm.metrics
    fp = gm.provenance["fingerprints"]
    assert fp["algorithm"] == "sha256"
    assert len(fp["X"]) == 64
    assert len(fp["y_true"]) == 64
    again = fa.audit(model, ds.X, ds.y, sensitive_features=["sex"], metrics=["selection_rate"])
    assert again.provenance["fingerprints"]["y_pred"] == fp["y_pred"]
    changed = ds.X.copy()
    changed.iloc[0, changed.columns.get_loc("age")] += 1
    other = fa.audit(model, changed, ds.y, sensitive_features=["sex"], metrics=["selection_rate"])
    assert other.provenance["fingerprints"]["X"] != fp["X"]
    assert gm.provenance["model"]["task"] == "binary"


def test_audit_sensitive_names_need_a_dataframe(german):
    ds, model = german
    with pytest.raises(DataError, match="does not have"):
        fa.audit(model, ds.X, ds.y, sensitive_features=["gender"])
    with pytest.raises(TypeError, match="needs X to be a DataFrame"):
        fa.audit(model, ds.X.to_numpy(), ds.y, sensitive_features="sex")


def test_from_aif360_roundtrip():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        datasets = pytest.importorskip("aif360.datasets")
    import pandas as pd

    df = pd.DataFrame({"sex": [0.0, 1.0, 1.0, 0.0, 1.0, 0.0], "y": [1.0, 0, 1, 0, 1, 1]})
    ds = datasets.BinaryLabelDataset(df=df, label_names=["y"], protected_attribute_names=["sex"])
    pred = ds.copy(deepcopy=True)
    pred.labels = np.array([[1.0], [1], [0], [0], [1], [0]])
    kwargs = fa.metrics.from_aif360(ds, pred)
    gm = fa.group_metrics(**kwargs, metrics=["selection_rate"], min_group_size=1)
    # sex 0: rows 0, 3, 5 -> predictions 1, 0, 0; sex 1: rows 1, 2, 4 -> 1, 0, 1
    assert gm.by_group["selection_rate"].tolist() == [1 / 3, 2 / 3]


# -- defaults mean "not given" (issue 11) ------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 400
    X = pd.DataFrame({"x": rng.normal(size=n), "g": rng.integers(0, 2, n)})
    y = (X["x"] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_audit_accepts_a_wrapped_model_as_documented(german):
    ds, model = german
    kw = {"sensitive_features": ["sex"], "metrics": ["selection_rate", "roc_auc"]}
    plain = fa.audit(model, ds.X, ds.y, **kw)
    wrapped = fa.audit(fa.wrap(model), ds.X, ds.y, **kw)
    np.testing.assert_array_equal(plain.by_group.to_numpy(), wrapped.by_group.to_numpy())
    # settings that agree with the wrapped model are accepted, others refused
    fa.audit(fa.wrap(model), ds.X, ds.y, pos_label=1, response_method="predict_proba", **kw)
    with pytest.raises(ValueError, match=r"already a WrappedModel.*pos_label=0 \(it has 1\)"):
        fa.audit(fa.wrap(model), ds.X, ds.y, pos_label=0, **kw)
    # the positive class a model was wrapped with is used
    neg = fa.audit(fa.wrap(model, pos_label=0), ds.X, ds.y, **kw)
    assert neg.pos_label == 0
    assert (
        neg.by_group["selection_rate"].round(12).tolist()
        == (1 - plain.by_group["selection_rate"]).round(12).tolist()
    )


def test_audit_of_a_regressor_with_default_arguments(small):
    from sklearn.linear_model import LinearRegression

    X, _ = small
    target = 2 * X["x"] + 1
    reg = LinearRegression().fit(X, target)
    gm = fa.audit(reg, X, target, sensitive_features="g", batch_size=64)
    assert gm.task == "regression"
    direct = fa.group_metrics(
        target, reg.predict(X), sensitive_features=X[["g"]], task="regression", pos_label=None
    )
    np.testing.assert_allclose(gm.by_group.to_numpy(float), direct.by_group.to_numpy(float))
    assert gm.provenance["model"]["batch_size"] == 64
    with pytest.raises(ValueError, match="pos_label=1 was given, but LinearRegression is a"):
        fa.audit(reg, X, target, sensitive_features="g", pos_label=1)


def test_audit_pos_label_not_given(small):
    from sklearn.linear_model import LogisticRegression

    X, y = small
    labels = np.where(y == 1, ">50K", "<=50K")
    clf = LogisticRegression().fit(X, labels)
    with pytest.raises(ValueError, match=r"classes are \['<=50K', '>50K'\]: pass pos_label="):
        fa.audit(clf, X, labels, sensitive_features="g")
    gm = fa.audit(clf, X, labels, sensitive_features="g", pos_label=">50K")
    direct = fa.group_metrics(
        labels,
        clf.predict(X),
        y_score=clf.predict_proba(X)[:, 1],
        sensitive_features=X[["g"]],
        pos_label=">50K",
    )
    np.testing.assert_allclose(gm.by_group.to_numpy(float), direct.by_group.to_numpy(float))
    # boolean classes: True is positive
    clf_bool = LogisticRegression().fit(X, y.astype(bool))
    assert fa.audit(clf_bool, X, y.astype(bool), sensitive_features="g").pos_label


def test_audit_multiclass_default_is_per_class(small):
    from sklearn.linear_model import LogisticRegression

    X, _ = small
    y3 = np.digitize(X["x"], [-0.5, 0.5])
    clf = LogisticRegression().fit(X, y3)
    gm = fa.audit(clf, X, y3, sensitive_features="g", metrics=["true_positive_rate"])
    assert gm.task == "multiclass"
    assert set(gm.metrics) == {
        "true_positive_rate[0]",
        "true_positive_rate[1]",
        "true_positive_rate[2]",
    }
    one = fa.audit(clf, X, y3, sensitive_features="g", pos_label=2, metrics=["true_positive_rate"])
    assert one.task == "binary"
    np.testing.assert_allclose(
        one.by_group["true_positive_rate"], gm.by_group["true_positive_rate[2]"]
    )


def test_audit_label_only_models_need_a_hint_beyond_01(small):
    X, y = small
    weeks = np.rint(np.abs(X["x"].to_numpy()) * 20).astype(int)  # integer targets, not labels

    def predict_weeks(frame):
        return np.rint(np.abs(np.asarray(frame)[:, 0]) * 20).astype(int)

    with pytest.raises(ValueError, match=r"not 0/1; pass pos_label=.*task='regression'"):
        fa.audit(predict_weeks, X, weeks, sensitive_features="g")
    gm = fa.audit(predict_weeks, X, weeks, sensitive_features="g", task="regression")
    assert gm.task == "regression"
    assert gm.by_group["mean_absolute_error"].tolist() == [0.0, 0.0]
    binary = fa.audit(lambda f: (np.asarray(f)[:, 0] > 0).astype(int), X, y, sensitive_features="g")
    assert binary.task == "binary"
    assert binary.pos_label == 1


class _CountingPredictor:
    """A model-server predictor returning probabilities; counts its calls."""

    def __init__(self):
        self.calls = 0

    def predict(self, payload):
        self.calls += 1
        return [1 / (1 + np.exp(-row["x"])) for row in payload]


def test_audit_calls_a_predictor_once_for_labels_and_scores(small):
    X, y = small
    model = _CountingPredictor()
    gm = fa.audit(model, X, y, sensitive_features="g", response_method="predict_proba")
    assert model.calls == 1
    assert "roc_auc" in gm.metrics
    p = 1 / (1 + np.exp(-X["x"].to_numpy()))
    direct = fa.group_metrics(y, (p > 0.5).astype(int), y_score=p, sensitive_features=X[["g"]])
    np.testing.assert_allclose(gm.by_group.to_numpy(float), direct.by_group.to_numpy(float))


def test_group_metrics_pos_label_on_many_classes_is_one_vs_rest():
    """group_metrics(pos_label=...) on 9 classes: that class against the rest, as the CLI."""
    rng = np.random.default_rng(5)
    classes = np.array(["Private", "Self-emp", "Gov", "State", "Local", "Never", "NA", "X", "Y"])
    y = rng.choice(classes, 900)
    p = np.where(rng.random(900) < 0.6, y, rng.choice(classes, 900))
    s = rng.choice(["a", "b"], 900)
    gm = fa.group_metrics(y, p, sensitive_features=s, pos_label="Private")
    direct = fa.group_metrics(
        (y == "Private").astype(int), (p == "Private").astype(int), sensitive_features=s
    )
    np.testing.assert_allclose(gm.by_group.to_numpy(float), direct.by_group.to_numpy(float))
    assert gm.pos_label == "Private"
    # the per-class column of the multiclass result is the same number
    multi = fa.group_metrics(y, p, sensitive_features=s, pos_label=None)
    np.testing.assert_allclose(
        multi.by_group["true_positive_rate[Private]"], gm.by_group["true_positive_rate"]
    )
    # left at its default, more than two labels are refused with the ways out
    with pytest.raises(DataError, match=r"pass pos_label= one of them .* task='regression'"):
        fa.group_metrics(y, p, sensitive_features=s)
    # an explicit 1 on integer classes is one class against the rest too
    yi, pi = np.searchsorted(np.sort(classes), y), np.searchsorted(np.sort(classes), p)
    explicit = fa.group_metrics(yi, pi, sensitive_features=s, pos_label=1)
    assert explicit.pos_label == 1


def test_summary_never_contradicts_itself():
    """A single-class target, equal values, and multiclass columns each get a plain sentence."""
    s = ["a", "b"] * 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fa.exceptions.UndefinedMetricWarning)
        gm = fa.group_metrics(["b"] * 100, ["b"] * 100, sensitive_features=s, pos_label="b")
    summary = gm._summary()
    assert summary[0].startswith("Every true label is positive (pos_label='b')")
    assert "Selection rate: 1 in every group (2 groups)" in summary
    assert not any(" a 1 vs a 1" in line for line in summary)
    rng = np.random.default_rng(2)
    y = rng.choice(["P", "Q", "R"], 600)
    multi = fa.group_metrics(y, y[::-1], sensitive_features=rng.choice(["a", "b"], 600),
                             pos_label=None, metrics=["true_positive_rate"])  # fmt: skip
    assert all(" of class " in line for line in multi._summary())
