"""One set of argument checks (issue 9): same type and wording at every public boundary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import fairaudit as fa
from fairaudit._validation import (
    MAX_N_BOOT,
    MAX_RANDOM_STATE,
    check_batch_size,
    check_confidence,
    check_count,
    check_memory,
    check_min_group_size,
    check_n_boot,
    check_random_state,
)
from fairaudit.debias import leakage


def test_checks_return_clean_python_values():
    assert check_n_boot(np.int64(5)) == 5
    assert type(check_n_boot(np.int64(5))) is int
    assert check_n_boot(MAX_N_BOOT) == MAX_N_BOOT
    assert check_confidence(np.float32(0.5)) == 0.5
    assert type(check_confidence(1 / 2)) is float
    assert check_random_state(None) is None
    gen = np.random.default_rng(0)
    assert check_random_state(gen) is gen
    assert check_random_state(MAX_RANDOM_STATE) == 2**32 - 1
    assert check_min_group_size(0) == 0
    assert check_batch_size(None) is None
    assert check_batch_size(7) == 7
    assert check_count(3, name="k", min_val=1) == 3


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: check_n_boot(2.7), TypeError, "n_boot must be an instance of int, not float"),
        (lambda: check_n_boot(2.0), TypeError, "n_boot must be an instance of int, not float"),
        (lambda: check_n_boot(True), TypeError, "n_boot must be an instance of int, not bool"),
        (lambda: check_n_boot(-1), ValueError, "n_boot == -1, must be >= 0"),
        (lambda: check_n_boot(10**9), ValueError, "n_boot == 1000000000, must be <= 100000"),
        (lambda: check_n_boot(0, min_val=1), ValueError, "n_boot == 0, must be >= 1"),
        (lambda: check_confidence(0), ValueError, "confidence == 0, must be > 0"),
        (lambda: check_confidence(95), ValueError, r"confidence == 95, must be < 1. Pass .* 0.95"),
        (lambda: check_confidence(float("nan")), ValueError, "confidence == nan, must be a finite"),
        (lambda: check_confidence("0.9"), TypeError, "confidence must be an instance of float"),
        (lambda: check_random_state(-1), ValueError, r"random_state == -1, must be >= 0"),
        (lambda: check_random_state(2**32), ValueError, "must be <= 4294967295"),
        (lambda: check_random_state(1.0), TypeError, "random_state must be None, an int or a"),
        (lambda: check_random_state("0"), TypeError, "random_state must be None, an int or a"),
        (lambda: check_min_group_size(-1), ValueError, "min_group_size == -1, must be >= 0"),
        (lambda: check_min_group_size(30.0), TypeError, "min_group_size must be an instance of"),
        (lambda: check_batch_size(0), ValueError, "batch_size == 0, must be >= 1"),
        (lambda: check_batch_size(None, allow_none=False), TypeError, "batch_size must be an"),
        (lambda: check_memory(2**40, what="x", fix="less."), ValueError, r"x needs 1024.0 GiB"),
    ],
)
def test_checks_refuse_with_one_wording(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_names_on_the_command_line_are_flags():
    with pytest.raises(ValueError, match=r"^--n-boot == -1, must be >= 0"):
        check_n_boot(-1, name="--n-boot")


# -- every public boundary answers the same ----------------------------------------------------


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "g": rng.integers(0, 2, 200)})
    y = (X["a"] + rng.normal(size=200) > 0).astype(int)
    return X, y, LogisticRegression().fit(X, y)


def _boundaries(data):
    X, y, model = data
    scores = model.predict_proba(X)[:, 1]
    return {
        "group_metrics": lambda **kw: fa.group_metrics(y, y, sensitive_features=X["g"], **kw),
        "audit": lambda **kw: fa.audit(model, X, y, sensitive_features="g", **kw),
        "orthogonal_importance": lambda **kw: fa.orthogonal_importance(model, X, **kw),
        "leakage": lambda **kw: leakage(scores, X["g"], **kw),
    }


@pytest.mark.parametrize("name", ["group_metrics", "audit", "orthogonal_importance", "leakage"])
@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"n_boot": 2.7}, TypeError, "n_boot must be an instance of int, not float"),
        ({"n_boot": -1}, ValueError, "n_boot == -1, must be >= 0"),
        ({"n_boot": 10**9}, ValueError, "n_boot == 1000000000, must be <= 100000"),
        ({"confidence": 95}, ValueError, "confidence == 95, must be < 1"),
        ({"random_state": -1}, ValueError, "random_state == -1, must be >= 0"),
    ],
)
def test_public_functions_share_the_checks(data, name, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        _boundaries(data)[name](**kwargs)


def test_importance_refuses_a_bootstrap_beyond_memory_before_allocating(data, monkeypatch):
    X, _, model = data
    monkeypatch.setattr("fairaudit._validation.MAX_ARRAY_BYTES", 1000)
    with pytest.raises(
        ValueError, match=r"n_boot=100 bootstrap weights for 200 rows needs .* GiB, more than"
    ):
        fa.orthogonal_importance(model, X, n_boot=100)


def test_wrap_and_estimators_share_the_checks(data):
    X, y, model = data
    with pytest.raises(ValueError, match="batch_size == 0, must be >= 1"):
        fa.wrap(model, batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an instance of int, not float"):
        fa.audit(model, X, y, sensitive_features="g", batch_size=10.0)
    pytest.importorskip("torch")
    from fairaudit.debias import AdversarialDebiasingClassifier

    for kwargs, exc, message in [
        ({"batch_size": 0}, ValueError, "batch_size == 0, must be >= 1"),
        ({"epochs": 2.5}, TypeError, "epochs must be an instance of int, not float"),
        ({"random_state": -1}, ValueError, "random_state == -1, must be >= 0"),
    ]:
        with pytest.raises(exc, match=message):
            AdversarialDebiasingClassifier(**kwargs).fit(X[["a"]], y, sensitive_features=X["g"])


def test_group_metrics_min_group_size_is_checked(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="min_group_size == -1, must be >= 0"):
        fa.group_metrics(y, y, sensitive_features=X["g"], min_group_size=-1)
    with pytest.raises(TypeError, match="min_group_size must be an instance of int, not float"):
        fa.group_metrics(y, y, sensitive_features=X["g"], min_group_size=2.5)


def test_weat_shares_the_checks():
    from fairaudit._validation import check_n_permutations
    from fairaudit.embeddings import WordVectors, weat

    wv = WordVectors(["a", "b", "c", "d"], [[1, 0], [1, 0.1], [0, 1], [0.1, 1]])
    sets = (["a"], ["c"], ["b"], ["d"])
    for kwargs, exc, message in [
        ({"n_permutations": 2.5}, TypeError, "n_permutations must be an instance of int"),
        ({"n_permutations": 0}, ValueError, "n_permutations == 0, must be >= 1"),
        ({"n_permutations": 10**9}, ValueError, "n_permutations == 1000000000, must be <="),
        ({"ddof": -1}, ValueError, "ddof == -1, must be >= 0"),
    ]:
        with pytest.raises(exc, match=message):
            weat(wv, *sets, **kwargs)
    assert check_n_permutations(np.int32(7)) == 7
