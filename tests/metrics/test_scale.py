"""data= and the DuckDB engine: every metric, interval and AUC equals the numpy path."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.metrics import count_table

duckdb = pytest.importorskip("duckdb")

CASES = {
    "binary": {"y_true": "y", "y_pred": "p"},
    "scores": {"y_true": "y", "y_pred": "p", "y_score": "sc"},
    "weighted_scores": {"y_true": "y", "y_pred": "p", "y_score": "sc", "sample_weight": "w"},
    "multiclass": {"y_true": "k", "y_pred": "kp", "pos_label": None},
    "regression": {"y_true": "yr", "y_pred": "pr"},
    "weighted_regression": {"y_true": "yr", "y_pred": "pr", "sample_weight": "w"},
}
# weighted sums and regression sums are floating-point sums in another order: equal to a few
# ulps; counts (and so every unweighted classification number) are equal exactly
FLOAT_CASES = {"weighted_scores", "regression", "weighted_regression"}


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "p": rng.integers(0, 2, n),
            "k": rng.choice(["u", "v", "w"], n),
            "kp": rng.choice(["u", "v", "w"], n),
            "s": s,
            "r": rng.choice([1, 2], n),
            "sc": rng.random(n).round(3),
            "w": rng.random(n),
            "yr": rng.normal(size=n).round(1),
            "pr": rng.normal(size=n).round(1),
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    df = make_frame(3000)
    df.to_parquet(root / "d.parquet")
    df.to_csv(root / "d.csv", index=False)
    (root / "d.csv.gz").write_bytes(gzip.compress((root / "d.csv").read_bytes()))
    (root / "parts").mkdir()
    for i in range(3):
        df.iloc[i::3].to_parquet(root / "parts" / f"p{i}.parquet")
    return root, df


def assert_same(a: fa.GroupMetrics, b: fa.GroupMetrics, exact: bool) -> None:
    for x, y in ((a.by_group, b.by_group), (a.overall, b.overall), (a.ci, b.ci)):
        if x is None:
            assert y is None
            continue
        if exact:
            assert x.equals(y), (x, y)
        else:
            np.testing.assert_allclose(
                np.asarray(x, dtype=float), np.asarray(y, dtype=float), rtol=1e-12, atol=1e-13
            )
            assert list(x.index) == list(y.index)


@pytest.mark.parametrize("case", list(CASES))
def test_duckdb_equals_numpy_on_files(files, case):
    root, df = files
    kw = CASES[case]
    reference = fa.group_metrics(
        **kw, sensitive_features=["s", "r"], data=df, n_boot=50, random_state=7
    )
    for source in (root / "d.parquet", str(root / "d.csv.gz"), f"{root}/parts/*.parquet"):
        if "parts" in str(source):  # row order differs: only order-free sums stay exact
            got = fa.group_metrics(
                **kw, sensitive_features=["s", "r"], data=source, n_boot=50, random_state=7
            )
            assert_same(reference, got, exact=False)
            continue
        got = fa.group_metrics(
            **kw, sensitive_features=["s", "r"], data=source, n_boot=50, random_state=7
        )
        assert_same(reference, got, exact=case not in FLOAT_CASES)


def test_relation_query_and_arrow_sources(files):
    root, df = files
    kw = CASES["scores"]
    reference = fa.group_metrics(
        **kw, sensitive_features=["s", "r"], data=df, n_boot=30, random_state=1
    )
    con = duckdb.connect()
    sources = [
        con.read_parquet(str(root / "d.parquet")),
        (con, f"SELECT * FROM read_parquet('{root / 'd.parquet'}')"),
        pytest.importorskip("polars").from_pandas(df),
        pytest.importorskip("pyarrow").Table.from_pandas(df),
    ]
    for source in sources:
        got = fa.group_metrics(
            **kw, sensitive_features=["s", "r"], data=source, n_boot=30, random_state=1
        )
        assert_same(reference, got, exact=True)
    # a pandas frame through DuckDB on purpose
    got = fa.group_metrics(
        **kw, sensitive_features=["s", "r"], data=df, engine="duckdb", n_boot=30, random_state=1,
        memory_limit="500MB", threads=1,
    )  # fmt: skip
    assert_same(reference, got, exact=True)


def test_null_groups_are_a_group_and_null_labels_are_refused(tmp_path):
    df = make_frame(500)
    df.loc[:9, "s"] = None
    df.to_parquet(tmp_path / "n.parquet")
    with pytest.raises(MissingValueError, match="'s' has 10 missing"):
        count_table("y", "p", sensitive_features="s", data=tmp_path / "n.parquet")
    a = count_table("y", "p", sensitive_features="s", data=df, missing_groups="separate")
    b = count_table(
        "y", "p", sensitive_features="s", data=tmp_path / "n.parquet", missing_groups="separate"
    )
    assert list(a.index) == list(b.index) == ["a", "b", "c", "missing"]
    np.testing.assert_array_equal(a.cell_n, b.cell_n)
    df2 = make_frame(500).astype({"y": "Int64"})
    df2.loc[[3, 4, 5], "y"] = pd.NA
    df2.to_parquet(tmp_path / "y.parquet")
    with pytest.raises(MissingValueError, match="y_true: column 'y' has 3 missing"):
        count_table("y", "p", sensitive_features="s", data=tmp_path / "y.parquet")


def test_merging_daily_tables_from_files(files):
    root, df = files
    days = [count_table("y", "p", sensitive_features="s", y_score="sc", data=p)
            for p in sorted((root / "parts").glob("*.parquet"))]  # fmt: skip
    merged = sum(days[1:], days[0])
    whole = count_table("y", "p", sensitive_features="s", y_score="sc", data=df)
    np.testing.assert_array_equal(merged.cell_n, whole.cell_n)
    assert fa.group_metrics(merged).by_group.equals(fa.group_metrics(whole).by_group)


def test_audit_on_files_equals_audit_in_memory(files):
    from sklearn.linear_model import LogisticRegression

    root, df = files
    feats = ["sc", "w", "yr"]
    model = LogisticRegression().fit(df[feats], df["y"])
    a = fa.audit(
        model, df[feats], df["y"], sensitive_features=df[["s", "r"]], n_boot=30, random_state=0
    )
    b = fa.audit(
        model, data=root / "d.parquet", y_true="y", features=feats, sensitive_features=["s", "r"],
        n_boot=30, random_state=0, batch_size=700,
    )  # fmt: skip
    assert_same(a, b, exact=True)
    assert b.provenance["model"] == a.provenance["model"]


# --------------------------------------------------------------------------------------------
# bad input


def test_bad_sources(files, tmp_path):
    root, df = files
    kw = {"y_true": "y", "y_pred": "p", "sensitive_features": "s"}
    with pytest.raises(FileNotFoundError, match="file not found"):
        count_table(**kw, data=tmp_path / "none.parquet")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        count_table(**kw, data=f"{tmp_path}/*.parquet")
    df.to_parquet(tmp_path / "a.parquet")
    df.drop(columns="r").to_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataError, match="do not share one schema"):
        count_table(**kw, data=f"{tmp_path}/*.parquet")
    with pytest.raises(DataError, match=r"no column 'sx' in .*Did you mean 's'\?"):
        count_table("y", "p", sensitive_features="sx", data=root / "d.parquet")
    with pytest.raises(DataError, match=r"y_true: no column 'Y'.*Did you mean 'y'\?"):
        count_table("Y", "p", sensitive_features="s", data=root / "d.parquet")
    with pytest.raises(DataError, match="two labels"):
        count_table("k", "p", sensitive_features="s", data=root / "d.parquet")
    with pytest.raises(ValueError, match="memory_limit"):
        count_table(**kw, data=root / "d.parquet", memory_limit="lots")
    with pytest.raises(TypeError, match="not supported"):
        count_table(**kw, data=42)


def test_arrays_with_data_and_names_without(files):
    _, df = files
    with pytest.raises(TypeError, match="y_true must be a column name"):
        fa.group_metrics(df["y"], "p", sensitive_features="s", data=df)
    with pytest.raises(TypeError, match="sensitive_features must be a column name"):
        fa.group_metrics("y", "p", sensitive_features=df["s"], data=df)
    with pytest.raises(TypeError, match="is a column name, but data= is not given"):
        fa.group_metrics("y", "p", sensitive_features=df["s"])
    with pytest.raises(TypeError, match="is a column name, but data= is not given"):
        count_table(df["y"], df["p"], sensitive_features=df["s"], y_score="sc")


# --------------------------------------------------------------------------------------------
# exactness on Adult and on a generated file


def test_adult_duckdb_equals_numpy(tmp_path):
    from sklearn.linear_model import LogisticRegression

    ds = fa.datasets.load_adult()
    frame = ds.frame.copy()
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(str)
    numeric = ["age", "education_num", "hours_per_week", "capital_gain"]
    model = LogisticRegression(max_iter=500).fit(frame[numeric], ds.y)
    frame["y"] = ds.y.to_numpy()
    frame["score"] = model.predict_proba(frame[numeric])[:, 1].round(4)
    frame["pred"] = (frame["score"] > 0.5).astype(int)
    frame.to_parquet(tmp_path / "adult.parquet")
    kw = {
        "y_true": "y",
        "y_pred": "pred",
        "y_score": "score",
        "sensitive_features": ["sex", "race"],
    }
    a = fa.group_metrics(**kw, data=frame, n_boot=200, random_state=0, min_group_size=1)
    b = fa.group_metrics(
        **kw, data=tmp_path / "adult.parquet", n_boot=200, random_state=0, min_group_size=1
    )
    assert_same(a, b, exact=True)
    w = fa.group_metrics(
        **kw, sample_weight="fnlwgt", data=frame, n_boot=100, random_state=0, min_group_size=1
    )
    v = fa.group_metrics(
        **kw,
        sample_weight="fnlwgt",
        data=tmp_path / "adult.parquet",
        n_boot=100,
        random_state=0,
        min_group_size=1,
    )
    assert_same(w, v, exact=False)


@pytest.mark.slow
def test_generated_file_duckdb_equals_numpy(tmp_path):
    # generated by DuckDB itself; FAIRAUDIT_SCALE_ROWS=10000000 runs the 1e7 check
    import os

    N_ROWS = int(os.environ.get("FAIRAUDIT_SCALE_ROWS", "1000000"))
    path = tmp_path / "gen.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT (hash(i) % 2)::INT AS y, (hash(i * 7) % 2)::INT AS p,
                  ['a','b','c','d'][(1 + hash(i * 3) % 4)::BIGINT] AS s, (hash(i * 5) % 3)::INT AS r,
                  round((hash(i * 11) % 100000) / 100000.0, 3) AS sc
           FROM range({N_ROWS}) t(i)) TO '{path}' (FORMAT parquet)"""
    )
    df = pd.read_parquet(path)
    kw = {"y_true": "y", "y_pred": "p", "y_score": "sc", "sensitive_features": ["s", "r"]}
    a = fa.group_metrics(**kw, data=df, n_boot=200, random_state=3)
    b = fa.group_metrics(**kw, data=path, n_boot=200, random_state=3)
    assert_same(a, b, exact=True)


