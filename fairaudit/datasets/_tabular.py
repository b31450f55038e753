"""Loaders for the tabular datasets shipped with fairaudit: UCI Adult, COMPAS, German credit.

The processed files live in the repository's ``datasets/`` folder (shipped in the wheel as
``fairaudit/_data``); they are read through :mod:`fairaudit._resources` with
:mod:`importlib.resources`, so the loaders work from a wheel as well as from a source checkout.
Nothing is ever downloaded.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from fairaudit._resources import data_file as _resource
from fairaudit.exceptions import DatasetFileError

__all__ = ["Dataset", "load_adult", "load_compas", "load_german"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A tabular dataset: the full frame, features, label and sensitive columns.

    Every loader returns fresh copies: changing a ``Dataset``'s frames never changes what the
    next call returns.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"adult"``.
    frame : pandas.DataFrame
        Every column of the processed file (after the loader's filtering), text columns as
        pandas ``category`` dtype, index ``0..n-1``.
    X : pandas.DataFrame
        The feature columns (``feature_names``) of ``frame``; the sensitive columns are
        included, so that a model can be audited for using them.
    y : pandas.Series
        The label as 0/1 ``int64`` (name ``target_name``); ``positive_label`` says what 1 means.
    sensitive : pandas.DataFrame
        The sensitive columns (``sensitive_names``) of ``frame``.
    description : str
        The dataset card (Markdown): source, licence, rows, columns, known issues.
    target_name : str
        Name of ``y``.
    positive_label : str
        What ``y == 1`` means, e.g. ``"income >50K"``.
    feature_names : tuple of str
        Columns of ``X``.
    sensitive_names : tuple of str
        Columns of ``sensitive``.

    Examples
    --------
    >>> import fairaudit as fa
    >>> ds = fa.datasets.load_german()
    >>> ds
    Dataset(name='german', n_samples=1000, n_features=21, target='credit_good', positive_label='good credit', sensitive=('sex', 'age'))
    >>> ds.X.shape, ds.y.shape, ds.sensitive.columns.tolist()
    ((1000, 21), (1000,), ['sex', 'age'])
    """

    name: str
    frame: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    sensitive: pd.DataFrame
    description: str
    target_name: str
    positive_label: str
    feature_names: tuple[str, ...]
    sensitive_names: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_samples={len(self.frame)}, "
            f"n_features={len(self.feature_names)}, target={self.target_name!r}, "
            f"positive_label={self.positive_label!r}, sensitive={self.sensitive_names!r})"
        )


@functools.cache
def _read_csv(*parts: str) -> pd.DataFrame:
    """Parse a shipped CSV once per process (callers must copy before handing it out)."""
    path = _resource(*parts)
    try:
        with path.open("rb") as handle:
            frame = pd.read_csv(handle, compression="gzip", keep_default_na=False, na_values=[""])
    except (OSError, EOFError, ValueError) as exc:
        raise DatasetFileError(
            f"The shipped data file {'/'.join(parts)!r} could not be read ({exc}); "
            "reinstall fairaudit."
        ) from exc
    return frame


@functools.cache
def _card(name: str) -> str:
    return _resource(name, "README.md").read_text(encoding="utf-8")


def _categorize(
    frame: pd.DataFrame, ordered: Mapping[str, Sequence[str]] | None = None
) -> pd.DataFrame:
    """Text columns to ``category`` dtype (sorted categories, or the given order)."""
    ordered = ordered or {}
    out = frame.copy()
    for column in out.columns:
        if column in ordered:
            dtype = pd.CategoricalDtype(list(ordered[column]), ordered=True)
            out[column] = out[column].astype(dtype)
        elif not pd.api.types.is_numeric_dtype(out[column].dtype):
            categories = sorted(out[column].dropna().unique().tolist())
            out[column] = out[column].astype(pd.CategoricalDtype(categories))
    return out


