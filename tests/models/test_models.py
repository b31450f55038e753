"""fa.wrap: every kind of model, the resolved response method, and every output check."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC, LinearSVC

import fairaudit as fa
from fairaudit.exceptions import DataError, ModelError
from fairaudit.models import WrappedModel, wrap


@pytest.fixture
def binary_data(rng):
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    return X, y


@pytest.fixture
def multiclass_data(rng):
    X = rng.normal(size=(90, 3))
    y = np.digitize(X[:, 0], [-0.5, 0.5])  # classes 0, 1, 2
    return X, y


# -- scikit-learn --------------------------------------------------------------------------


def test_sklearn_binary_auto_uses_predict_proba(binary_data):
    X, y = binary_data
    clf = LogisticRegression().fit(X, y)
    m = wrap(clf)
    assert isinstance(m, WrappedModel)
    assert (m.kind, m.task, m.response_method, m.output_kind) == (
        "sklearn",
        "binary",
        "predict_proba",
        "score",
    )
    assert m.pos_label == 1
    np.testing.assert_array_equal(m.predict(X), clf.predict(X))
    np.testing.assert_allclose(m.predict_score(X), clf.predict_proba(X)[:, 1], rtol=0, atol=0)
    np.testing.assert_array_equal(m.classes_, [0, 1])


def test_sklearn_pos_label_picks_the_column(binary_data):
    X, y = binary_data
    clf = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(
        wrap(clf, pos_label=0).predict_score(X), clf.predict_proba(X)[:, 0]
    )
    # decision values are for classes_[1]; for pos_label = classes_[0] they are negated
    dec = wrap(clf, response_method="decision_function", pos_label=0).predict_score(X)
    np.testing.assert_array_equal(dec, -clf.decision_function(X))
    with pytest.raises(
        ValueError, match=r"pos_label=2 is not one of LogisticRegression's classes \[0, 1\]"
    ):
        wrap(clf, pos_label=2)


def test_sklearn_string_classes(binary_data):
    X, y = binary_data
    labels = np.where(y == 1, "yes", "no")
    clf = LogisticRegression().fit(X, labels)
    m = wrap(clf)
    assert m.pos_label == "yes"  # sklearn's convention: the last of the sorted classes
    assert set(m.predict(X)) <= {"yes", "no"}
    np.testing.assert_array_equal(m.predict_score(X), clf.predict_proba(X)[:, 1])


def test_sklearn_predict_only_gives_label_indicator(binary_data):
    X, y = binary_data
    clf = LogisticRegression().fit(X, y)
    m = wrap(clf, response_method="predict")
    assert m.output_kind == "label"
    np.testing.assert_array_equal(m.predict_score(X), (clf.predict(X) == 1).astype(float))
    assert (
        wrap(clf, response_method="predict", pos_label=0).predict_score(X).sum()
        == (clf.predict(X) == 0).sum()
    )


def test_sklearn_without_predict_proba_falls_back_to_decision_function(binary_data):
    X, y = binary_data
    for clf in [LinearSVC().fit(X, y), make_pipeline(StandardScaler(), SVC()).fit(X, y)]:
        m = wrap(clf)
        assert m.response_method == "decision_function"
        np.testing.assert_array_equal(m.predict_score(X), clf.decision_function(X))
        np.testing.assert_array_equal(m.predict(X), clf.predict(X))
    with pytest.raises(
        ValueError,
        match=r"LinearSVC has no predict_proba method; it has \['predict', 'decision_function'\]",
    ):
        wrap(LinearSVC().fit(X, y), response_method="predict_proba")


def test_sklearn_multiclass(multiclass_data):
    X, y = multiclass_data
    clf = LogisticRegression().fit(X, y)
    m = wrap(clf)
    assert m.task == "multiclass"
    assert m.pos_label is None
    np.testing.assert_array_equal(m.predict_score(X), clf.predict_proba(X))
    np.testing.assert_array_equal(m.predict(X), clf.predict(X))
    onehot = wrap(clf, response_method="predict").predict_score(X)
    np.testing.assert_array_equal(onehot.argmax(axis=1), clf.predict(X))
    assert onehot.sum(axis=1).tolist() == [1.0] * len(X)


def test_sklearn_regressor(binary_data):
    X, _ = binary_data
    reg = LinearRegression().fit(X, X[:, 1] * 2.0)
    m = wrap(reg)
    assert (m.task, m.response_method, m.output_kind, m.classes_) == (
        "regression",
        "predict",
        "score",
        None,
    )
    np.testing.assert_array_equal(m.predict_score(X), reg.predict(X))
    np.testing.assert_array_equal(m.predict(X), reg.predict(X))
    with pytest.raises(ValueError, match="LinearRegression is a regressor"):
        wrap(reg, pos_label=1)


def test_duck_typed_estimators_without_sklearn_tags():
    class Booster:  # fit/predict/predict_proba/classes_, as XGBoost's sklearn API has
        classes_ = np.array([0, 1])

        def fit(self, X, y):
            return self

        def predict(self, X):
            return (np.asarray(X)[:, 0] > 0).astype(int)

        def predict_proba(self, X):
            p = 1 / (1 + np.exp(-np.asarray(X)[:, 0]))
            return np.c_[1 - p, p]

    class Regressor:
        def fit(self, X, y):
            return self

        def predict(self, X):
            return np.asarray(X)[:, 0] * 2.0

    X = np.array([[0.0], [2.0]])
    m = wrap(Booster())
    assert (m.kind, m.task, m.response_method) == ("sklearn", "binary", "predict_proba")
    np.testing.assert_allclose(m.predict_score(X), [0.5, 1 / (1 + np.exp(-2.0))])
    r = wrap(Regressor())
    assert (r.task, r.output_kind) == ("regression", "score")
    np.testing.assert_array_equal(r.predict_score(X), [0.0, 4.0])


def test_pipeline_with_column_transformer_on_adult():
    ds = fa.datasets.load_adult()
    X, y = ds.X.iloc[:3000], ds.y.iloc[:3000]
    categorical = ["workclass", "education", "marital_status", "occupation", "sex", "race"]
    numeric = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
    pipe = make_pipeline(
        ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                ("num", StandardScaler(), numeric),
            ]
        ),
        LogisticRegression(max_iter=500),
    ).fit(X, y)
    m = fa.wrap(pipe, batch_size=1000)
    test = fa.datasets.load_adult("test").X.iloc[:2500]
    np.testing.assert_array_equal(m.predict(test), pipe.predict(test))
    np.testing.assert_allclose(m.predict_score(test), pipe.predict_proba(test)[:, 1], rtol=1e-12)
    assert m.task == "binary"
    assert m.describe()["model"] == "Pipeline"


def test_polars_and_pyarrow_input_reach_the_model_as_pandas(binary_data):
    X, y = binary_data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = LogisticRegression().fit(frame, y)
    m = wrap(clf)
    expected = clf.predict_proba(frame)[:, 1]
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    np.testing.assert_array_equal(m.predict_score(pl.from_pandas(frame)), expected)
    np.testing.assert_array_equal(m.predict_score(pa.Table.from_pandas(frame)), expected)


def test_unfitted_estimators_raise_not_fitted_naming_the_model():
    with pytest.raises(
        NotFittedError, match=r"LogisticRegression is not fitted: call LogisticRegression\.fit"
    ):
        wrap(LogisticRegression())
    with pytest.raises(NotFittedError, match="Pipeline is not fitted"):
        wrap(make_pipeline(StandardScaler(), LogisticRegression()))


def test_batches_give_the_same_answer(binary_data):
    X, y = binary_data
    clf = LogisticRegression().fit(X, y)
    np.testing.assert_array_equal(
        wrap(clf, batch_size=7).predict_score(X), wrap(clf).predict_score(X)
    )

    sizes = []

    def model(batch):
        sizes.append(len(batch))
        return np.zeros(len(batch), dtype=int)

    wrap(model, batch_size=25).predict(X)
    assert sizes == [25, 25, 10]


# -- torch ---------------------------------------------------------------------------------


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _linear(torch, n_in, n_out, *, dtype=None):
    gen = torch.Generator().manual_seed(0)
    layer = torch.nn.Linear(n_in, n_out, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.randn(layer.bias.shape, generator=gen, dtype=layer.bias.dtype))
    return layer


def test_torch_logits_binary(torch, binary_data):
    X, _ = binary_data
    net = torch.nn.Sequential(_linear(torch, 3, 4), torch.nn.ReLU(), _linear(torch, 4, 1))
    net.train()
    m = wrap(net)
    assert (m.kind, m.task, m.response_method, m.output_kind) == (
        "torch",
        "binary",
        "decision_function",
        "score",
    )
    with torch.no_grad():
        expected = net(torch.as_tensor(X, dtype=torch.float32))[:, 0].numpy()
    np.testing.assert_allclose(m.predict_score(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(m.predict(X), (expected > 0).astype(int))
    assert net.training, "the module's training mode was not restored"
    assert all(p.grad is None for p in net.parameters())
    net.eval()
    m.predict(X)
    assert not net.training


def test_torch_eval_mode_is_used_and_restored_after_an_error(torch):
    seen = []

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled()))
            return self.linear(x)

    net = Net().train()
    wrap(net).predict_score(np.zeros((3, 2)))
    assert seen == [(False, False)]
    with pytest.raises(
        ModelError, match=r"Net.forward raised RuntimeError on a batch of shape \(3, 5\)"
    ) as info:
        wrap(net).predict(np.zeros((3, 5)))
    assert isinstance(info.value.__cause__, RuntimeError)
    assert net.training


def test_torch_probabilities_multiclass_and_two_columns(torch, multiclass_data):
    X, _ = multiclass_data
    tensor = torch.as_tensor(X, dtype=torch.float32)
    sig = torch.nn.Sequential(_linear(torch, 3, 1), torch.nn.Sigmoid())
    m = wrap(sig, response_method="predict_proba")
    with torch.no_grad():
        p = sig(tensor)[:, 0].numpy()
    np.testing.assert_allclose(m.predict_score(X), p, rtol=1e-6)
    np.testing.assert_array_equal(m.predict(X), (p > 0.5).astype(int))
    np.testing.assert_allclose(
        wrap(sig, response_method="predict_proba", pos_label=0).predict_score(X), 1 - p, rtol=1e-6
    )

    three = _linear(torch, 3, 3)
    m = wrap(three)
    with torch.no_grad():
        logits = three(tensor).numpy()
    np.testing.assert_allclose(m.predict_score(X), logits, rtol=1e-6)
    assert m.task == "multiclass"
    np.testing.assert_array_equal(m.classes_, [0, 1, 2])
    np.testing.assert_array_equal(m.predict(X), logits.argmax(axis=1))

    two = _linear(torch, 3, 2)
    with torch.no_grad():
        logits2 = two(tensor).numpy()
    m = wrap(two)
    np.testing.assert_allclose(
        m.predict_score(X), logits2[:, 1] - logits2[:, 0], rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(m.predict(X), logits2.argmax(axis=1))
    with pytest.raises(ModelError, match="wrapped with task='binary'"):
        wrap(three, task="binary").predict_score(X)


def test_torch_batches_dataframes_dtypes(torch, binary_data):
    X, _ = binary_data
    sizes = []

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = _linear(torch, 3, 1, dtype=torch.float64)

        def forward(self, x):
            sizes.append((x.shape[0], x.dtype))
            return self.linear(x)

    net = Net()
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).astype({"a": "float32", "c": "Float64"})
    scores = wrap(net, batch_size=16).predict_score(frame)
    assert sizes == [(16, torch.float64)] * 3 + [(12, torch.float64)]
    with torch.no_grad():
        expected = net.linear(torch.as_tensor(frame.to_numpy(dtype=float)))[:, 0].numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert wrap(torch.nn.Linear(2, 1)).batch_size == 4096
    with pytest.raises(TypeError, match=r"X has non-numeric column\(s\) \['b'\]"):
        wrap(net).predict(frame.assign(b="x"))


def test_wrapping_non_torch_models_does_not_import_torch():
    code = (
        "import sys, numpy as np; import fairaudit as fa; "
        "from sklearn.linear_model import LogisticRegression; "
        "X = np.eye(4); m = fa.wrap(LogisticRegression().fit(X, [0, 1, 0, 1])); m.predict(X); "
        "fa.wrap(lambda X: [1] * len(X)).predict(X); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"


# -- callables and predictor objects -------------------------------------------------------


def test_callable_labels_and_scores(binary_data):
    X, y = binary_data
    clf = LogisticRegression().fit(X, y)
    m = wrap(clf.predict)
    assert (m.kind, m.response_method, m.output_kind) == ("callable", "predict", "label")
    np.testing.assert_array_equal(m.predict(X), clf.predict(X))
    np.testing.assert_array_equal(m.predict_score(X), clf.predict(X).astype(float))

    proba = wrap(lambda X: clf.predict_proba(X)[:, 1], response_method="predict_proba")
    np.testing.assert_array_equal(proba.predict_score(X), clf.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(proba.predict(X), clf.predict(X))
    two = wrap(clf.predict_proba, response_method="predict_proba")
    np.testing.assert_array_equal(two.predict_score(X), clf.predict_proba(X)[:, 1])

    reg = wrap(lambda X: X[:, 0] * 2.0, task="regression")
    assert (reg.task, reg.output_kind) == ("regression", "score")
    np.testing.assert_array_equal(reg.predict_score(X), X[:, 0] * 2.0)


def test_callable_string_labels_need_pos_label(binary_data):
    X, _ = binary_data
    f = lambda X: np.where(X[:, 0] > 0, "approve", "deny")  # noqa: E731
    with pytest.raises(
        ModelError,
        match=r"returned labels \['approve', 'deny'\]|returned labels \['deny', 'approve'\]",
    ):
        wrap(f).predict_score(X)
    score = wrap(f, pos_label="approve").predict_score(X)
    np.testing.assert_array_equal(score, (X[:, 0] > 0).astype(float))


def test_predictor_class_receives_json_records():
    received = []

    class PythonPredictor:
        """The Cortex pattern: __init__(config), predict(payload)."""

        def __init__(self, config):
            self.threshold = config["threshold"]

        def predict(self, payload):
            received.append(payload)
            if isinstance(payload[0], list):
                return [0] * len(payload)
            return {"predictions": [int((r["x"] or 0) > self.threshold) for r in payload]}

    frame = pd.DataFrame(
        {
            "x": [0.5, np.nan, 2.0],
            "n": np.array([1, 2, 3], dtype=np.int64),
            "group": pd.Categorical(["a", "b", "a"]),
        }
    )
    m = wrap(PythonPredictor({"threshold": 1.0}))
    assert m.kind == "predictor"
    np.testing.assert_array_equal(m.predict(frame), [0, 0, 1])
    payload = received[0]
    assert payload == [
        {"x": 0.5, "n": 1, "group": "a"},
        {"x": None, "n": 2, "group": "b"},
        {"x": 2.0, "n": 3, "group": "a"},
    ]
    assert json.loads(json.dumps(payload)) == payload  # plain JSON types only
    assert type(payload[0]["n"]) is int

    received.clear()
    m.predict(np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert received[0] == [[0.0, 1.0], [2.0, 3.0]]


def test_predictor_class_with_probabilities_and_bad_mapping():
    class Scorer:
        def predict(self, payload):
            return [[1 - r["p"], r["p"]] for r in payload]

    frame = pd.DataFrame({"p": [0.2, 0.9]})
    m = wrap(Scorer(), response_method="predict_proba")
    np.testing.assert_array_equal(m.predict_score(frame), [0.2, 0.9])
    np.testing.assert_array_equal(m.predict(frame), [0, 1])

    class Chatty:
        def predict(self, payload):
            return {"predictions": [0] * len(payload), "model_version": "3"}

    with pytest.raises(ModelError, match=r"a mapping with keys \['predictions', 'model_version'\]"):
        wrap(Chatty()).predict(frame)


# -- output checks -------------------------------------------------------------------------


def test_wrong_number_of_rows():
    m = wrap(lambda X: np.zeros(3))
    with pytest.raises(
        ModelError,
        match=r"<lambda>.__call__ returned 3 rows for 5 input rows \(shape \(3,\)\); expected one output per row",
    ):
        m.predict(np.zeros((5, 2)))
    with pytest.raises(ModelError, match="returned a scalar for 5 input rows"):
        wrap(lambda X: 1.0).predict(np.zeros((5, 2)))


def test_wrong_shape():
    with pytest.raises(ModelError, match=r"returned an array of shape \(4, 3\); expected \(4,\)"):
        wrap(lambda X: np.zeros((len(X), 3))).predict(np.zeros((4, 2)))
    with pytest.raises(
        ModelError, match=r"returned shape \(4, 3\), but the model was wrapped with task='binary'"
    ):
        wrap(
            lambda X: np.zeros((len(X), 3)), response_method="predict_proba", task="binary"
        ).predict_score(np.zeros((4, 2)))
    # a callable whose scores change width between calls: 3 columns make it multiclass
    calls = iter([np.full((4, 3), 1 / 3), np.full((4, 4), 1 / 4)])
    m = wrap(lambda X: next(calls), response_method="predict_proba")
    m.predict_score(np.zeros((4, 2)))
    with pytest.raises(ModelError, match=r"expected \(4, 3\), one column per class"):
        m.predict_score(np.zeros((4, 2)))


def test_non_numeric_scores():
    m = wrap(lambda X: np.array(["high"] * len(X)), response_method="predict_proba")
    with pytest.raises(
        ModelError, match="expects numeric scores; wrap it with response_method='predict'"
    ):
        m.predict_score(np.zeros((2, 1)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_predictions_name_the_rows(bad):
    def model(X):
        out = np.full(len(X), 0.3)
        out[[1, 4]] = bad
        return out

    m = wrap(model, response_method="predict_proba")
    with pytest.raises(
        ModelError, match=r"for 2 row\(s\), at positions \[1, 4\]\. fairaudit never drops rows"
    ):
        m.predict_score(np.zeros((6, 2)))
    with pytest.raises(ModelError, match=r"at positions \[1, 4\]"):
        m.predict(np.zeros((6, 2)))


def test_non_finite_positions_are_global_across_batches_and_capped_at_five():
    def model(X):
        return np.where(X[:, 0] > 0, np.nan, 0.5)

    X = np.zeros((20, 1))
    X[[3, 9, 11, 12, 15, 18, 19], 0] = 1
    with pytest.raises(
        ModelError, match=r"for 7 row\(s\), at positions \[3, 9, 11, 12, 15, \.\.\. and 2 more\]"
    ):
        wrap(model, response_method="predict_proba", batch_size=4).predict_score(X)


def test_missing_labels_are_reported_not_dropped():
    m = wrap(lambda X: np.array(["a", None, "b"], dtype=object), pos_label="a")
    with pytest.raises(ModelError, match=r"at positions \[1\]"):
        m.predict(np.zeros((3, 1)))


def test_sklearn_refusing_its_input_is_chained(binary_data):
    X, _ = binary_data
    reg = LinearRegression().fit(X, X[:, 0])
    X_nan = X.copy()
    X_nan[2, 0] = np.inf
    with pytest.raises(ModelError) as info:
        wrap(reg).predict(X_nan)
    # sklearn itself refuses infinite input: the error is chained, not swallowed
    assert "LinearRegression.predict raised ValueError" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


def test_model_raising_is_chained():
    def broken(X):
        raise KeyError("column 'age' not found")

    with pytest.raises(
        ModelError,
        match=r"broken.__call__ raised KeyError on the input: \"column 'age' not found\"",
    ) as info:
        wrap(broken).predict(np.zeros((2, 2)))
    assert isinstance(info.value.__cause__, KeyError)


# -- arguments -----------------------------------------------------------------------------


def test_wrap_is_idempotent_and_validates_arguments(binary_data):
    X, y = binary_data
    m = wrap(LogisticRegression().fit(X, y))
    assert wrap(m) is m
    assert fa.wrap is wrap
    with pytest.raises(ValueError, match="already a WrappedModel"):
        wrap(m, pos_label=0)
    with pytest.raises(ValueError, match="response_method must be one of"):
        wrap(m.model, response_method="proba")
    with pytest.raises(ValueError, match="task must be one of"):
        wrap(m.model, task="ranking")
    for bad in [0, -1]:
        with pytest.raises(ValueError, match=f"batch_size == {bad}, must be >= 1"):
            wrap(m.model, batch_size=bad)
    for bad in [2.5, True]:
        with pytest.raises(TypeError, match="batch_size must be an instance of int"):
            wrap(m.model, batch_size=bad)
    with pytest.raises(TypeError, match="got str"):
        wrap("model.pkl")
    with pytest.raises(TypeError, match="obj is the class LogisticRegression, not a fitted model"):
        wrap(LogisticRegression)
    with pytest.raises(ValueError, match="needs a classifier"):
        wrap(lambda X: X, task="regression", response_method="predict_proba")
    with pytest.raises(ValueError, match="pass pos_label=0 or 1"):
        wrap(lambda X: X, response_method="predict_proba", pos_label="yes")
    with pytest.raises(DataError, match="X has no rows"):
        m.predict(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="X must be array-like"):
        m.predict(None)


def test_describe_is_json_safe(binary_data):
    X, y = binary_data
    info = wrap(LogisticRegression().fit(X, np.where(y, "b", "a"))).describe()
    assert json.loads(json.dumps(info)) == info
    assert info == {
        "model": "LogisticRegression",
        "kind": "sklearn",
        "task": "binary",
        "response_method": "predict_proba",
        "output_kind": "score",
        "classes": ["a", "b"],
        "pos_label": "b",
        "batch_size": None,
    }
    assert "LogisticRegression" in repr(wrap(LogisticRegression().fit(X, y)))
