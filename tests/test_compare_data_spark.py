"""compare_predictions(data=<Spark DataFrame>) (local mode) equals the in-memory comparison."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import MissingValueError

pytestmark = [pytest.mark.spark, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("Spark tests need a Java runtime (java not on PATH)", allow_module_level=True)
pyspark_sql = pytest.importorskip("pyspark.sql", reason="pyspark is not installed (extra 'spark')")


def make_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = np.where(rng.random(n) < 0.8, y, 1 - y)
    b = np.where(rng.random(n) < 0.9, a, 1 - a)
    sa = rng.random(n).round(3)
    return pd.DataFrame(
        {
            "y": y.tolist(),
            "pa": a.tolist(),
            "pb": b.tolist(),
            "sa": sa.tolist(),
            "sb": (sa + rng.normal(0, 0.01, n)).round(4).tolist(),
            "sex": rng.choice(["F", "M"], n).tolist(),
            "race": rng.choice(["x", "y", "z"], n).tolist(),
        }
    )


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_equals_in_memory(spark):
    df = make_frame()
    sdf = spark.createDataFrame(df.to_dict("records"))
    kw = {"n_boot": 200, "random_state": 0, "tolerance": 0.05}
    expected = fa.compare_predictions(
        df["y"], df["pa"], df["pb"], sensitive_features=df[["sex", "race"]],
        score_a=df["sa"], score_b=df["sb"], **kw,
    )  # fmt: skip
    got = fa.compare_predictions(
        "y", "pa", "pb", sensitive_features=["sex", "race"], score_a="sa", score_b="sb",
        data=sdf, **kw,
    )  # fmt: skip
    pd.testing.assert_frame_equal(got.differences, expected.differences, check_exact=True)
    pd.testing.assert_frame_equal(got.by_group, expected.by_group, check_exact=True)
    assert got.to_dict() == expected.to_dict()
    records = df.astype(object).to_dict("records")
    records[3]["pa"] = None
    bad = spark.createDataFrame(records, schema=sdf.schema)
    with pytest.raises(MissingValueError, match=r"pred_a: column 'pa' has 1 missing"):
        fa.compare_predictions("y", "pa", "pb", sensitive_features="sex", data=bad)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cli_compare_with_spark_equals_duckdb(spark, tmp_path):
    import io

    from fairaudit.cli import main

    df = make_frame(600, seed=1)
    df.to_parquet(tmp_path / "d.parquet")
    df.to_csv(tmp_path / "d.csv", index=False)
    for name in ("d.parquet", "d.csv"):
        base = [
            "compare", str(tmp_path / name), "--target", "y", "--prediction-a", "pa",
            "--prediction-b", "pb", "--score-a", "sa", "--score-b", "sb", "--sensitive", "sex",
            "race", "--n-boot", "50", "--tolerance", "0.1",
        ]  # fmt: skip
        outputs = []
        for extra in ([], ["--engine", "spark", "--spark-master", "local[1]"]):
            out, err = io.StringIO(), io.StringIO()
            code = main([*base, *extra], stdout=out, stderr=err)
            assert code in (0, 1), err.getvalue()
            outputs.append((code, out.getvalue()))
        assert outputs[0] == outputs[1]


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_compare_models_on_a_spark_dataframe_equals_in_memory(spark):
    """compare(data=<Spark DataFrame>): both models predict on the executors."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    n = 1200
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n).round(3).tolist(),
            "x2": rng.normal(size=n).round(3).tolist(),
            "sex": rng.choice(["F", "M"], n).tolist(),
            "race": rng.choice(["x", "y", "z"], n).tolist(),
        }
    )
    frame["y"] = (frame["x1"] + 0.5 * frame["x2"] + rng.normal(0, 1, n) > 0).astype(int)
    feats = ["x1", "x2"]
    model_a = LogisticRegression(C=1.0).fit(frame[feats], frame["y"])
    model_b = LogisticRegression(C=0.01).fit(frame[["x1"]].assign(x2=0.0), frame["y"])
    kw = {"n_boot": 100, "random_state": 0, "tolerance": 0.05}
    in_memory = fa.compare(
        model_a, model_b, frame[feats], frame["y"], sensitive_features=frame[["sex", "race"]], **kw
    )
    on_spark = fa.compare(
        model_a,
        model_b,
        data=spark.createDataFrame(frame),
        features=feats,
        y_true="y",
        sensitive_features=["sex", "race"],
        **kw,
    )
    assert on_spark.agreement == in_memory.agreement < 1
    pd.testing.assert_frame_equal(on_spark.differences, in_memory.differences)
    pd.testing.assert_frame_equal(on_spark.by_group, in_memory.by_group)
    assert on_spark.score_max_abs_diff == in_memory.score_max_abs_diff > 0
    assert on_spark.passed == in_memory.passed
    assert on_spark.models == in_memory.models
