"""Equalized odds: one definition in the functions and in GroupMetrics, symmetric, = fairlearn."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fairaudit as fa
from fairaudit.exceptions import DataError
from fairaudit.metrics import (
    disparate_impact,
    equalized_odds_difference,
    equalized_odds_ratio,
)


def _gm(y_true, y_pred, sf):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fa.group_metrics(
            y_true,
            y_pred,
            sensitive_features=sf,
            metrics=["true_positive_rate", "false_positive_rate"],
            min_group_size=0,
        )


def _eo(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def test_undefined_rate_in_one_group_gives_nan_in_both_orders():
    # group a: TPR 1/2, FPR 1/2; group b has no actual negative: FPR undefined (NaN), so the
    # FPR comparison has one group and equalized odds is undefined. Before, max([tpr, nan])
    # returned the TPR difference 0.25 and max([nan, tpr]) NaN: the order decided.
    y_true = [1, 1, 0, 0, 1, 1, 1, 1]
    y_pred = [1, 0, 1, 0, 1, 1, 1, 0]
    sf = ["a"] * 4 + ["b"] * 4
    gm = _gm(y_true, y_pred, sf)
    assert math.isnan(gm.by_group.loc["b", "false_positive_rate"])
    assert gm.difference()["true_positive_rate"] == pytest.approx(0.25)
    assert math.isnan(gm.difference()["equalized_odds"])
    for order in (slice(None), slice(None, None, -1)):
        args = (y_true[order], y_pred[order])
        assert math.isnan(_eo(equalized_odds_difference, *args, sensitive_features=sf[order]))
        assert math.isnan(_eo(equalized_odds_ratio, *args, sensitive_features=sf[order]))
        for agg in ("worst_case", "mean"):
            value = _eo(equalized_odds_difference, *args, sensitive_features=sf[order], agg=agg)
            assert math.isnan(value)


def test_bad_agg_is_refused():
    with pytest.raises(ValueError, match="agg must be"):
        equalized_odds_difference([1, 0], [1, 0], sensitive_features=["a", "b"], agg="max")


def test_disparate_impact_with_one_group_is_a_clear_error():
    with pytest.raises(DataError, match="at least two groups"):
        _eo(disparate_impact, [0, 1], [1, 1], sensitive_features=["a", "a"], reference_group="a")


labels = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 1), st.sampled_from("abc")), min_size=2, max_size=40
).filter(lambda rows: any(1 in r[:2] for r in rows))  # pos_label=1 must occur


@settings(max_examples=25, deadline=None)
@given(labels, st.randoms(use_true_random=False))
def test_functions_equal_group_metrics_and_ignore_order(rows, rnd):
    y_true, y_pred, sf = (list(c) for c in zip(*rows, strict=True))
    gm = _gm(y_true, y_pred, sf)
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    for func, compare in (
        (equalized_odds_difference, gm.difference),
        (equalized_odds_ratio, gm.ratio),
    ):
        for method in ("between_groups", "to_overall"):
            expected = float(compare(method=method)["equalized_odds"])
            got = _eo(func, y_true, y_pred, sensitive_features=sf, method=method)
            shuffled = _eo(
                func,
                [y_true[i] for i in perm],
                [y_pred[i] for i in perm],
                sensitive_features=[sf[i] for i in perm],
                method=method,
            )
            np.testing.assert_equal(got, expected)
            np.testing.assert_allclose(shuffled, expected, rtol=0, atol=1e-12)


def test_matches_fairlearn_where_every_rate_is_defined(adult):
    fairlearn_metrics = pytest.importorskip("fairlearn.metrics")
    checked = 0
    for data in (adult,):
        for column in data.sensitive.columns:
            sf = data.sensitive[column]
            gm = _gm(data.y_true, data.y_pred, sf)
            if gm.by_group.isna().any().any():
                continue  # fairlearn counts an undefined rate as 0; fairaudit leaves it out
            checked += 1
            for method in ("between_groups", "to_overall"):
                for agg in ("worst_case", "mean"):
                    for ours, theirs in (
                        (equalized_odds_difference, fairlearn_metrics.equalized_odds_difference),
                        (equalized_odds_ratio, fairlearn_metrics.equalized_odds_ratio),
                    ):
                        kwargs = {"sensitive_features": sf, "method": method, "agg": agg}
                        expected = theirs(data.y_true, data.y_pred, **kwargs)
                        got = _eo(ours, data.y_true, data.y_pred, **kwargs)
                        assert got == pytest.approx(expected, abs=1e-12), (column, method, agg)
    assert checked >= 2
