"""fa.flip_test: cross-checked against a hand loop; through an endpoint with a cache."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.models import Endpoint


def exact_mcnemar_by_hand(b: int, c: int) -> float:
    # two-sided exact binomial test with p = 1/2: twice the smaller tail, capped at 1
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


def test_flip_test_matches_a_hand_loop(adult_model, adult_test):
    X, _ = adult_test
    X = X.iloc[:250]
    result = fa.flip_test(adult_model, X, feature="sex")
    other = {"Female": "Male", "Male": "Female"}
    # the counterfactual rows built one at a time; the model called once on them (speed)
    switched_rows = []
    for i in range(len(X)):
        switched = X.iloc[[i]].copy()
        switched["sex"] = pd.Categorical([other[X["sex"].iloc[i]]], dtype=X["sex"].dtype)
        switched_rows.append(switched)
    switched = pd.concat(switched_rows)
    a_all, b_all = adult_model.predict(X), adult_model.predict(switched)
    sa_all = adult_model.predict_proba(X)[:, 1]
    sb_all = adult_model.predict_proba(switched)[:, 1]
    tallies = {g: {"n": 0, "flip": 0, "up": 0, "down": 0, "delta": 0.0} for g in other}
    for i in range(len(X)):
        a, b, sa, sb = a_all[i], b_all[i], sa_all[i], sb_all[i]
        t = tallies[X["sex"].iloc[i]]
        t["n"] += 1
        t["flip"] += int(a != b)
        t["up"] += int(a == 0 and b == 1)
        t["down"] += int(a == 1 and b == 0)
        t["delta"] += sb - sa
    for group, t in tallies.items():
        row = result.by_group.loc[group]
        assert row["count"] == t["n"]
        assert row["flip_rate"] == t["flip"] / t["n"]
        assert row["to_positive"] == t["up"] / t["n"]
        assert row["to_negative"] == t["down"] / t["n"]
        assert row["mean_score_change"] == pytest.approx(t["delta"] / t["n"], rel=1e-12, abs=1e-15)
        assert row["p_value"] == pytest.approx(exact_mcnemar_by_hand(t["up"], t["down"]), rel=1e-12)
        assert row["flip_rate_lower"] <= row["flip_rate"] <= row["flip_rate_upper"]
    # the served model reads sex: switching women to men raises their selection
    assert result.by_group.loc["Female", "to_positive"] > 0
    assert result.by_group.loc["Female", "to_negative"] == 0
    assert result.n_pairs == len(X)


def test_flip_test_through_the_endpoint_reuses_the_cache(
    server_requests, adult_server, adult_model, adult_test, tmp_path
):
    X, y = adult_test
    ep = Endpoint(
        adult_server + "/predict",
        label="label",
        score="score",
        batch_size=200,
        cache=tmp_path / "answers.sqlite",
    )
    fa.audit(ep, X, y, sensitive_features="sex")
    before = server_requests(adult_server)
    remote = fa.flip_test(ep, X, feature="sex", n_boot=100, random_state=0)
    sent = server_requests(adult_server) - before
    # the original rows come from the cache; only the counterfactual rows are sent
    assert sent == math.ceil(len(X) / 200)
    local = fa.flip_test(adult_model, X, feature="sex", n_boot=100, random_state=0)
    pd.testing.assert_frame_equal(remote.by_group, local.by_group, check_exact=True)


def test_mapping_and_proxies(adult_model, adult_test):
    X, _ = adult_test
    X = X.iloc[:300]
    one_way = fa.flip_test(adult_model, X, feature="sex", mapping={"Female": "Male"})
    assert list(one_way.by_group.index) == ["Female"]
    both = fa.flip_test(adult_model, X, feature="sex")
    pd.testing.assert_series_equal(one_way.by_group.loc["Female"], both.by_group.loc["Female"])
    proxies = fa.flip_test(
        adult_model,
        X,
        feature=["sex", "relationship"],
        mapping={("Female", "Wife"): ("Male", "Husband")},
    )
    assert list(proxies.by_group.index) == [("Female", "Wife")]
    assert proxies.by_group["count"].iloc[0] == int(
        ((X["sex"] == "Female") & (X["relationship"] == "Wife")).sum()
    )
    by_race = fa.flip_test(adult_model, X, feature="sex", sensitive_features="race")
    assert by_race.by_group.index.name == "race"
    assert by_race.by_group["count"].sum() == len(X)


def test_result_contract(adult_model, adult_test, pyplot, tmp_path):
    X, _ = adult_test
    result = fa.flip_test(adult_model, X.iloc[:200], feature="sex", n_boot=50, random_state=1)
    assert repr(result).startswith("FlipTestResult(feature=['sex'], n_pairs=200")
    frame = result.to_frame()
    assert list(frame.columns) == [
        "group",
        "statistic",
        "value",
        "lower",
        "upper",
        "count",
        "p_value",
        "p_value_adjusted",
    ]
    assert len(frame) == 2 * 4
    data = json.loads(json.dumps(result.to_dict()))
    assert data["kind"] == "flip_test"
    assert "<table" in result._repr_html_()
    assert result.plot() is not None
    report = fa.Report(title="flip").add(result)
    assert "Counterfactual flip test of sex" in report.to_html()
    with pytest.raises(AttributeError):
        result.n_rows = 3
    again = fa.flip_test(adult_model, X.iloc[:200], feature="sex", n_boot=50, random_state=1)
    pd.testing.assert_frame_equal(result.by_group, again.by_group)


def test_flip_test_bad_input(adult_model, adult_test):
    X, _ = adult_test
    X = X.iloc[:20]
    with pytest.raises(ValueError, match=r"mapping names \['Fmale'\], absent from feature 'sex'"):
        fa.flip_test(adult_model, X, feature="sex", mapping={"Fmale": "Male"})
    with pytest.raises(fa.exceptions.DataError, match=r"Did you mean 'sex'\?"):
        fa.flip_test(adult_model, X, feature="sexx")
    with pytest.raises(TypeError, match="X must be a DataFrame"):
        fa.flip_test(adult_model, X.to_numpy(), feature="sex")
    with pytest.raises(TypeError, match="tuples of 2 values"):
        fa.flip_test(adult_model, X, feature=["sex", "race"], mapping={"Female": "Male"})
    with pytest.raises(fa.exceptions.DataError, match="single value"):
        fa.flip_test(adult_model, X[X["sex"] == "Male"], feature="sex")
    with pytest.raises(ValueError, match="n_boot must be an int >= 0"):
        fa.flip_test(adult_model, X, feature="sex", n_boot=-1)