def test_in_memory_table_keeps_fingerprints(files):
    _, df = files
    gm = fa.group_metrics("y", "p", sensitive_features="s", data=df, fingerprint=True)
    direct = fa.group_metrics(df["y"], df["p"], sensitive_features=df["s"], fingerprint=True)
    assert gm.provenance["fingerprints"] == direct.provenance["fingerprints"]


def test_progress_bar_option_runs(files, capsys):
    pytest.importorskip("tqdm")
    root, df = files
    t = count_table("y", "p", sensitive_features="s", data=root / "d.parquet", progress=True)
    assert t.n_rows == len(df)


# --------------------------------------------------------------------------------------------
# pos_label given on many labels, weight columns, fingerprints and sources in the engine


@pytest.mark.parametrize("source", ["d.parquet", "d.csv"])
def test_duckdb_given_pos_label_is_one_vs_rest_as_in_memory(files, source):
    root, df = files
    kw = {"y_true": "k", "y_pred": "kp", "sensitive_features": ["s", "r"], "pos_label": "v"}
    a = fa.group_metrics(**kw, data=df, n_boot=20, random_state=2)
    b = fa.group_metrics(**kw, data=root / source, n_boot=20, random_state=2)
    assert_same(a, b, exact=True)
    # the same as binarizing by hand
    c = fa.group_metrics(
        df["k"] == "v", df["kp"] == "v", sensitive_features=df[["s", "r"]], pos_label=True,
        n_boot=20, random_state=2,
    )  # fmt: skip
    assert np.array_equal(a.by_group.to_numpy(float), c.by_group.to_numpy(float), equal_nan=True)
    table = count_table(**kw, data=root / source)
    assert table.pos_label == "v"
    np.testing.assert_array_equal(table.cell_n, count_table(**kw, data=df).cell_n)
    np.testing.assert_array_equal(
        table.cell_n,
        count_table(df["k"], df["kp"], sensitive_features=df[["s", "r"]], pos_label="v").cell_n,
    )
    # left out, more than two labels are refused by every path
    for data in (df, root / source):
        with pytest.raises(DataError, match="two labels"):
            count_table("k", "kp", sensitive_features="s", data=data)


