"""compare_predictions(data=...): DuckDB over files and relations equals the in-memory path.

Counts are integers, so every number (differences, intervals at the same seed, p-values,
agreement, by_group) must be equal exactly, not approximately.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError, MissingValueError

duckdb = pytest.importorskip("duckdb")

KW = {"n_boot": 200, "random_state": 0, "tolerance": 0.05}


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    a = np.where(rng.random(n) < 0.8, y, 1 - y)
    b = np.where(rng.random(n) < 0.9, a, 1 - a)
    sa = rng.random(n).round(3)
    return pd.DataFrame(
        {
            "y": y,
            "pa": a,
            "pb": b,
            "sa": sa,
            "sb": (sa + rng.normal(0, 0.01, n)).round(4),
            "sex": rng.choice(["F", "M"], n),
            "race": rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1]),
        }
    )


def assert_same(x: fa.ComparisonResult, y: fa.ComparisonResult) -> None:
    pd.testing.assert_frame_equal(x.differences, y.differences, check_exact=True)
    pd.testing.assert_frame_equal(x.by_group, y.by_group, check_exact=True)
    assert x.agreement == y.agreement
    assert x.score_max_abs_diff == y.score_max_abs_diff
    assert x.passed == y.passed
    assert x.n_samples == y.n_samples
    assert x.to_dict() == y.to_dict()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    df = make_frame(4000)
    df.to_parquet(root / "d.parquet")
    df.to_csv(root / "d.csv", index=False)
    (root / "parts").mkdir()
    for i in range(3):
        df.iloc[i::3].to_parquet(root / "parts" / f"p{i}.parquet")
    return root, df


def in_memory(df: pd.DataFrame, scores: bool = True, **kw) -> fa.ComparisonResult:
    return fa.compare_predictions(
        df["y"],
        df["pa"],
        df["pb"],
        sensitive_features=df[["sex", "race"]],
        score_a=df["sa"] if scores else None,
        score_b=df["sb"] if scores else None,
        **{**KW, **kw},
    )


def on_data(data, scores: bool = True, **kw) -> fa.ComparisonResult:
    return fa.compare_predictions(
        y_true="y",
        pred_a="pa",
        pred_b="pb",
        sensitive_features=["sex", "race"],
        score_a="sa" if scores else None,
        score_b="sb" if scores else None,
        data=data,
        **{**KW, **kw},
    )


@pytest.mark.parametrize("source", ["parquet", "glob", "list", "csv", "relation", "query"])
def test_duckdb_equals_in_memory(files, source):
    root, df = files
    expected = in_memory(df)
    if source == "parquet":
        data = root / "d.parquet"
    elif source == "glob":
        data = str(root / "parts" / "*.parquet")
    elif source == "list":
        data = [str(p) for p in sorted((root / "parts").glob("*.parquet"))]
    elif source == "csv":
        data = str(root / "d.csv")
    else:
        con = duckdb.connect()
        path = str(root / "d.parquet")
        data = (
            con.sql(f"SELECT * FROM read_parquet('{path}')")
            if source == "relation"
            else (con, f"SELECT * FROM read_parquet('{path}')")
        )
    assert_same(on_data(data), expected)


def test_frames_and_engines(files):
    _, df = files
    expected = in_memory(df, scores=False, metrics=["selection_rate", "precision"])
    for data, engine in (
        (df, "auto"),
        (df, "duckdb"),
        (pytest.importorskip("pyarrow").Table.from_pandas(df), "auto"),
    ):
        got = on_data(data, scores=False, metrics=["selection_rate", "precision"], engine=engine)
        assert_same(got, expected)
    assert expected.score_max_abs_diff is None


def test_string_labels_and_pos_label(files):
    root, df = files
    text = df.assign(
        y=np.where(df["y"] == 1, ">50K", "<=50K"),
        pa=np.where(df["pa"] == 1, ">50K", "<=50K"),
        pb=np.where(df["pb"] == 1, ">50K", "<=50K"),
    )
    path = root / "text.parquet"
    text.to_parquet(path)
    expected = in_memory(text, pos_label=">50K")
    assert_same(on_data(path, pos_label=">50K"), expected)
    # the same numbers as the 0/1 columns
    np.testing.assert_array_equal(
        expected.differences["difference"], in_memory(df).differences["difference"]
    )


def test_adult_duckdb_equals_in_memory(tmp_path):
    from sklearn.linear_model import LogisticRegression

    ds = fa.datasets.load_adult()
    frame = ds.frame.copy()
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(str)
    numeric = ["age", "education_num", "hours_per_week", "capital_gain"]
    research = LogisticRegression(max_iter=500).fit(frame[numeric], ds.y)
    production = LogisticRegression(max_iter=500, C=0.01).fit(frame[numeric[:3]], ds.y)
    frame["y"] = ds.y.to_numpy()
    frame["sa"] = research.predict_proba(frame[numeric])[:, 1].round(4)
    frame["sb"] = production.predict_proba(frame[numeric[:3]])[:, 1].round(4)
    frame["pa"] = (frame["sa"] > 0.5).astype(int)
    frame["pb"] = (frame["sb"] > 0.5).astype(int)
    frame.to_parquet(tmp_path / "adult.parquet")
    expected = in_memory(frame)
    assert 0.5 < expected.agreement < 1.0
    assert_same(on_data(tmp_path / "adult.parquet"), expected)
    assert_same(on_data(frame), expected)


def test_generated_file_of_a_million_rows(tmp_path):
    path = tmp_path / "gen.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT (hash(i) % 2)::INT AS y, (hash(i * 7) % 2)::INT AS pa,
                  CASE WHEN hash(i * 13) % 10 = 0 THEN 1 - (hash(i * 7) % 2)::INT
                       ELSE (hash(i * 7) % 2)::INT END AS pb,
                  ['a','b','c','d'][(1 + hash(i * 3) % 4)::BIGINT] AS sex,
                  (hash(i * 5) % 3)::INT AS race,
                  round((hash(i * 11) % 100000) / 100000.0, 3) AS sa,
                  round((hash(i * 17) % 100000) / 100000.0, 3) AS sb
           FROM range(1000000) t(i)) TO '{path}' (FORMAT parquet)"""
    )
    df = pd.read_parquet(path)
    assert_same(on_data(path), in_memory(df))