def _make(
    name: str,
    frame: pd.DataFrame,
    *,
    y: pd.Series,
    target_name: str,
    positive_label: str,
    features: Sequence[str],
    sensitive: Sequence[str],
) -> Dataset:
    frame = frame.reset_index(drop=True)
    y = pd.Series(y.to_numpy(dtype="int64"), name=target_name)
    return Dataset(
        name=name,
        frame=frame,
        X=frame[list(features)].copy(),
        y=y,
        sensitive=frame[list(sensitive)].copy(),
        description=_card(name),
        target_name=target_name,
        positive_label=positive_label,
        feature_names=tuple(features),
        sensitive_names=tuple(sensitive),
    )


_ADULT_FEATURES = (
    "age",
    "workclass",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
)


def load_adult(
    split: Literal["train", "test", "all"] = "train", *, drop_missing: bool = True
) -> Dataset:
    """Load UCI Adult (Census Income, 1994 US census extract): is income above $50K.

    Parameters
    ----------
    split : {"train", "test", "all"}, default "train"
        The standard UCI split (``adult.data`` / ``adult.test``), or both (train rows first).
    drop_missing : bool, default True
        Drop rows with a missing value (``?`` in the raw files, in ``workclass``,
        ``occupation`` or ``native_country``): 30,162 train and 15,060 test rows remain, the
        counts most papers use. With ``False`` all 32,561 / 16,281 rows are kept and the
        missing values are NaN in those categorical columns.

    Returns
    -------
    Dataset
        ``frame`` has the 15 columns of the card (``income`` is ``"<=50K"``/``">50K"``);
        ``X`` the 13 features (all but ``fnlwgt``, a census sampling weight, and ``income``);
        ``y`` is ``income_over_50k`` (1 = income >50K); ``sensitive`` has ``sex`` and ``race``.

    Notes
    -----
    See ``ds.description`` for the card: the labels were derived from a 1994 survey, the test
    labels carried a trailing dot, ``fnlwgt`` is not a per-person feature, and ``race`` has
    five coarse categories.

    References
    ----------
    Becker, B. and Kohavi, R. (1996). Adult. UCI Machine Learning Repository (CC BY 4.0).
    https://doi.org/10.24432/C5XW20

    Examples
    --------
    >>> import fairaudit as fa
    >>> ds = fa.datasets.load_adult()
    >>> ds.X.shape
    (30162, 13)
    >>> int(ds.y.sum())
    7508
    >>> ds.sensitive["sex"].value_counts().to_dict()
    {'Male': 20380, 'Female': 9782}
    """
    files = {"train": ["adult_train.csv.gz"], "test": ["adult_test.csv.gz"]}
    files["all"] = files["train"] + files["test"]
    if split not in files:
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}.")
    if not isinstance(drop_missing, bool):
        raise TypeError(f"drop_missing must be a bool, got {type(drop_missing).__name__}.")
    frame = pd.concat([_read_csv("adult", f) for f in files[split]], ignore_index=True)
    if drop_missing:
        frame = frame.dropna()
    frame = _categorize(frame)
    return _make(
        "adult",
        frame,
        y=(frame["income"] == ">50K"),
        target_name="income_over_50k",
        positive_label="income >50K",
        features=_ADULT_FEATURES,
        sensitive=("sex", "race"),
    )


_COMPAS_FEATURES = (
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
)
_COMPAS_ORDER = {
    "age_cat": ("Less than 25", "25 - 45", "Greater than 45"),
    "score_text": ("Low", "Medium", "High"),
    "v_score_text": ("Low", "Medium", "High"),
}


