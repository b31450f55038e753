"""The exact McNemar test of comparisons and flip tests equals scipy's binomial test."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from fairaudit.metrics._paired import mcnemar_exact


def test_mcnemar_equals_binomtest_on_a_grid():
    cases = [(u, d) for u in range(0, 40) for d in range(0, 40, 3)]
    cases += [(u, 10_000 - u) for u in range(0, 10_001, 331)]
    cases += [(499_950, 500_051), (480_000, 520_001), (3, 1_000_000)]
    for up, down in cases:
        expected = binomtest(up, up + down, 0.5).pvalue if up + down else 1.0
        assert mcnemar_exact(up, down) == pytest.approx(expected, rel=1e-13, abs=1e-300)


def test_counts_given_as_floats():
    assert mcnemar_exact(9.0, 1.0) == mcnemar_exact(9, 1)
