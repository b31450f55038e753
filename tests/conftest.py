"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Headless plotting everywhere: tests never open windows.
os.environ.setdefault("MPLBACKEND", "Agg")

# Hypothesis explores new examples on every local run; in CI (CI=true) it replays a fixed
# sequence, so that a red CI always means a change broke something and is reproducible.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass
else:
    _hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        _hypothesis_settings.load_profile("ci")

_ROOT = Path(__file__).resolve().parents[1]
# The raw sources sit beside the checkout (../shared/datasets; CI has them there too); from a
# git worktree (wt/NAME) they are one level further up.
_RAW_CANDIDATES = [_ROOT.parent / "shared" / "datasets", _ROOT.parents[1] / "shared" / "datasets"]


@pytest.fixture(scope="session")
def spark():
    """One Spark session in local mode for the whole run (a start takes 10-90 s).

    Modules that use it skip themselves without Java or pyspark. mapInPandas (audit and
    compare on a Spark DataFrame) runs Python workers: this interpreter, which has fairaudit
    and the models' libraries.
    """
    import sys

    from pyspark.sql import SparkSession

    before = {k: os.environ.get(k) for k in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    os.environ["PYSPARK_PYTHON"] = os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
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
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def raw_data_dir() -> Path:
    """The project's raw data folder; tests that need it skip where it is absent (a wheel)."""
    for path in _RAW_CANDIDATES:
        if path.is_dir():
            return path
    pytest.skip("the raw data folder (../shared/datasets) is not available")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, so that every test is reproducible."""
    return np.random.default_rng(20261122)


@pytest.fixture
def pyplot():
    """Matplotlib's pyplot with figures closed after the test (as sklearn's fixture)."""
    plt = pytest.importorskip("matplotlib.pyplot")
    plt.close("all")
    yield plt
    plt.close("all")


# A group label that is markup: reports, the CLI and the browser must show it as text.
SCRIPT_LABEL = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def script_label() -> str:
    """The group name ``<script>alert(1)</script>`` (must always render as text)."""
    return SCRIPT_LABEL


@pytest.fixture(scope="session")
def script_group_data():
    """Factory of audit data whose ``race`` column has a group named ``<script>...``.

    ``make(seed=, n=, sexes=(a, b), rates=(ra, rb))`` draws, in this order, ``sex`` (from
    ``sexes``), ``race`` ("A", "B" or the script label; 60/30/10%), ``y`` (0/1) and ``pred``
    (1 with probability ``ra`` for sex ``a``, ``rb`` for ``b``). It returns the frame with
    columns ``y, pred, sex, race`` and the generator, so a caller can draw more (scores).
    """
    import pandas as pd

    def make(*, seed: int, n: int, sexes: tuple[str, str], rates: tuple[float, float]):
        rng = np.random.default_rng(seed)
        sex = rng.choice(list(sexes), n)
        race = rng.choice(["A", "B", SCRIPT_LABEL], n, p=[0.6, 0.3, 0.1])
        y = rng.integers(0, 2, n)
        pred = (rng.random(n) < np.where(sex == sexes[0], rates[0], rates[1])).astype(int)
        return pd.DataFrame({"y": y, "pred": pred, "sex": sex, "race": race}), rng

    return make
