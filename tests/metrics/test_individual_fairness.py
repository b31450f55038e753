"""Generalized entropy, Theil and consistency: cross-checked against aif360."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairaudit as fa
from fairaudit.exceptions import DataError

aif = pytest.importorskip("aif360.sklearn.metrics")


def _predictions(name):
    """Labels and a simple rule's predictions on a shipped dataset (no model needed)."""
    ds = getattr(fa.datasets, f"load_{name}")()
    if name == "adult":
        pred = (ds.frame["education_num"] >= 13).astype(int)
        groups = ds.sensitive["race"]
    elif name == "compas":
        pred = (ds.frame["decile_score"] >= 5).astype(int)
        groups = ds.sensitive["race"]
    else:
        pred = (ds.frame["duration"] <= 24).astype(int)
        groups = ds.frame["sex"]
    return ds, np.asarray(ds.y), np.asarray(pred), pd.Series(np.asarray(groups, dtype=object))


@pytest.mark.parametrize("name", ["adult", "compas", "german"])
@pytest.mark.parametrize("alpha", [1, 2, 3, 0.5])
def test_generalized_entropy_matches_aif360(name, alpha):
    _, y, pred, groups = _predictions(name)
    ours = fa.metrics.generalized_entropy_index(y, pred, alpha=alpha, sensitive_features=groups)
    assert ours.total == pytest.approx(
        aif.generalized_entropy_error(y, pred, alpha=alpha), rel=1e-12
    )
    y_idx = pd.Series(y, index=pd.Index(groups, name="g"))
    theirs_between = aif.between_group_generalized_entropy_error(
        y_idx, pred, prot_attr="g", alpha=alpha
    )
    assert ours.between_group == pytest.approx(theirs_between, rel=1e-10)
    # the decomposition is exact
    assert ours.between_group + ours.within_group == pytest.approx(ours.total, rel=1e-12)
    if alpha == 1:
        b = 1 + pred - y
        assert ours.total == pytest.approx(aif.theil_index(b), rel=1e-12)


def test_alpha_zero_is_the_textbook_mean_log_deviation():
    y, pred = np.array([1, 1, 0, 0, 1]), np.array([1, 1, 1, 0, 1])  # benefits 1, 1, 2, 1, 1
    b = 1 + pred - y
    expected = -np.mean(np.log(b / b.mean()))
    assert fa.metrics.generalized_entropy_index(y, pred, alpha=0) == pytest.approx(expected)
    # aif360 0.6 divides once more by the mean benefit (documented difference)
    assert aif.generalized_entropy_error(y, pred, alpha=0) == pytest.approx(expected / b.mean())
    # a false negative has benefit 0: the mean log deviation is infinite
    assert fa.metrics.generalized_entropy_index([1, 0], [0, 0], alpha=0) == math.inf


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.sampled_from("abc")), min_size=2, max_size=40
    ),
    st.sampled_from([0.5, 1.0, 2.0, 3.0]),
)
def test_decomposition_and_weights_property(rows, alpha):
    y = np.array([r[0] for r in rows], dtype=int)
    p = np.array([r[1] for r in rows], dtype=int)
    g = [r[2] for r in rows]
    if not (y.any() or p.any()) or (1 + p - y).sum() == 0:
        return  # no positive label at all, or every benefit 0
    ge = fa.metrics.generalized_entropy_index(y, p, alpha=alpha, sensitive_features=g)
    assert ge.between_group + ge.within_group == pytest.approx(ge.total, abs=1e-12)
    assert ge.between_group >= -1e-12
    # integer weights equal duplicated rows
    w = np.arange(len(y)) % 3 + 1
    weighted = fa.metrics.generalized_entropy_index(
        y, p, alpha=alpha, sensitive_features=g, sample_weight=w
    )
    repeated = fa.metrics.generalized_entropy_index(
        np.repeat(y, w), np.repeat(p, w), alpha=alpha, sensitive_features=np.repeat(g, w)
    )
    assert weighted.total == pytest.approx(repeated.total, abs=1e-12)
    assert weighted.between_group == pytest.approx(repeated.between_group, abs=1e-12)


@pytest.mark.parametrize("name", ["adult", "compas", "german"])
def test_consistency_matches_aif360(name):
    ds, _, pred, _ = _predictions(name)
    X = ds.X.select_dtypes("number")
    X = (X - X.mean()) / X.std()
    if name == "adult":  # keep the kNN search quick: a fixed sample of rows
        keep = np.random.default_rng(0).choice(len(X), 4000, replace=False)
        X, pred = X.iloc[keep], pred[keep]
    ours = fa.metrics.consistency(X, pred, n_neighbors=5)
    theirs = aif.consistency_score(X.to_numpy(), pred, n_neighbors=5)
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        fa.metrics.generalized_entropy_index([1, 0], [1, 1], alpha=-1)
    with pytest.raises(TypeError, match="alpha must be a number"):
        fa.metrics.generalized_entropy_index([1, 0], [1, 1], alpha="2")
    X = pd.DataFrame({"age": [30.0, np.nan, 40.0], "sex": ["F", "M", "F"]})
    with pytest.raises(TypeError, match=r"non-numeric column\(s\) \['sex'\].*OneHotEncoder"):
        fa.metrics.consistency(X, [1, 0, 1])
    with pytest.raises(DataError, match="missing or infinite"):
        fa.metrics.consistency(X[["age"]], [1, 0, 1], n_neighbors=2)
    with pytest.raises(ValueError, match="n_neighbors must be between 1 and n_samples=3"):
        fa.metrics.consistency([[0.0], [1.0], [2.0]], [1, 0, 1], n_neighbors=4)


def test_result_contract():
    ge = fa.metrics.generalized_entropy_index(
        [1, 0, 1, 1], [1, 1, 0, 1], sensitive_features=list("abab")
    )
    assert len(repr(ge)) < 300
    import json

    json.dumps(ge.to_dict())
    assert list(ge.to_frame()["component"]) == ["total", "between_group", "within_group"]
    assert "<table" in ge._repr_html_()