# --------------------------------------------------------------------------------------------
# NULL, absent columns, arrays vs names


def test_null_groups_and_null_labels(tmp_path):
    df = make_frame(300).astype({"race": object})
    df.loc[[3, 7], "race"] = None
    path = tmp_path / "nulls.parquet"
    df.to_parquet(path)
    with pytest.raises(MissingValueError, match=r"'race' has 2 missing"):
        on_data(path)
    sep = on_data(path, missing_groups="separate")
    assert "missing" in set(sep.by_group.index.get_level_values("race"))
    assert_same(sep, in_memory(df, missing_groups="separate"))
    bad = make_frame(300).astype({"pb": "Int64", "sb": float})
    bad.loc[[1, 2, 5], "pb"] = pd.NA
    bad.loc[[4], "sb"] = np.nan
    bad.to_parquet(path)
    with pytest.raises(MissingValueError, match=r"pred_b: column 'pb' has 3 missing"):
        on_data(path, scores=False)
    with pytest.raises(MissingValueError, match=r"score_b: column 'sb' has 1 missing"):
        on_data(path)


def test_absent_columns_suggest_the_closest(files):
    root, df = files
    for data in (root / "d.parquet", df):
        with pytest.raises(DataError, match=r"pred_b: no column 'pbb' .* Did you mean 'pb'"):
            fa.compare_predictions("y", "pa", "pbb", sensitive_features="sex", data=data)
        with pytest.raises(DataError, match=r"sensitive_features: no column 'Sex'.*'sex'"):
            fa.compare_predictions("y", "pa", "pb", sensitive_features=["Sex"], data=data)


