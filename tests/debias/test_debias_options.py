"""Defaults per constraint, clear errors, sample weights, several z columns, multi-class y."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from fairaudit.debias import (  # noqa: E402
    AdversarialDebiasingClassifier,
    AdversarialDebiasingRegressor,
)
from fairaudit.exceptions import DataError  # noqa: E402


def problem(n=400, seed=0, n_classes=2):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    X = np.c_[z + 0.5 * rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)]
    score = X[:, 0] + X[:, 1]
    if n_classes == 2:
        y = (score > 0.5).astype(int)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y, z


@pytest.mark.parametrize(
    ("constraint", "alpha", "steps"),
    [("demographic_parity", 3.0, 3), ("equalized_odds", 25.0, 5), ("equal_opportunity", 25.0, 5)],
)
def test_auto_defaults_follow_the_constraint(constraint, alpha, steps):
    X, y, z = problem(n=64)
    clf = AdversarialDebiasingClassifier(constraint=constraint, epochs=1, random_state=0)
    assert clf.get_params()["alpha"] == "auto"
    clf.fit(X, y, sensitive_features=z)
    assert (clf.alpha_, clf.adversary_steps_) == (alpha, steps)
    assert clf.get_params()["alpha"] == "auto"  # the parameter is left as given
    given = AdversarialDebiasingClassifier(alpha=2.0, adversary_steps=1, epochs=1).fit(
        X, y, sensitive_features=z
    )
    assert (given.alpha_, given.adversary_steps_) == (2.0, 1)
    reg = AdversarialDebiasingRegressor(epochs=1).fit(X, X[:, 1], sensitive_features=z)
    assert (reg.alpha_, reg.adversary_steps_) == (1.0, 3)


def test_clear_errors_for_device_layers_and_seed():
    X, y, z = problem(n=32)

    def fit(**params):
        AdversarialDebiasingClassifier(epochs=1, **params).fit(X, y, sensitive_features=z)

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"CUDA is not available.*device='cpu'"):
            fit(device="cuda")
    with pytest.raises(ValueError, match="not a torch device"):
        fit(device="gpu0")
    with pytest.raises(TypeError, match=r"hidden_layer_sizes must be a tuple of ints.*'32'"):
        fit(hidden_layer_sizes="32")
    with pytest.raises(ValueError, match=r"positive ints.*bad entries: \[0\]"):
        fit(hidden_layer_sizes=(32, 0))
    with pytest.raises(TypeError, match="adversary_hidden_layer_sizes"):
        fit(adversary_hidden_layer_sizes=16)
    with pytest.raises(ValueError, match=r"random_state must be a non-negative int.*-1"):
        fit(random_state=-1)
    with pytest.raises(TypeError, match="random_state"):
        fit(random_state=1.5)
    with pytest.raises(TypeError, match="alpha must be a number or 'auto'"):
        fit(alpha="high")
    with pytest.raises(TypeError, match="adversary_steps must be an integer >= 1 or 'auto'"):
        fit(adversary_steps="many")
    with pytest.raises(DataError, match="negative"):
        AdversarialDebiasingClassifier(epochs=1).fit(
            X, y, sensitive_features=z, sample_weight=-np.ones(32)
        )
    with pytest.raises(DataError, match="31 rows"):
        AdversarialDebiasingClassifier(epochs=1).fit(
            X, y, sensitive_features=z, sample_weight=np.ones(31)
        )


def test_sample_weight():
    X, y, z = problem(n=600)
    params = dict(alpha=1.0, epochs=3, batch_size=64, random_state=0)
    plain = AdversarialDebiasingClassifier(**params).fit(X, y, sensitive_features=z)
    unit = AdversarialDebiasingClassifier(**params).fit(
        X, y, sensitive_features=z, sample_weight=np.full(600, 2.5)
    )
    # equal weights are no weights, exactly
    np.testing.assert_array_equal(plain.decision_function(X), unit.decision_function(X))
    # Rows with weight 0 are never drawn: half the rows carry flipped labels, and a model
    # weighting them out learns the clean rule as well as a model fit on the clean rows.
    rng = np.random.default_rng(1)
    noisy = rng.random(600) < 0.5
    y_noisy = np.where(noisy, 1 - y, y)
    params = dict(alpha=0.0, epochs=15, batch_size=32, learning_rate=0.01, random_state=0)
    weighted = AdversarialDebiasingClassifier(**params).fit(
        X, y_noisy, sensitive_features=z, sample_weight=(~noisy).astype(float)
    )
    unweighted = AdversarialDebiasingClassifier(**params).fit(X, y_noisy, sensitive_features=z)
    acc_w = (weighted.predict(X) == y).mean()
    acc_u = (unweighted.predict(X) == y).mean()
    assert acc_w > 0.9
    assert acc_w > acc_u + 0.1


def test_several_sensitive_columns_are_one_intersectional_z():
    X, y, z = problem(n=200)
    rng = np.random.default_rng(7)  # not the stream that drew z
    frame = pd.DataFrame({"sex": np.where(z == 1, "F", "M"), "race": rng.choice(["a", "b"], 200)})
    clf = AdversarialDebiasingClassifier(epochs=1, random_state=0)
    clf.fit(X, y, sensitive_features=frame)
    assert clf.sensitive_kind_ == "multiclass"
    assert clf.sensitive_levels_ == [("F", "a"), ("F", "b"), ("M", "a"), ("M", "b")]
    # the same from a 2-D array, and one column of a frame is that column
    clf.fit(X, y, sensitive_features=frame.to_numpy())
    assert len(clf.sensitive_levels_) == 4
    clf.fit(X, y, sensitive_features=frame[["sex"]])
    assert clf.sensitive_kind_ == "binary"
    with pytest.raises(DataError, match="column 'w' is continuous"):
        clf.fit(X, y, sensitive_features=frame.assign(w=rng.normal(size=200)))
    reg = AdversarialDebiasingRegressor(epochs=1, random_state=0)
    assert reg.fit(X, X[:, 1], sensitive_features=frame).sensitive_kind_ == "multiclass"


def test_multiclass_target():
    X, y, z = problem(n=900, n_classes=3)
    labels = np.array(["low", "mid", "high"])[y]
    params = dict(epochs=20, batch_size=64, learning_rate=0.01, random_state=0)
    free = AdversarialDebiasingClassifier(alpha=0.0, **params).fit(X, labels, sensitive_features=z)
    assert list(free.classes_) == ["high", "low", "mid"]
    proba = free.predict_proba(X)
    assert proba.shape == (900, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert free.decision_function(X).shape == (900, 3)
    assert (free.predict(X) == labels).mean() > 0.8
    np.testing.assert_array_equal(free.classes_[proba.argmax(axis=1)], free.predict(X))
    # Demographic parity: the predicted class distribution depends less on z.
    fair = AdversarialDebiasingClassifier(constraint="demographic_parity", alpha=5.0, **params).fit(
        X, labels, sensitive_features=z
    )

    def gap(model):
        p = model.predict_proba(X)
        return np.abs(p[z == 1].mean(axis=0) - p[z == 0].mean(axis=0)).max()

    assert gap(fair) < gap(free)
    eo = AdversarialDebiasingClassifier(constraint="equalized_odds", epochs=2, random_state=0)
    assert eo.fit(X, labels, sensitive_features=z).predict(X[:5]).shape == (5,)
