"""Data (pre-training) bias measures: cross-checked against smclarify and by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError, SmallGroupWarning


def _clarify():
    """Each Clarify measure by our name (smclarify is installed with --no-deps; see README)."""
    pre = pytest.importorskip("smclarify.bias.metrics.pretraining")
    return {
        "class_imbalance": lambda y, facet, pos, strata: pre.CI(y, facet),
        "label_proportion_difference": lambda y, facet, pos, strata: pre.DPL(y, facet, pos),
        "kl_divergence": lambda y, facet, pos, strata: pre.KL(y, facet),
        "js_divergence": lambda y, facet, pos, strata: pre.JS(y, facet),
        "lp_norm": lambda y, facet, pos, strata: pre.LP(y, facet),
        "total_variation_distance": lambda y, facet, pos, strata: pre.TVD(y, facet),
        "ks_distance": lambda y, facet, pos, strata: pre.KS(y, facet),
        "conditional_demographic_disparity": lambda y, facet, pos, strata: pre.CDDL(
            y, facet, pos, strata
        ),
    }


def _cases():
    adult = fa.datasets.load_adult()
    compas = fa.datasets.load_compas()
    german = fa.datasets.load_german()
    return [
        # (id, labels, sensitive frame, strata, positive label)
        ("adult", adult.y, adult.sensitive[["sex", "race"]], adult.frame["education"], 1),
        ("compas", compas.y, compas.sensitive[["sex", "race"]], compas.frame["age_cat"], 1),
        ("german", german.y, german.frame[["sex", "foreign_worker"]], german.frame["purpose"], 1),
        # a multiclass label: marital status by sex on Adult (every status occurs for both)
        (
            "adult-multiclass",
            adult.frame["marital_status"].astype(str),
            adult.sensitive[["sex"]],
            adult.frame["education"],
            "Married-civ-spouse",
        ),
    ]


@pytest.fixture(scope="module")
def cases():
    return _cases()


@pytest.mark.parametrize("case", range(4), ids=["adult", "compas", "german", "adult-multiclass"])
def test_every_clarify_measure_matches_smclarify(cases, case):
    name, y, sensitive, strata, pos = cases[case]
    y = pd.Series(np.asarray(y, dtype=object) if y.dtype == object else np.asarray(y))
    strata = pd.Series(np.asarray(strata, dtype=object))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallGroupWarning)
        db = fa.data_bias(
            y, sensitive_features=sensitive, strata=strata, pos_label=pos, min_group_size=0
        )
    frame = db.to_frame()
    positive = pd.Series(np.asarray(y == pos, dtype=bool))
    measures_of_clarify = _clarify()
    checked = 0
    for col in sensitive.columns:
        values = pd.Series(np.asarray(sensitive[col], dtype=object))
        for group in values.unique():
            facet = pd.Series(np.asarray(values == group, dtype=bool))
            labels_d = set(y[facet])
            labels_a = set(y[~facet])
            same_support = labels_d == labels_a
            for measure, clarify in measures_of_clarify.items():
                ours = frame[
                    (frame["sensitive_feature"] == col)
                    & (frame["group"] == group)
                    & (frame["measure"] == measure)
                ]["value"].item()
                if not same_support and measure not in (
                    "class_imbalance",
                    "label_proportion_difference",
                    "conditional_demographic_disparity",
                ):
                    continue  # Clarify drops labels missing on one side (see the docs)
                theirs = clarify(y, facet, positive, strata)
                assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12), (name, col, group)
                checked += 1
    assert checked >= 8 * 2


def test_codes_and_names_are_the_same_measures():
    y = [1, 0, 1, 1, 0, 0, 1, 0]
    s = list("aabbaabb")
    with pytest.warns(SmallGroupWarning):
        by_code = fa.data_bias(y, sensitive_features=s, measures=["CI", "dpl", "TVD"])
    with pytest.warns(SmallGroupWarning):
        by_name = fa.data_bias(
            y,
            sensitive_features=s,
            measures=["class_imbalance", "label_proportion_difference", "total_variation_distance"],
        )
    pd.testing.assert_frame_equal(by_code.to_frame(), by_name.to_frame())


def test_known_answer_by_hand():
    # group a: 4 rows, labels 1,1,1,0 -> P_a(1)=.75; group b: 6 rows, labels 1,0,0,0,0,0 -> 1/6
    y = [1, 1, 1, 0, 1, 0, 0, 0, 0, 0]
    s = ["a"] * 4 + ["b"] * 6
    db = fa.data_bias(y, sensitive_features=s, min_group_size=0)
    v = {m: db.value(m, "a") for m in db.measures}
    pa, pd_ = np.array([5 / 6, 1 / 6]), np.array([0.25, 0.75])  # comparator b, group a
    assert v["class_imbalance"] == pytest.approx((6 - 4) / 10)
    assert v["label_proportion_difference"] == pytest.approx(1 / 6 - 0.75)
    assert v["kl_divergence"] == pytest.approx(float(np.sum(pa * np.log(pa / pd_))))
    m = (pa + pd_) / 2
    js = 0.5 * (np.sum(pa * np.log(pa / m)) + np.sum(pd_ * np.log(pd_ / m)))
    assert v["js_divergence"] == pytest.approx(js)
    assert v["lp_norm"] == pytest.approx(math.sqrt(2) * abs(5 / 6 - 0.25))
    assert v["total_variation_distance"] == pytest.approx(abs(5 / 6 - 0.25))
    assert v["ks_distance"] == pytest.approx(abs(5 / 6 - 0.25))


def test_reference_group_and_intersection():
    y = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0])
    sex = np.array(list("MMMMFFFFMMFF"))
    race = np.array(list("xyxyxyxyxyxy"))
    db = fa.data_bias(
        y,
        sensitive_features={"sex": sex, "race": race},
        reference_group={"sex": "M", "race": "x"},
        min_group_size=0,
    )
    frame = db.to_frame()
    assert set(frame["sensitive_feature"]) == {"sex", "race", "sex & race"}
    # the reference group is not compared with itself
    assert not ((frame["sensitive_feature"] == "sex") & (frame["group"] == "M")).any()
    f_vs_m = frame[(frame["group"] == "F") & (frame["measure"] == "label_proportion_difference")]
    assert f_vs_m["value"].item() == pytest.approx(y[sex == "M"].mean() - y[sex == "F"].mean())
    assert f_vs_m["reference"].item() == "M"
    inter = frame[frame["sensitive_feature"] == "sex & race"]
    assert ("F", "y") in set(inter["group"])
    assert set(inter["reference"]) == {("M", "x")}


def test_weights_equal_duplicated_rows():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 200)
    s = rng.choice(["a", "b", "c"], 200)
    st = rng.choice(["p", "q"], 200)
    w = rng.integers(1, 4, 200)
    weighted = fa.data_bias(y, sensitive_features=s, strata=st, sample_weight=w, pos_label=2)
    repeated = fa.data_bias(
        np.repeat(y, w), sensitive_features=np.repeat(s, w), strata=np.repeat(st, w), pos_label=2
    )
    pd.testing.assert_frame_equal(weighted.to_frame(), repeated.to_frame())


def test_infinite_kl_is_said_not_hidden():
    y = [0, 1, 2, 0, 1, 0, 1, 0, 1, 0]
    s = list("bbbaaaaaaa")  # a never has label 2, its comparator (b) does
    with pytest.warns(SmallGroupWarning):
        db = fa.data_bias(y, sensitive_features=s, measures=["KL", "TVD"])
    assert db.value("KL", "a") == math.inf
    assert any("infinite" in n for n in db.notes)


def test_bootstrap_intervals_bracket_and_are_seeded():
    ds = fa.datasets.load_german()
    kw = dict(sensitive_features=ds.frame[["sex"]], n_boot=300, random_state=7)
    a = fa.data_bias(ds.y, **kw).to_frame()
    b = fa.data_bias(ds.y, **kw).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert (a["lower"] <= a["value"] + 1e-12).all()
    assert (a["value"] <= a["upper"] + 1e-12).all()
    assert (a["upper"] > a["lower"]).all()  # CI varies: rows are resampled jointly


@pytest.mark.slow
def test_interval_coverage_simulation():
    # Known population: group d (30%) with P(y=1) = .3, the rest with .45, labels in {0, 1, 2}.
    rng = np.random.default_rng(2024)
    share_d = 0.3
    p_d = np.array([0.5, 0.3, 0.2])
    p_a = np.array([0.35, 0.45, 0.2])
    truth = {
        "class_imbalance": (1 - share_d - share_d),
        "label_proportion_difference": p_a[1] - p_d[1],
        "total_variation_distance": np.abs(p_a - p_d).sum() / 2,
        "js_divergence": 0.5
        * (
            np.sum(p_a * np.log(2 * p_a / (p_a + p_d)))
            + np.sum(p_d * np.log(2 * p_d / (p_a + p_d)))
        ),
        "kl_divergence": np.sum(p_a * np.log(p_a / p_d)),
    }
    n, sims = 1500, 150
    hits = dict.fromkeys(truth, 0)
    for _ in range(sims):
        d = rng.random(n) < share_d
        y = np.where(d, rng.choice(3, n, p=p_d), rng.choice(3, n, p=p_a))
        db = fa.data_bias(
            y,
            sensitive_features=np.where(d, "d", "a"),
            measures=list(truth),
            pos_label=1,
            n_boot=300,
            random_state=rng,
        )
        f = db.to_frame().set_index(["group", "measure"]).loc["d"]
        for m, t in truth.items():
            hits[m] += f.loc[m, "lower"] <= t <= f.loc[m, "upper"]
    coverage = {m: h / sims for m, h in hits.items()}
    # 150 simulations: a true 95% coverage lands in [0.90, 0.99] with probability > 0.98
    for m, c in coverage.items():
        assert 0.90 <= c <= 0.99, (m, coverage)


def test_conditional_demographic_disparity_on_predictions_matches_clarify():
    post = pytest.importorskip("smclarify.bias.metrics.posttraining")
    ds = fa.datasets.load_compas()
    pred = (ds.frame["decile_score"] >= 5).astype(int)
    strata = pd.Series(np.asarray(ds.frame["c_charge_degree"], dtype=object))
    cdd = fa.metrics.conditional_demographic_disparity(
        pred, sensitive_features=ds.sensitive[["race"]], strata=strata, min_group_size=0
    )
    race = pd.Series(np.asarray(ds.sensitive["race"], dtype=object))
    for group, row in cdd.by_group.loc["race"].iterrows():
        facet = pd.Series(np.asarray(race == group, dtype=bool))
        theirs = post.CDDPL(pred, facet, pd.Series(np.asarray(pred == 1)), strata)
        assert row["value"] == pytest.approx(theirs, abs=1e-12)


def test_data_form_and_bad_input():
    frame = pd.DataFrame(
        {"y": [1, 0, 1, 0, 1, 0], "sex": list("MMMFFF"), "dept": list("xyxyxy"), "w": [1.0] * 6}
    )
    db = fa.data_bias(
        "y",
        sensitive_features=["sex"],
        strata="dept",
        sample_weight="w",
        data=frame,
        min_group_size=0,
    )
    assert "conditional_demographic_disparity" in db.measures
    with pytest.raises(DataError, match="Did you mean 'sex'"):
        fa.data_bias("y", sensitive_features=["sx"], data=frame)
    with pytest.raises(TypeError, match="data= is not given"):
        fa.data_bias("y", sensitive_features=frame["sex"])
    with pytest.raises(DataError, match="single level"):
        fa.data_bias(frame["y"], sensitive_features=frame["sex"], strata=["z"] * 6)
    with pytest.raises(DataError, match="reference_group 'X' is not a group"):
        fa.data_bias(frame["y"], sensitive_features=frame["sex"], reference_group="X")
    with pytest.raises(ValueError, match="needs strata="):
        fa.data_bias(frame["y"], sensitive_features=frame["sex"], measures=["CDDL"])
    with pytest.raises(ValueError, match="post-training measure"):
        fa.data_bias(frame["y"], sensitive_features=frame["sex"], measures=["DCA"])
    with pytest.raises(ValueError, match="Did you mean"):
        fa.data_bias(frame["y"], sensitive_features=frame["sex"], measures=["kl_divergance"])
    with pytest.raises(DataError, match="pass pos_label="):
        fa.data_bias(["u", "v", "w"] * 2, sensitive_features=frame["sex"], measures=["DPL"])
    with pytest.raises(ValueError, match="n_boot must be between"):
        fa.data_bias(frame["y"], sensitive_features=frame["sex"], n_boot=10**9)


def test_result_contract():
    with pytest.warns(SmallGroupWarning):
        db = fa.data_bias([1, 0, 1, 0], sensitive_features=list("abab"), n_boot=50, random_state=0)
    assert db != fa.data_bias  # eq=False: identity, never an ambiguous DataFrame truth value
    assert len(repr(db)) < 300
    d = db.to_dict()
    import json

    json.dumps(d)
    assert d["kind"] == "data_bias"
    assert "<table" in db._repr_html_()


def test_in_reports(tmp_path):
    ds = fa.datasets.load_german()
    db = fa.data_bias(
        ds.y, sensitive_features=ds.frame[["sex"]], n_boot=100, random_state=0, min_group_size=0
    )
    report = fa.Report(title="German credit labels").add(db)
    for suffix in ("html", "md", "json"):
        report.save(tmp_path / f"r.{suffix}")
    html = (tmp_path / "r.html").read_text()
    assert "Data bias" in html
    assert "label_proportion_difference" in html
    import json

    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["sections"][0]["kind"] == "data_bias"


def test_files_through_duckdb_equal_in_memory(tmp_path):
    pytest.importorskip("duckdb")
    ds = fa.datasets.load_adult()
    frame = ds.frame.assign(y=ds.y.to_numpy(), w=np.arange(len(ds.y)) % 3 + 1.0)
    frame.iloc[:15000].to_parquet(tmp_path / "a.parquet")
    frame.iloc[15000:].to_parquet(tmp_path / "b.parquet")
    frame.to_csv(tmp_path / "all.csv.gz", index=False)
    kw = dict(
        sensitive_features=["sex", "race"],
        strata="education",
        sample_weight="w",
        n_boot=200,
        random_state=3,
    )
    in_memory = fa.data_bias("y", data=frame, **kw).to_frame()
    for source in (str(tmp_path / "*.parquet"), str(tmp_path / "all.csv.gz")):
        # only the counts per (label, groups, stratum) come back from DuckDB; the table, and
        # so every value and (same seed) interval, is the same
        pd.testing.assert_frame_equal(fa.data_bias("y", data=source, **kw).to_frame(), in_memory)
    with pytest.raises(DataError, match="Did you mean 'sex'"):
        fa.data_bias("y", data=str(tmp_path / "*.parquet"), sensitive_features=["sx"])
    broken = frame.assign(y=frame["y"].astype(float))
    broken.loc[[3, 7], "y"] = np.nan
    broken.to_parquet(tmp_path / "nulls.parquet")
    with pytest.raises(DataError, match="2 missing value"):
        fa.data_bias("y", data=str(tmp_path / "nulls.parquet"), sensitive_features=["sex"])


def test_pandas_inputs_are_paired_on_their_index():
    y = pd.Series([1, 1, 0, 0, 1, 0], index=list("uvwxyz"))
    s = pd.Series(list("aaabbb"), index=list("uvwxyz"))
    reordered = s.iloc[::-1]  # same labels, another order: paired on the labels
    expected = fa.data_bias(y, sensitive_features=s, min_group_size=0).to_frame()
    got = fa.data_bias(y, sensitive_features=reordered, min_group_size=0).to_frame()
    pd.testing.assert_frame_equal(got, expected)
    other = pd.Series(list("aaabbb"), index=range(6))  # no label in common: refused
    with pytest.raises(DataError, match="different labels"):
        fa.data_bias(y, sensitive_features=other, min_group_size=0)
