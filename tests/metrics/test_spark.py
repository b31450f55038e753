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


@pytest.fixture(scope="session")
def spark():
    session = (
        pyspark_sql.SparkSession.builder.master("local[2]")
        .appName("fairaudit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


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