def test_duckdb_weight_column_checked_as_in_memory(files, tmp_path):
    root, df = files
    text = df.assign(wt=df["w"].astype(str))
    text.to_parquet(tmp_path / "t.parquet")
    kw = {"y_true": "y", "y_pred": "p", "sensitive_features": "s"}
    for case in (CASES["binary"], CASES["regression"]):
        kw = {**case, "sensitive_features": "s"}
        with pytest.raises(DataError, match="sample_weight: column 'wt' holds VARCHAR values"):
            count_table(**kw, sample_weight="wt", data=tmp_path / "t.parquet")
    with pytest.raises(TypeError, match="column 'wt' holds VARCHAR"):  # numpy: TypeError
        count_table(**kw, sample_weight="wt", data=tmp_path / "t.parquet")
    with pytest.raises(TypeError, match="sample_weight must be numeric"):
        count_table(**kw, sample_weight="wt", data=text)
    with pytest.raises(DataError, match="y_score: column 'k' holds VARCHAR"):
        count_table("y", "p", y_score="k", sensitive_features="s", data=root / "d.parquet")
    bad = df.copy()
    bad.loc[[1, 2], "w"] = -1.0
    bad.loc[[5], "w"] = np.inf
    bad.to_parquet(tmp_path / "b.parquet")
    for data in (bad, tmp_path / "b.parquet"):  # missing first, as in memory
        with pytest.raises(MissingValueError, match="1 missing or infinite"):
            count_table(**CASES["binary"], sensitive_features="s", sample_weight="w", data=data)
    bad.loc[[5], "w"] = np.nan
    bad.to_parquet(tmp_path / "n.parquet")
    with pytest.raises(MissingValueError, match="1 missing or infinite"):
        count_table(**CASES["regression"], sensitive_features="s", sample_weight="w",
                    data=tmp_path / "n.parquet")  # fmt: skip
    bad.loc[[5], "w"] = 1.0
    bad.to_parquet(tmp_path / "g.parquet")
    for data in (bad, tmp_path / "g.parquet"):
        with pytest.raises(DataError, match="2 negative value"):
            count_table(**CASES["binary"], sensitive_features="s", sample_weight="w", data=data)


