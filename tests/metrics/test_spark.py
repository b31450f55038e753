"""The Spark engine (local mode): the same count table, metrics and intervals as numpy.

Spark starts once per session (10-90 s on a loaded machine), so the tests are few and small.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError

pytestmark = [pytest.mark.spark, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("Spark tests need a Java runtime (java not on PATH)", allow_module_level=True)
pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is not installed (extra 'spark')")


def make_frame(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n).tolist(),
            "p": rng.integers(0, 2, n).tolist(),
            "k": rng.choice(["u", "v", "w"], n).tolist(),
            "kp": rng.choice(["u", "v", "w"], n).tolist(),
            "s": rng.choice(["a", "b", "c"], n).tolist(),
            "r": rng.choice([1, 2], n).tolist(),
            "sc": rng.random(n).round(3).tolist(),
            "w": rng.random(n).tolist(),
            "yr": rng.normal(size=n).round(1).tolist(),
            "pr": rng.normal(size=n).round(1).tolist(),
        }
    )


def to_spark(spark, df: pd.DataFrame):
    return spark.createDataFrame(df.to_dict("records"))


def close(a: fa.GroupMetrics, b: fa.GroupMetrics, exact: bool) -> None:
    for x, y in ((a.by_group, b.by_group), (a.ci, b.ci)):
        if exact:
            assert x.equals(y)
        else:
            np.testing.assert_allclose(x.to_numpy(float), y.to_numpy(float), rtol=1e-12, atol=1e-13)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_equals_numpy(spark):
    df = make_frame()
    sdf = to_spark(spark, df)
    for kw, exact in (
        ({"y_true": "y", "y_pred": "p", "y_score": "sc"}, True),
        ({"y_true": "y", "y_pred": "p", "y_score": "sc", "sample_weight": "w"}, False),
        ({"y_true": "k", "y_pred": "kp", "pos_label": None}, True),
        ({"y_true": "yr", "y_pred": "pr"}, False),
    ):
        a = fa.group_metrics(
            **kw, sensitive_features=["s", "r"], data=df, n_boot=40, random_state=5
        )
        b = fa.group_metrics(
            **kw, sensitive_features=["s", "r"], data=sdf, n_boot=40, random_state=5
        )
        close(a, b, exact)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_bad_input(spark, monkeypatch):
    sdf = to_spark(spark, make_frame(50))
    with pytest.raises(
        DataError, match=r"no column 'sx' in the Spark DataFrame. Did you mean 's'\?"
    ):
        fa.metrics.count_table("y", "p", sensitive_features="sx", data=sdf)
    with pytest.raises(DataError, match="two labels"):
        fa.metrics.count_table("k", "p", sensitive_features="s", data=sdf)
    monkeypatch.setattr(pyspark_sql.SparkSession, "getActiveSession", staticmethod(lambda: None))
    with pytest.raises(DataError, match="no active Spark session"):
        fa.metrics.count_table("y", "p", sensitive_features="s", data=sdf)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cli_engine_spark_equals_duckdb(spark, tmp_path):
    import io
    import json

    from fairaudit.cli import main

    df = make_frame(600)
    df.to_csv(tmp_path / "d.csv", index=False)
    argv = ["audit", str(tmp_path / "d.csv"), "--target", "y", "--prediction", "p",
            "--score", "sc", "--sensitive", "s", "r", "--format", "json", "--quiet", "--n-boot", "30"]  # fmt: skip
    outs = []
    for extra in ([], ["--engine", "spark", "--spark-master", "local[2]"]):
        out, err = io.StringIO(), io.StringIO()
        assert main([*argv, *extra], stdout=out, stderr=err) == 0, err.getvalue()
        outs.append(json.loads(out.getvalue())["sections"][-1]["groups"])
    assert outs[0] == outs[1]


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_pos_label_one_vs_rest_as_in_memory(spark):
    df = make_frame(400)
    sdf = to_spark(spark, df)
    kw = {"y_true": "k", "y_pred": "kp", "sensitive_features": ["s"], "pos_label": "v"}
    a = fa.group_metrics(**kw, data=df, min_group_size=1)
    b = fa.group_metrics(**kw, data=sdf, min_group_size=1)
    assert a.by_group.equals(b.by_group)
    table = fa.metrics.count_table(**kw, data=sdf)
    assert table.pos_label == "v"
    np.testing.assert_array_equal(table.cell_n, fa.metrics.count_table(**kw, data=df).cell_n)
    # left out, more than two labels are still refused (as in memory)
    with pytest.raises(DataError, match="two labels"):
        fa.metrics.count_table("k", "kp", sensitive_features="s", data=sdf)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_weights_checked_as_in_memory(spark):
    from fairaudit.exceptions import MissingValueError

    df = make_frame(60)
    df["wt"] = df["w"].astype(str)
    kw = {"y_true": "y", "y_pred": "p", "sensitive_features": "s"}
    with pytest.raises(DataError, match="column 'wt' holds StringType values, not numbers"):
        fa.metrics.count_table(**kw, sample_weight="wt", data=to_spark(spark, df))
    with pytest.raises(TypeError, match="column 'wt' holds StringType"):  # as numpy's TypeError
        fa.metrics.count_table(**kw, sample_weight="wt", data=to_spark(spark, df))
    neg = df.copy()
    neg.loc[[1, 2], "w"] = -1.0
    with pytest.raises(DataError, match="2 negative value"):
        fa.metrics.count_table(**kw, sample_weight="w", data=to_spark(spark, neg))
    nan = df.copy()
    nan.loc[[4], "w"] = float("nan")
    with pytest.raises(MissingValueError, match="1 missing or infinite"):
        fa.metrics.count_table(**kw, sample_weight="w", data=to_spark(spark, nan))
    with pytest.raises(MissingValueError, match="missing or infinite"):
        fa.metrics.count_table(**kw, sample_weight="w", data=nan)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_fingerprints_order_free_and_equal_to_duckdb(spark):
    df = make_frame(300)
    kw = {"y_true": "y", "y_pred": "p", "sensitive_features": ["s", "r"], "fingerprint": True}
    a = fa.metrics.count_table(**kw, data=to_spark(spark, df))
    b = fa.metrics.count_table(**kw, data=to_spark(spark, df.iloc[::-1]).repartition(3))
    fp = a.source[0]["fingerprints"]
    assert fp == b.source[0]["fingerprints"]
    assert fp["rows"] == 300
    assert fp["algorithm"] == "md5-sum64"
    assert a.source[0]["kind"] == "spark"
    assert a.source[0]["rows"] == 300
    # integers and text are written alike by both engines: the same digests
    d = fa.metrics.count_table(**kw, data=df, engine="duckdb").source[0]["fingerprints"]
    assert {k: v for k, v in d.items() if k != "engine"} == {
        k: v for k, v in fp.items() if k != "engine"
    }
    # a changed value, or values re-paired across rows, change the digests
    changed = df.copy()
    changed.loc[0, "y"] = 1 - changed.loc[0, "y"]
    c = fa.metrics.count_table(**kw, data=to_spark(spark, changed)).source[0]["fingerprints"]
    assert c["y_true"] != fp["y_true"]
    assert c["y_pred"] == fp["y_pred"]
    swapped = df.copy()
    swapped["p"] = np.roll(swapped["p"].to_numpy(), 1)
    e = fa.metrics.count_table(**kw, data=to_spark(spark, swapped)).source[0]["fingerprints"]
    if not (swapped["p"] == df["p"]).all():
        assert e["row_digest"] != fp["row_digest"]
    gm = fa.group_metrics(**kw, data=to_spark(spark, df), min_group_size=1)
    assert gm.provenance["fingerprints"] == fp
    assert gm.provenance["sources"][0]["rows"] == 300


def assert_close_json(a: object, b: object) -> None:
    """Equal JSON, floats to 1e-12 relative (sums added in another order)."""
    if isinstance(a, dict):
        assert isinstance(b, dict)
        assert sorted(a) == sorted(b)
        for key in a:
            assert_close_json(a[key], b[key])
    elif isinstance(a, list):
        assert isinstance(b, list)
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_close_json(x, y)
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-13, nan_ok=True)
    else:
        assert a == b


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cli_engine_spark_multiclass_regression_missing_groups(spark, tmp_path):
    import io
    import json

    from fairaudit.cli import main

    df = make_frame(400)
    df["kc"] = df["k"].map({"u": 0, "v": 1, "w": 2})
    df["kpc"] = df["kp"].map({"u": 0, "v": 1, "w": 2})
    df["kcf"], df["kpcf"] = df["kc"].astype(float), df["kpc"].astype(float)  # "1.0": DOUBLE
    df["g"] = df["s"].where(df.index % 7 != 0, "")  # empty fields: missing groups
    df.to_csv(tmp_path / "d.csv", index=False)
    base = ["audit", str(tmp_path / "d.csv"), "--format", "json", "--quiet", "--n-boot", "20"]
    runs = [
        ["--target", "kc", "--prediction", "kpc", "--sensitive", "s", "--task", "multiclass"],
        ["--target", "kcf", "--prediction", "kpcf", "--sensitive", "s", "--task", "multiclass"],
        ["--target", "yr", "--prediction", "pr", "--sensitive", "s", "r",
         "--task", "regression", "--sample-weight", "w"],
        ["--target", "y", "--prediction", "p", "--sensitive", "g", "--missing-groups",
         "separate", "--sample-weight", "w", "--score", "sc"],
    ]  # fmt: skip
    for args in runs:
        outs = []
        for extra in ([], ["--engine", "spark", "--spark-master", "local[2]"]):
            out, err = io.StringIO(), io.StringIO()
            assert main([*base, *args, *extra], stdout=out, stderr=err) == 0, err.getvalue()
            outs.append(json.loads(out.getvalue())["sections"][-1])
        a, b = outs
        assert [g["group"] for g in a["groups"]] == [g["group"] for g in b["groups"]]
        if "--sample-weight" in args:  # sums in another order: equal to a few ulps
            assert_close_json(a["groups"], b["groups"])
        else:
            assert a["groups"] == b["groups"]
    # a weight column of text: exit 2 naming the column and its type
    out, err = io.StringIO(), io.StringIO()
    args = ["--target", "y", "--prediction", "p", "--sensitive", "s", "--sample-weight", "k"]
    for extra in ([], ["--engine", "spark", "--spark-master", "local[2]"]):
        err = io.StringIO()
        assert main([*base, *args, *extra], stdout=out, stderr=err) == 2
        assert "--sample-weight: column 'k' holds" in err.getvalue()


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_audit_on_spark_equals_audit_in_memory(spark):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    df = make_frame(500)
    feats = ["sc", "w", "yr"]
    sdf = to_spark(spark, df)
    model = LogisticRegression().fit(df[feats], df["y"])
    kw = {"y_true": "y", "features": feats, "sensitive_features": ["s", "r"]}
    a = fa.audit(model, data=df, **kw, n_boot=30, random_state=0)
    b = fa.audit(model, data=sdf, **kw, n_boot=30, random_state=0)
    for x, y in ((a.by_group, b.by_group), (a.overall, b.overall), (a.ci, b.ci)):
        assert x.equals(y)
    assert b.provenance["model"] == a.provenance["model"]
    assert b.provenance["sources"][0]["kind"] == "spark"
    assert b.provenance["fingerprints"]["rows"] == 500
    # a regressor, its predictions summed by Spark
    reg = LinearRegression().fit(df[feats], df["pr"])
    kw = {"y_true": "pr", "features": feats, "sensitive_features": "s"}
    a = fa.audit(reg, data=df, **kw, n_boot=20, random_state=1, fingerprint=False)
    b = fa.audit(reg, data=sdf, **kw, n_boot=20, random_state=1, fingerprint=False)
    close(a, b, exact=False)
