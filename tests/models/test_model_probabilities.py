"""A model that says it returns probabilities must return probabilities."""

from __future__ import annotations

import numpy as np
import pytest

import fairaudit as fa
from fairaudit.exceptions import ModelError

X = np.random.default_rng(0).normal(size=(40, 3))


def proba_model(out):
    return fa.wrap(lambda X: out, response_method="predict_proba")


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (
            np.where(np.arange(40) == 7, -3.0, 0.4),
            r"outside \[0, 1\] for 1 row\(s\), at positions \[7\]: \[-3.0\]",
        ),
        (np.full(40, 5.0), r"outside \[0, 1\] for 40 row\(s\)"),
        (np.tile([0.7, 0.7], (40, 1)), r"do not sum to 1 for 40 row\(s\).*\(sum 1.4\)"),
        (np.tile([0.2, 0.2, 0.2], (40, 1)), r"do not sum to 1"),
    ],
    ids=["minus three", "five", "two columns sum 1.4", "three columns sum 0.6"],
)
def test_impossible_probabilities_are_refused(out, message):
    model = fa.wrap(
        lambda X: out,
        response_method="predict_proba",
        task="multiclass" if out.ndim == 2 and out.shape[1] == 3 else None,
    )
    with pytest.raises(ModelError, match=r"<lambda>.__call__ returned .*" + message):
        model.predict_score(X)
    with pytest.raises(ModelError, match=message):
        model.predict(X)


def test_sklearn_predict_proba_out_of_range_is_refused_in_audit():
    from sklearn.linear_model import LogisticRegression

    y = (X[:, 0] > 0).astype(int)

    class Overconfident(LogisticRegression):
        def predict_proba(self, X):
            return super().predict_proba(X) * 2.0

    model = Overconfident().fit(X, y)
    with pytest.raises(
        ModelError, match=r"Overconfident.predict_proba returned values outside \[0, 1\]"
    ):
        fa.audit(model, X, y, sensitive_features=np.array(["a", "b"] * 20), min_group_size=1)


def test_float32_softmax_rounding_is_accepted():
    logits = np.random.default_rng(1).normal(size=(40, 7)).astype(np.float32)
    out = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    scores = fa.wrap(
        lambda X: out, response_method="predict_proba", task="multiclass"
    ).predict_score(X)
    assert scores.shape == (40, 7)
    edge = np.array([0.0, 1.0, 1.0 + 1e-7, -1e-7] * 10)
    assert fa.wrap(lambda X: edge, response_method="predict_proba").predict_score(X).shape == (40,)