def test_cli_text_weight_column_exits_2(files):
    import io

    from fairaudit.cli import main

    root, _ = files
    err = io.StringIO()
    argv = ["audit", str(root / "d.csv"), "--target", "y", "--prediction", "p",
            "--sensitive", "s", "--sample-weight", "k", "--quiet"]  # fmt: skip
    assert main(argv, stdout=io.StringIO(), stderr=err) == 2
    assert "--sample-weight: column 'k' holds VARCHAR values, not numbers" in err.getvalue()


def test_duckdb_fingerprints_do_not_depend_on_order_or_files(files):
    root, df = files
    kw = {**CASES["weighted_scores"], "sensitive_features": ["s", "r"], "fingerprint": True}
    whole = count_table(**kw, data=root / "d.parquet")
    parts = count_table(**kw, data=f"{root}/parts/*.parquet")
    shuffled = count_table(**kw, data=df.sample(frac=1.0, random_state=3), engine="duckdb")
    fp = whole.source[0]["fingerprints"]
    assert fp == parts.source[0]["fingerprints"] == shuffled.source[0]["fingerprints"]
    assert fp["rows"] == len(df)
    assert set(fp["sensitive_features"]) == {"s", "r"}
    assert all(len(fp[k]) == 16 for k in ("y_true", "y_pred", "y_score", "sample_weight"))
    # the digest of a column is the sum of per-row MD5 prefixes, as documented
    import hashlib

    by_hand = (
        sum(int(hashlib.md5(str(v).encode()).hexdigest()[:16], 16) for v in df["y"].tolist())
        % 2**64
    )
    assert fp["y_true"] == format(by_hand, "016x")
    # where the rows came from
    src = parts.source[0]
    assert src["kind"] == "files"
    assert src["n_files"] == 3
    assert src["rows"] == len(df)
    assert all(p.endswith(".parquet") for p in src["paths"])
    gm = fa.group_metrics(**kw, data=root / "d.parquet", min_group_size=1)
    assert gm.provenance["fingerprints"] == fp
    assert gm.provenance["sources"][0]["paths"] == [str((root / "d.parquet").resolve())]
    # a changed value changes its column's digest and the row digest only
    other = df.copy()
    other.loc[0, "p"] = 1 - other.loc[0, "p"]
    changed = count_table(**kw, data=other, engine="duckdb").source[0]["fingerprints"]
    assert changed["y_pred"] != fp["y_pred"]
    assert changed["row_digest"] != fp["row_digest"]
    assert changed["y_true"] == fp["y_true"]