def load_compas(*, filter: bool = True) -> Dataset:
    """Load ProPublica's COMPAS two-year recidivism data (Broward County, Florida, 2013-2014).

    Parameters
    ----------
    filter : bool, default True
        Apply ProPublica's standard filter, which keeps the rows whose COMPAS screening is
        matched to the charge in the data: ``days_b_screening_arrest`` within [-30, 30] (rows
        where it is missing are dropped), ``is_recid != -1``, ``c_charge_degree != "O"``
        (ordinary traffic offences) and ``score_text != "N/A"``. 6,172 of the 7,214 rows
        remain. With ``False`` all 7,214 rows are returned.

    Returns
    -------
    Dataset
        ``frame`` has 28 columns (see the card; direct identifiers, case numbers and dates were
        removed when the file was built); ``X`` the 9 features ProPublica and FairML model
        with (``sex``, ``age``, ``age_cat``, ``race``, ``juv_fel_count``, ``juv_misd_count``,
        ``juv_other_count``, ``priors_count``, ``c_charge_degree``); ``y`` is
        ``two_year_recid`` (1 = a new charge within two years); ``sensitive`` has ``sex`` and
        ``race``. The COMPAS outputs are in ``frame`` (``decile_score``, ``score_text``), not
        in ``X``.

    Notes
    -----
    ``two_year_recid`` records a new *charge*, not a new offence: it measures arrests, which
    themselves depend on policing. The filter and the recidivism definition have been
    criticised (see the card); report results with and without the filter.

    References
    ----------
    Angwin, J., Larson, J., Mattu, S. and Kirchner, L. (2016). Machine Bias. ProPublica.
    Larson, J. et al. (2016). How We Analyzed the COMPAS Recidivism Algorithm. ProPublica.

    Examples
    --------
    >>> import fairaudit as fa
    >>> ds = fa.datasets.load_compas()
    >>> len(ds.frame), len(fa.datasets.load_compas(filter=False).frame)
    (6172, 7214)
    >>> int(ds.y.sum())
    2809
    """
    if not isinstance(filter, bool):
        raise TypeError(f"filter must be a bool, got {type(filter).__name__}.")
    frame = _read_csv("compas", "compas.csv.gz")
    if filter:
        days = frame["days_b_screening_arrest"]
        keep = (
            days.between(-30, 30)
            & (frame["is_recid"] != -1)
            & (frame["c_charge_degree"] != "O")
            & (frame["score_text"] != "N/A")
        )
        frame = frame[keep.fillna(False).astype(bool)]
    frame = _categorize(frame, _COMPAS_ORDER)
    return _make(
        "compas",
        frame,
        y=frame["two_year_recid"],
        target_name="two_year_recid",
        positive_label="new charge within two years",
        features=_COMPAS_FEATURES,
        sensitive=("sex", "race"),
    )


def load_german() -> Dataset:
    """Load the UCI Statlog German Credit data (1,000 loan applicants): good or bad credit risk.

    Returns
    -------
    Dataset
        ``frame`` has 22 columns, codes decoded to words (see the card); attribute 9 of the raw
        file ("personal status and sex") is split into ``sex`` and ``personal_status``; ``X``
        has the 21 features (all but ``credit``); ``y`` is ``credit_good`` (1 = good, the raw
        code 1; 0 = bad, the raw code 2); ``sensitive`` has ``sex`` and ``age`` (age in years,
        numeric: bin it, e.g. ``ds.frame["age"] >= 25``, before using it as a group).

    Notes
    -----
    ``sex`` is derived from attribute 9 with the UCI code table, which Grömping (2019) found
    to be wrong for this attribute: treat ``sex`` as unreliable (see the card). The data come
    from a German bank in the 1970s; 70% of the applicants are labelled good, with bad
    credits over-sampled relative to the bank's population.

    References
    ----------
    Hofmann, H. (1994). Statlog (German Credit Data). UCI Machine Learning Repository
    (CC BY 4.0). https://doi.org/10.24432/C5NC77

    Grömping, U. (2019). South German Credit Data: Correcting a Widely Used Data Set.
    Reports in Mathematics, Physics and Chemistry 4/2019, Beuth University of Applied
    Sciences Berlin.

    Examples
    --------
    >>> import fairaudit as fa
    >>> ds = fa.datasets.load_german()
    >>> ds.y.value_counts().sort_index().to_dict()
    {0: 300, 1: 700}
    >>> ds.sensitive["sex"].value_counts().to_dict()
    {'male': 690, 'female': 310}
    """
    frame = _categorize(_read_csv("german", "german.csv.gz"))
    features = tuple(c for c in frame.columns if c != "credit")
    return _make(
        "german",
        frame,
        y=(frame["credit"] == "good"),
        target_name="credit_good",
        positive_label="good credit",
        features=features,
        sensitive=("sex", "age"),
    )
