"""The shipped tabular datasets: row counts, labels, columns, copies, and package data."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fairaudit as fa
from fairaudit.datasets import Dataset, load_adult, load_compas, load_german

ROOT = Path(__file__).parents[2]
RAW = ROOT.parent / "shared" / "datasets"
if not RAW.is_dir():  # a git worktree sits one level deeper than the main checkout
    RAW = ROOT.parents[1] / "shared" / "datasets"


@pytest.fixture
def raw():
    """The raw source folder, for cross-checks against an independent parse (skip without it)."""
    if not RAW.is_dir():
        pytest.skip("the raw data folder (../shared/datasets) is not available")
    return RAW


# -- row counts and label balance (known answers from PROVENANCE.md and the cards) ----------


@pytest.mark.parametrize(
    ("split", "drop_missing", "n_rows", "n_positive"),
    [
        ("train", True, 30_162, 7_508),
        ("test", True, 15_060, 3_700),
        ("all", True, 45_222, 11_208),
        ("train", False, 32_561, 7_841),
        ("test", False, 16_281, 3_846),
        ("all", False, 48_842, 11_687),
    ],
)
def test_adult_rows_and_labels(split, drop_missing, n_rows, n_positive):
    ds = load_adult(split, drop_missing=drop_missing)
    assert len(ds.frame) == len(ds.X) == len(ds.y) == len(ds.sensitive) == n_rows
    assert int(ds.y.sum()) == n_positive
    assert set(ds.frame["income"].cat.categories) == {"<=50K", ">50K"}
    # y is exactly income == ">50K", as 0/1 int64
    assert ds.y.dtype == np.int64
    np.testing.assert_array_equal(ds.y.to_numpy(), (ds.frame["income"] == ">50K").to_numpy())
    assert ds.frame.index.equals(pd.RangeIndex(n_rows))


def test_adult_missing_values_only_with_drop_missing_false():
    assert not load_adult("all").frame.isna().any().any()
    missing = load_adult("all", drop_missing=False).frame.isna().sum()
    # '?' occurs in three columns only (counts from the raw files)
    assert missing[missing > 0].to_dict() == {
        "workclass": 2_799,
        "occupation": 2_809,
        "native_country": 857,
    }


def test_adult_columns_and_dtypes():
    ds = load_adult()
    assert ds.sensitive.columns.tolist() == ["sex", "race"]
    assert "fnlwgt" in ds.frame.columns
    assert "fnlwgt" not in ds.X.columns
    assert "income" not in ds.X.columns
    assert ds.X.shape == (30_162, 13)
    for column in ["workclass", "education", "sex", "race", "native_country"]:
        assert isinstance(ds.frame[column].dtype, pd.CategoricalDtype), column
    for column in ["age", "fnlwgt", "education_num", "capital_gain", "hours_per_week"]:
        assert ds.frame[column].dtype == np.int64, column
    # no stray spaces or trailing dots survived the build
    for column in ds.frame.select_dtypes("category"):
        cats = ds.frame[column].cat.categories
        assert all(c == c.strip() and not c.endswith(".") for c in cats), column
    assert ds.sensitive["sex"].value_counts().to_dict() == {"Male": 20_380, "Female": 9_782}


def test_adult_test_split_matches_raw_file(raw):
    # Independent parse of the raw test file: same labels row by row (train rows first in "all").
    test = pd.read_csv(raw / "adult" / "adult.test", header=None, skiprows=1, skipinitialspace=True)
    labels = test[14].str.rstrip(".")
    ds = load_adult("test", drop_missing=False)
    np.testing.assert_array_equal(ds.y.to_numpy(), (labels == ">50K").to_numpy())
    all_ds = load_adult("all", drop_missing=False)
    np.testing.assert_array_equal(all_ds.y.to_numpy()[-len(ds.y) :], ds.y.to_numpy())


def test_compas_rows_and_filter():
    filtered, full = load_compas(), load_compas(filter=False)
    assert len(filtered.frame) == 6_172
    assert len(full.frame) == 7_214
    assert int(filtered.y.sum()) == 2_809
    assert int(full.y.sum()) == 3_251


def test_compas_filter_matches_raw_file(raw):
    filtered = load_compas()
    # ProPublica's filter recomputed independently on the raw file gives the same rows
    source = pd.read_csv(raw / "compas" / "compas-scores-two-years.csv")
    keep = (
        (source.days_b_screening_arrest <= 30)
        & (source.days_b_screening_arrest >= -30)
        & (source.is_recid != -1)
        & (source.c_charge_degree != "O")
        & (source.score_text != "N/A")
    )
    kept = source[keep].reset_index(drop=True)
    np.testing.assert_array_equal(filtered.y.to_numpy(), kept.two_year_recid.to_numpy())
    np.testing.assert_array_equal(filtered.frame["age"].to_numpy(), kept.age.to_numpy())
    np.testing.assert_array_equal(
        filtered.frame["decile_score"].to_numpy(), kept.decile_score.to_numpy()
    )
    assert filtered.frame["race"].astype(str).tolist() == kept.race.tolist()


def test_compas_has_no_identifiers():
    frame = load_compas(filter=False).frame
    forbidden = {"id", "name", "first", "last", "dob"}
    assert not forbidden & set(frame.columns)
    assert not [c for c in frame.columns if "case_number" in c]
    assert not [c for c in frame.columns if c.endswith(("_date", "_jail_in", "_jail_out"))]
    assert not {"in_custody", "out_custody", "c_jail_in", "c_jail_out"} & set(frame.columns)


def test_compas_no_identifier_values_leaked(raw):
    frame = load_compas(filter=False).frame
    source = pd.read_csv(raw / "compas" / "compas-scores-two-years.csv")
    text = set(frame.select_dtypes("category").stack().astype(str))
    assert not text & set(source["name"]), "a name leaked into the processed file"
    assert not text & set(source["dob"]), "a date of birth leaked into the processed file"
    assert not text & set(source["c_case_number"].dropna()), "a case number leaked"


def test_compas_columns():
    ds = load_compas()
    assert ds.sensitive.columns.tolist() == ["sex", "race"]
    assert ds.X.columns.tolist() == [
        "sex",
        "age",
        "age_cat",
        "race",
        "juv_fel_count",
        "juv_misd_count",
        "juv_other_count",
        "priors_count",
        "c_charge_degree",
    ]
    # label-leaking and score columns stay out of X
    assert not {"decile_score", "score_text", "is_recid", "two_year_recid"} & set(ds.X.columns)
    assert ds.frame["score_text"].cat.ordered
    assert ds.frame["score_text"].cat.categories.tolist() == ["Low", "Medium", "High"]
    assert ds.frame["age_cat"].cat.categories.tolist() == [
        "Less than 25",
        "25 - 45",
        "Greater than 45",
    ]
    assert ds.frame["race"].value_counts().to_dict() == {
        "African-American": 3_175,
        "Caucasian": 2_103,
        "Hispanic": 509,
        "Other": 343,
        "Asian": 31,
        "Native American": 11,
    }
    assert ds.frame["length_of_stay"].notna().all()


def test_german_rows_and_decoding():
    ds = load_german()
    assert len(ds.frame) == 1_000
    assert ds.y.value_counts().to_dict() == {1: 700, 0: 300}
    assert ds.sensitive.columns.tolist() == ["sex", "age"]
    assert ds.X.shape == (1_000, 21)
    assert "credit" not in ds.X.columns
    assert ds.frame["foreign_worker"].value_counts().to_dict() == {"yes": 963, "no": 37}
    no_codes = ds.frame.select_dtypes("category").stack().astype(str)
    assert not no_codes.str.fullmatch(r"A\d+").any(), "an undecoded code is left"


def test_german_matches_raw_file(raw):
    ds = load_german()
    source = pd.read_csv(raw / "german" / "german.data", sep=" ", header=None)
    # raw label 1 = good -> y 1; raw 2 = bad -> y 0
    np.testing.assert_array_equal(ds.y.to_numpy(), (source[20] == 1).astype(int).to_numpy())
    # attribute 9: A91, A93, A94 are men, A92 (and A95, absent) women, per the UCI table (the
    # same reading as aif360's GermanDataset)
    expected_sex = source[8].map({"A91": "male", "A92": "female", "A93": "male", "A94": "male"})
    assert ds.frame["sex"].astype(str).tolist() == expected_sex.tolist()
    np.testing.assert_array_equal(ds.frame["age"].to_numpy(), source[12].to_numpy())


# -- the Dataset object --------------------------------------------------------------------


@pytest.mark.parametrize("loader", [load_adult, load_compas, load_german])
def test_x_y_sensitive_align_with_frame(loader):
    ds = loader()
    assert isinstance(ds, Dataset)
    # DataFrame.equals checks values, dtypes and labels (assert_frame_equal takes seconds on
    # categorical columns with pandas 3.1)
    assert ds.X.columns.tolist() == list(ds.feature_names)
    assert ds.X.equals(ds.frame[list(ds.feature_names)])
    assert ds.sensitive.equals(ds.frame[list(ds.sensitive_names)])
    assert (ds.X.dtypes == ds.frame[list(ds.feature_names)].dtypes).all()
    assert ds.y.index.equals(ds.X.index)
    assert ds.y.name == ds.target_name
    assert set(ds.y.unique()) == {0, 1}
    assert set(ds.sensitive_names) <= set(ds.feature_names)
    assert ds.description.startswith("# ")
    assert ds.name in repr(ds)
    assert "DataFrame" not in repr(ds)


@pytest.mark.parametrize("loader", [load_adult, load_compas, load_german])
def test_loaders_return_independent_copies(loader):
    first = loader()
    expected_sum = int(first.y.sum())
    first.frame.iloc[:, 0] = first.frame.iloc[0, 0]
    del first.X[first.X.columns[0]]
    first.y.iloc[:] = 0
    first.sensitive.iloc[:, 0] = first.sensitive.iloc[0, 0]
    second = loader()
    assert int(second.y.sum()) == expected_sum
    assert second.X.shape[1] == len(second.feature_names)
    assert second.frame.iloc[:, 0].nunique() > 1
    assert second.sensitive.iloc[:, 0].nunique() > 1


def test_dataset_is_frozen():
    ds = load_german()
    with pytest.raises(AttributeError):
        ds.name = "other"


def test_bad_arguments():
    with pytest.raises(ValueError, match="split must be 'train', 'test' or 'all', got 'valid'"):
        load_adult("valid")
    with pytest.raises(TypeError, match="drop_missing must be a bool"):
        load_adult(drop_missing="yes")
    with pytest.raises(TypeError, match="filter must be a bool"):
        load_compas(filter=1)
    with pytest.raises(TypeError):
        load_compas(True)  # keyword-only


def test_accessible_from_top_level():
    assert fa.datasets.load_adult is load_adult


# -- the files -----------------------------------------------------------------------------


def test_missing_file_gives_dataset_file_error(monkeypatch, tmp_path):
    from fairaudit import _resources
    from fairaudit.datasets import _tabular

    monkeypatch.setattr(_resources, "data_root", lambda: tmp_path)
    _tabular._read_csv.cache_clear()
    try:
        with pytest.raises(
            fa.exceptions.DatasetFileError, match=r"'german/german.csv.gz' is missing"
        ):
            load_german()
    finally:
        monkeypatch.undo()
        _tabular._read_csv.cache_clear()
    assert len(load_german().frame) == 1_000


def test_processed_files_are_reproducible_gzip():
    for path in sorted((ROOT / "datasets").glob("*/*.csv.gz")):
        header = path.read_bytes()[:10]
        assert header[4:8] == b"\0\0\0\0", f"{path.name} has a gzip timestamp"
        with gzip.open(path) as handle:
            handle.read()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["adult", "compas", "german"])
def test_build_scripts_reproduce_the_shipped_files(name, tmp_path, raw):
    """Running the build script again gives byte-identical files (needs the raw data)."""
    script = ROOT / "datasets" / "scripts" / f"build_{name}.py"
    subprocess.run(
        [sys.executable, str(script), "--raw", str(raw), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    shipped = sorted((ROOT / "datasets" / name).glob("*.csv.gz"))
    rebuilt = sorted((tmp_path / name).glob("*.csv.gz"))
    assert [p.name for p in rebuilt] == [p.name for p in shipped]
    for old, new in zip(shipped, rebuilt, strict=True):
        assert old.read_bytes() == new.read_bytes(), old.name


@pytest.mark.slow
def test_wheel_contains_data_files_and_cards(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("fairaudit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in [
        "fairaudit/_data/adult/adult_train.csv.gz",
        "fairaudit/_data/adult/adult_test.csv.gz",
        "fairaudit/_data/adult/README.md",
        "fairaudit/_data/compas/compas.csv.gz",
        "fairaudit/_data/compas/README.md",
        "fairaudit/_data/german/german.csv.gz",
        "fairaudit/_data/german/README.md",
        "fairaudit/datasets/__init__.py",
        "fairaudit/datasets/_tabular.py",
    ]:
        assert expected in names, expected
    # build scripts are tools for maintainers, not package content
    assert not [n for n in names if "/scripts/" in n]
    # and the loaders work from the unpacked wheel, not from this source tree
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        f"import sys; sys.path.insert(0, {str(site)!r}); import fairaudit as fa; "
        f"assert fa.__file__.startswith({str(site)!r}), fa.__file__; "
        "print(len(fa.datasets.load_adult().frame), len(fa.datasets.load_compas().frame), "
        "len(fa.datasets.load_german().frame), len(fa.datasets.load_wordlists('weat'))); "
        "from fairaudit._resources import data_root; "
        f"assert str(data_root()).startswith({str(site)!r}), data_root()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["30162", "6172", "1000", "10"]