def test_sources_add_and_survive_parquet(files, tmp_path):
    root, df = files
    days = [count_table("y", "p", sensitive_features="s", data=p)
            for p in sorted((root / "parts").glob("*.parquet"))]  # fmt: skip
    total = sum(days[1:], days[0])
    assert [s["rows"] for s in total.source] == [len(df.iloc[i::3]) for i in range(3)]
    total.to_parquet(tmp_path / "t.parquet")
    assert fa.metrics.CountTable.from_parquet(tmp_path / "t.parquet").source == total.source
    # batches of arrays make one entry
    a = count_table(df["y"], df["p"], sensitive_features=df["s"])
    assert (a + a + a).source == ({"kind": "arrays", "rows": 3 * len(df)},)
    gm = fa.group_metrics(total)
    assert [s["paths"] for s in gm.provenance["sources"]] == [s["paths"] for s in total.source]
    with pytest.raises(DataError, match=r"count_table\(\.\.\., fingerprint=True\)"):
        fa.group_metrics(total, fingerprint=True)


def test_audit_on_files_records_its_source(files):
    from sklearn.linear_model import LogisticRegression

    root, df = files
    feats = ["sc", "w", "yr"]
    model = LogisticRegression().fit(df[feats], df["y"])
    gm = fa.audit(
        model, data=f"{root}/parts/*.parquet", y_true="y", features=feats,
        sensitive_features="s", batch_size=1000,
    )  # fmt: skip
    (src,) = gm.provenance["sources"]
    assert src["kind"] == "files"
    assert src["n_files"] == 3
    assert src["rows"] == len(df)


def test_report_says_where_the_rows_came_from(files):
    import json

    root, _ = files
    gm = fa.group_metrics(
        "y", "p", sensitive_features="s", data=f"{root}/parts/*.parquet", fingerprint=True
    )
    payload = json.loads(fa.Report(plots=False).add(gm).to_json())
    (result,) = payload["provenance"]["results"]
    (src,) = result["provenance"]["sources"]
    assert src["n_files"] == 3
    assert src["rows"] == 3000
    assert result["provenance"]["fingerprints"]["rows"] == 3000
    assert "sources" in fa.Report(plots=False).add(gm).to_html()
