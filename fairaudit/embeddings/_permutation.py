"""The WEAT permutation engine: exact p-values (enumeration, meet in the middle) or Monte Carlo.

Works on the per-word associations s(w, A, B) of Caliskan et al. (2017).
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np

__all__ = ["EXACT_LIMIT", "Alternative", "permutation_pvalue"]

Alternative = Literal["greater", "less", "two-sided"]

# exact=None gives the exact p-value when |X| + |Y| <= _EXACT_N (counted by meet in the middle)
# or when there are at most EXACT_LIMIT partitions (enumerated); otherwise a Monte Carlo
# sample of permutations is drawn.
EXACT_LIMIT = 1_000_000
_EXACT_N = 40
# Largest |X| + |Y| for meet in the middle (2 ** 22 subset sums per half, 32 MB each).
_SPLIT_MAX_N = 44
# Below this many partitions, plain enumeration is as fast as meet in the middle.
_ENUMERATE_BELOW = 20_000
# Hard cap on enumeration for exact=True, to fail fast instead of running for hours.
_EXACT_MAX = 50_000_000
# Permutations (or partitions) evaluated per vectorized chunk.
_CHUNK = 20_000


def _exceeds(
    stats: np.ndarray, observed: float, centre: float, alternative: str, tol: float
) -> int:
    if alternative == "greater":
        return int(np.count_nonzero(stats >= observed - tol))
    if alternative == "less":
        return int(np.count_nonzero(stats <= observed + tol))
    return int(np.count_nonzero(np.abs(stats - centre) >= abs(observed - centre) - tol))


def _count_enumerate(
    s: np.ndarray, n_x: int, observed: float, centre: float, alternative: str, tol: float
) -> int:
    """Count partitions at least as extreme as observed, enumerating them in chunks."""
    total = float(s.sum())
    combos = itertools.combinations(range(s.shape[0]), n_x)
    count = 0
    while True:
        flat = np.fromiter(
            itertools.chain.from_iterable(itertools.islice(combos, _CHUNK)), dtype=np.intp
        )
        if flat.size == 0:
            return count
        stats = 2.0 * s[flat.reshape(-1, n_x)].sum(axis=1) - total
        count += _exceeds(stats, observed, centre, alternative, tol)


def _subset_sums(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sums and sizes of all 2 ** len(values) subsets."""
    sums = np.zeros(1)
    sizes = np.zeros(1, dtype=np.int64)
    for v in values:
        sums = np.concatenate([sums, sums + v])
        sizes = np.concatenate([sizes, sizes + 1])
    return sums, sizes


def _count_split(
    s: np.ndarray, n_x: int, observed: float, centre: float, alternative: str, tol: float
) -> int:
    """Count extreme partitions by meet in the middle (Horowitz & Sahni 1974).

    A re-drawn X' takes a elements from the first half of s and n_x - a from the second; for
    each a, the subset sums of one half are sorted and searched for the sums of the other.
    The statistic is 2 * sum(X') - total, so "at least as extreme" is a bound on sum(X').
    """
    n = s.shape[0]
    total = float(s.sum())
    half = n // 2
    left, left_size = _subset_sums(s[:half])
    right, right_size = _subset_sums(s[half:])
    # Bounds on sum(X') equivalent to the test on the statistic (see _exceeds).
    if alternative == "greater":
        bounds = [("ge", (observed - tol + total) / 2)]
    elif alternative == "less":
        bounds = [("le", (observed + tol + total) / 2)]
    else:
        dev = abs(observed - centre) - tol
        if dev <= 0:
            return math.comb(n, n_x)
        bounds = [("ge", (total + centre + dev) / 2), ("le", (total + centre - dev) / 2)]
    count = 0
    for a in range(max(0, n_x - (n - half)), min(n_x, half) + 1):
        sums_a = left[left_size == a]
        sums_b = np.sort(right[right_size == n_x - a])
        for side, bound in bounds:
            if side == "ge":
                count += int(
                    sums_b.size * sums_a.size
                    - np.searchsorted(sums_b, bound - sums_a, side="left").sum()
                )
            else:
                count += int(np.searchsorted(sums_b, bound - sums_a, side="right").sum())
    return count


def permutation_pvalue(
    s: np.ndarray,
    n_x: int,
    *,
    n_permutations: int,
    exact: bool | None,
    alternative: str,
    rng: np.random.Generator,
) -> tuple[float, float, str, int]:
    """p-value of sum(s[:n_x]) - sum(s[n_x:]) over re-partitions of s; (p, se, method, n)."""
    n = s.shape[0]
    total = float(s.sum())
    observed = 2.0 * float(s[:n_x].sum()) - total
    # Under a re-partition T = 2 * sum(X') - total; its mean is (2 n_x / n - 1) * total.
    centre = (2.0 * n_x / n - 1.0) * total
    tol = 1e-10 * max(1.0, float(np.abs(s).sum()))
    n_partitions = math.comb(n, n_x)
    auto = n <= _EXACT_N or n_partitions <= EXACT_LIMIT
    use_exact = auto if exact is None else bool(exact)
    if use_exact:
        if n_partitions <= _ENUMERATE_BELOW or n > _SPLIT_MAX_N:
            if n_partitions > _EXACT_MAX:
                raise ValueError(
                    f"exact=True would enumerate {n_partitions:,} partitions (limit "
                    f"{_EXACT_MAX:,} beyond {_SPLIT_MAX_N} targets); pass exact=None or False "
                    "for a Monte Carlo p-value."
                )
            count = _count_enumerate(s, n_x, observed, centre, alternative, tol)
        else:
            count = _count_split(s, n_x, observed, centre, alternative, tol)
        return count / n_partitions, 0.0, "exact", n_partitions
    count = 0
    done = 0
    while done < n_permutations:
        size = min(_CHUNK, n_permutations - done)
        # Each row is a uniformly random permutation of all n values (targets drawn without
        # replacement); its first n_x entries are the re-drawn X.
        perm = rng.permuted(np.broadcast_to(s, (size, n)), axis=1)
        stats = 2.0 * perm[:, :n_x].sum(axis=1) - total
        count += _exceeds(stats, observed, centre, alternative, tol)
        done += size
    # The observed partition counts as one of the permutations (Phipson & Smyth 2010), so
    # a Monte Carlo p-value is never 0.
    p = (count + 1) / (n_permutations + 1)
    se = math.sqrt(p * (1 - p) / n_permutations)
    return p, se, "monte_carlo", int(n_permutations)