def test_arrays_with_data_and_names_without(files):
    root, df = files
    with pytest.raises(TypeError, match=r"with data= given, pred_a must be a column name"):
        fa.compare_predictions("y", df["pa"], "pb", sensitive_features="sex", data=df)
    with pytest.raises(TypeError, match=r"sensitive_features must be a column name"):
        fa.compare_predictions("y", "pa", "pb", sensitive_features=df["sex"], data=df)
    with pytest.raises(TypeError, match=r"pred_b='pb' is a column name, but data= is not given"):
        fa.compare_predictions(df["y"], df["pa"], "pb", sensitive_features=df["sex"])
    with pytest.raises(TypeError, match=r"sensitive_features='sex' is a column name"):
        fa.compare_predictions(df["y"], df["pa"], df["pb"], sensitive_features="sex")
    with pytest.raises(ValueError, match="pass both score_a and score_b"):
        fa.compare_predictions("y", "pa", "pb", sensitive_features="sex", score_a="sa", data=df)
    with pytest.raises(ValueError, match="engine='numpy' needs an in-memory table"):
        fa.compare_predictions(
            "y", "pa", "pb", sensitive_features="sex", data=root / "d.parquet", engine="numpy"
        )
    with pytest.raises(TypeError, match="engine='spark' needs a Spark DataFrame"):
        fa.compare_predictions("y", "pa", "pb", sensitive_features="sex", data=df, engine="spark")
    with pytest.raises(FileNotFoundError):
        fa.compare_predictions(
            "y", "pa", "pb", sensitive_features="sex", data=root / "absent.parquet"
        )


def test_parameters_are_checked_before_the_scan(files):
    root, _ = files
    with pytest.raises(ValueError, match="Did you mean 'selection_rate'"):
        fa.compare_predictions(
            "y", "pa", "pb", sensitive_features="sex", data=root / "nope.parquet",
            metrics=["selection_rat"],
        )  # fmt: skip


# --------------------------------------------------------------------------------------------
# compare(model_a, model_b, data=...): batches predicted by both models, counts added


@pytest.fixture(scope="module")
def models(files):
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    _, df = files
    X = df[["sa", "sb"]]
    return (
        LogisticRegression().fit(X, df["y"]),
        DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, df["y"]),
    )


@pytest.mark.parametrize("source", ["frame", "parquet", "glob"])
def test_compare_on_data_equals_in_memory(files, models, source):
    root, df = files
    research, production = models
    kw = {"n_boot": 200, "random_state": 0, "tolerance": 0.05}
    expected = fa.compare(
        research, production, df[["sa", "sb"]], df["y"],
        sensitive_features=df[["sex", "race"]], **kw,
    )  # fmt: skip
    assert expected.score_max_abs_diff is not None
    if source == "frame":
        data = df
    elif source == "parquet":
        data = root / "d.parquet"
    else:  # row order differs from df's: the counts do not care
        data = str(root / "parts" / "*.parquet")
    got = fa.compare(
        research, production, y_true="y", sensitive_features=["sex", "race"], data=data,
        features=["sa", "sb"], batch_size=700, **kw,
    )  # fmt: skip
    assert_same(got, expected)
    assert got.models == expected.models


def test_compare_on_data_bad_input(files, models, tmp_path):
    root, df = files
    research, production = models
    args = {"y_true": "y", "sensitive_features": "sex", "features": ["sa", "sb"]}
    with pytest.raises(TypeError, match="pass the models' input columns as features="):
        fa.compare(research, production, df, data=df, **args)
    with pytest.raises(DataError, match=r"features: no column 'sbb' .* Did you mean 'sb'"):
        fa.compare(
            research, production, data=root / "d.parquet", **{**args, "features": ["sa", "sbb"]}
        )
    with pytest.raises(DataError, match=r"y_true: no column 'Y'"):
        fa.compare(research, production, data=root / "d.parquet", **{**args, "y_true": "Y"})
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        fa.compare(research, production, data=root / "d.parquet", batch_size=0, **args)
    nulls = df.astype({"y": "Int64"})
    nulls.loc[[0, 9], "y"] = pd.NA
    nulls.to_parquet(tmp_path / "n.parquet")
    with pytest.raises(MissingValueError, match=r"y_true: column 'y' has 2 missing"):
        fa.compare(research, production, data=tmp_path / "n.parquet", **args)


def test_sensitive_features_as_dict_or_2d_array(files):
    _, df = files
    expected = in_memory(df, scores=False)
    as_dict = fa.compare_predictions(
        df["y"], df["pa"], df["pb"], sensitive_features={"sex": df["sex"], "race": df["race"]},
        **KW,
    )  # fmt: skip
    assert_same(as_dict, expected)
    as_array = fa.compare_predictions(
        df["y"].to_numpy(), df["pa"].to_numpy(), df["pb"].to_numpy(),
        sensitive_features=df[["sex", "race"]].to_numpy(), **KW,
    )  # fmt: skip
    np.testing.assert_array_equal(as_array.by_group.to_numpy(), expected.by_group.to_numpy())
    assert as_array.by_group.index.names == ["sensitive_feature_0", "sensitive_feature_1"]
