"""Generate analogies x : y along a seed direction (Bolukbasi et al. 2016), in bounded memory."""

from __future__ import annotations

import logging
import numbers
from typing import Any

import numpy as np
import pandas as pd

from fairaudit.embeddings._bias import as_direction
from fairaudit.embeddings._vectors import CasePolicy, WordVectors

__all__ = ["generate_analogies"]

logger = logging.getLogger(__name__)

# Rows of the vocabulary compared per block, and columns per tile: a tile costs
# _BLOCK * _BLOCK * _COLUMNS_PER_BLOCK * 4 bytes (16 MB) for its similarities, whatever the
# vocabulary size.
_BLOCK = 1024
_COLUMNS_PER_BLOCK = 4
# Candidate pairs whose exact distance and score are computed at once (two gathers of
# _PAIR_CHUNK x dim float32 each: 37 MB at dim 300).
_PAIR_CHUNK = 16_384
# Bolukbasi et al. worked on the 26k most frequent lower-case words of 3M; the tail of a large
# vocabulary (GloVe 6B's 400k words) holds rare tokens whose vectors are close to each other
# and make junk pairs (ffassihi : jhassell).
DEFAULT_RESTRICT_VOCAB = 50_000


def _exact_scores(
    normed: np.ndarray, seed: np.ndarray, xs: np.ndarray, ys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score and distance of pairs from their difference vectors (not from the gram).

    A distance from a cosine near 1 loses its digits (1 - cos cancels); x - y does not. The
    pair is oriented so that the projection difference is >= 0, and the cosine is clipped to
    [-1, 1] after the float32 arithmetic.
    """
    scores = np.empty(xs.size, dtype=np.float64)
    dists = np.empty(xs.size, dtype=np.float64)
    for lo in range(0, xs.size, _PAIR_CHUNK):
        hi = min(lo + _PAIR_CHUNK, xs.size)
        diff = normed[xs[lo:hi]] - normed[ys[lo:hi]]
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.float64))
        dp = diff.astype(np.float64) @ seed
        with np.errstate(invalid="ignore", divide="ignore"):
            scores[lo:hi] = np.where(dist > 0, dp / np.where(dist > 0, dist, 1.0), 0.0)
        dists[lo:hi] = dist
    flip = scores < 0
    xs, ys = np.where(flip, ys, xs), np.where(flip, xs, ys)
    return xs, ys, np.clip(np.abs(scores), -1.0, 1.0), dists


def _candidates(
    normed: np.ndarray, seed: np.ndarray, delta: float, keep: int, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Find the ``keep`` best-scoring pairs (x, y) with ||x - y|| <= delta, x != y, score > 0.

    Words are visited in decreasing order of their projection on the seed, in tiles of
    ``block`` rows by ``4 * block`` columns of the upper triangle; only a running top-``keep``
    list is held. Once the list is full its lowest score f prunes: a pair scoring over f has
    ||x - y|| < (p_x - p_y) / f, so a tile needs cos(x, y) > 1 - (max p_x - min p_y)^2 / (2 f^2)
    and the tile's similarities are filtered at that cosine rather than at 1 - delta^2 / 2.
    """
    n = normed.shape[0]
    proj = normed @ seed.astype(np.float32)
    order = np.argsort(-proj, kind="stable")
    p_sorted = proj[order].astype(np.float64)
    min_cos = 1.0 - delta**2 / 2.0
    cols = block * _COLUMNS_PER_BLOCK
    best_x = np.empty(0, dtype=np.int64)
    best_y = np.empty(0, dtype=np.int64)
    best_s = np.empty(0, dtype=np.float64)
    best_d = np.empty(0, dtype=np.float64)
    floor = 0.0  # scores must be positive; raised to the keep-th best once the list is full
    for i0 in range(0, n, block):
        rows = order[i0 : i0 + block]
        xi = normed[rows]
        for j0 in range(i0, n, cols):
            p_hi, p_lo = p_sorted[i0], p_sorted[min(j0 + cols, n) - 1]
            p_gap = p_sorted[min(i0 + block, n) - 1] - p_sorted[j0]
            if p_gap > delta:  # ||x - y|| >= p_x - p_y > delta for every pair of the tile
                continue
            threshold = min_cos
            if floor > 0:
                threshold = max(threshold, 1.0 - (p_hi - p_lo) ** 2 / (2.0 * floor**2))
            threshold -= 1e-5  # float32 similarities: never prune a pair that qualifies
            cols_idx = order[j0 : j0 + cols]
            gram = xi @ normed[cols_idx].T
            r, c = np.nonzero(gram >= threshold)
            if j0 == i0:  # the diagonal tile: each unordered pair once, no word with itself
                upper = i0 + r < j0 + c
                r, c = r[upper], c[upper]
            if r.size == 0:
                continue
            xs, ys = rows[r], cols_idx[c]
            xs, ys, score, dist = _exact_scores(normed, seed, xs, ys)
            good = (score > floor) & (dist <= delta)
            if not good.any():
                continue
            best_x = np.concatenate([best_x, xs[good]])
            best_y = np.concatenate([best_y, ys[good]])
            best_s = np.concatenate([best_s, score[good]])
            best_d = np.concatenate([best_d, dist[good]])
            if best_s.size >= keep:
                top = np.argpartition(-best_s, keep - 1)[:keep]
                best_x, best_y, best_s, best_d = best_x[top], best_y[top], best_s[top], best_d[top]
                floor = float(best_s.min())
    order_out = np.lexsort((best_y, best_x, -best_s))
    return best_x[order_out], best_y[order_out], best_s[order_out], best_d[order_out]


def _greedy_one_to_one(xs: np.ndarray, ys: np.ndarray, n: int) -> list[int]:
    used_x: set[int] = set()
    used_y: set[int] = set()
    chosen: list[int] = []
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        if x in used_x or y in used_y:
            continue
        used_x.add(x)
        used_y.add(y)
        chosen.append(i)
        if len(chosen) == n:
            break
    return chosen


def generate_analogies(
    wv: WordVectors,
    seed: tuple[str, str] | Any,
    *,
    delta: float = 1.0,
    n: int = 500,
    restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
    block_size: int = _BLOCK,
    case: CasePolicy = "auto",
) -> pd.DataFrame:
    """Generate analogy pairs x : y that run parallel to a seed direction, e.g. she : he.

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    seed : (str, str), or array-like of shape (dim,) or BiasDirection
        Two words (a, b) whose difference a - b is the seed direction, or a direction.
    delta : float, default 1.0
        Only pairs with ``||x - y|| <= delta`` (unit vectors) count, so that x and y are
        semantically close; delta = 1 means an angle of at most 60 degrees.
    n : int, default 500
        Number of pairs to return.
    restrict_vocab : int or None, default 50_000
        Use only the first ``restrict_vocab`` (most frequent) words; None uses all. The tail
        of a large vocabulary holds rare tokens whose vectors crowd together and pair up
        as junk (``ffassihi : jhassell`` in GloVe 6B's 400k words).
    block_size : int, default 1024
        Rows compared per tile (tiles are ``block_size`` x ``4 * block_size``); memory for
        the similarities grows as ``4 * block_size ** 2`` floats, whatever the vocabulary.
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy for the seed words (see :meth:`WordVectors.find`).

    Returns
    -------
    DataFrame
        Up to ``n`` rows, best first, columns ``x`` (the a-side word), ``y`` (the b-side word),
        ``score`` (cos(a - b, x - y), in [-1, 1]) and ``distance`` (||x - y||). One-to-one: a
        word appears at most once as x and at most once as y. ``DataFrame.attrs`` records
        what was searched: ``n_words_searched``, ``vocabulary_size``, ``restrict_vocab``,
        ``delta`` and ``seed``.

    Notes
    -----
    The score of a pair is ``cos(s, x - y) = (s.x - s.y) / ||x - y||`` with ``s`` the unit seed
    direction. Pairs are taken greedily in order of score, skipping any whose x was already
    used as an x or whose y was already used as a y (as Bolukbasi et al.'s code does).

    The computation never forms a vocabulary x vocabulary matrix: it sorts the words by their
    projection on ``s`` and streams over tiles of the upper triangle, keeping only a running
    list of the best candidate pairs. Once that list is full its lowest score ``f`` prunes
    (a pair scoring over ``f`` has ``||x - y|| < (s.x - s.y) / f``), so most similarities are
    compared against a cosine near 1. Distances and scores of the candidates are computed
    from ``x - y`` (not from ``1 - cos``, which loses its digits for close words) and clipped
    to [-1, 1]. The list starts at ``20 * n`` pairs; if the one-to-one selection runs out of
    candidates the pass is repeated with a list four times longer, so the result is exactly
    that of the full computation.

    The method can only find pairs of different words, and ranks pairs by their direction
    alone: Nissim et al. (2019) warn that such lists mix real analogies with forced ones.

    References
    ----------
    Bolukbasi et al. (2016), section 4 ("Generating analogies").

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, generate_analogies
    >>> wv = WordVectors(
    ...     ["she", "he", "queen", "king", "table"],
    ...     [[0.3, 1, 0], [-0.3, 1, 0], [0.3, 0, 1], [-0.3, 0, 1], [0, -1, -1]],
    ... )
    >>> pairs = generate_analogies(wv, ("she", "he"), n=2)
    >>> pairs[["x", "y", "score"]].round(3)
           x     y  score
    0    she    he    1.0
    1  queen  king    1.0
    >>> pairs.attrs["n_words_searched"], pairs.attrs["vocabulary_size"]
    (5, 5)
    """
    if not isinstance(wv, WordVectors):
        raise TypeError(f"wv must be a WordVectors, got {type(wv).__name__}.")
    if not isinstance(delta, numbers.Real) or not np.isfinite(delta) or delta <= 0:
        raise ValueError(f"delta must be a positive number, got {delta!r}.")
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}.")
    if (
        not isinstance(block_size, int | np.integer)
        or isinstance(block_size, bool)
        or block_size < 1
    ):
        raise ValueError(f"block_size must be a positive int, got {block_size!r}.")
    if restrict_vocab is not None and (
        not isinstance(restrict_vocab, int | np.integer) or isinstance(restrict_vocab, bool)
    ):
        raise TypeError(f"restrict_vocab must be an int or None, got {restrict_vocab!r}.")
    n_words = len(wv) if restrict_vocab is None else min(int(restrict_vocab), len(wv))
    if n_words < 2:
        raise ValueError(f"restrict_vocab must leave at least 2 words, got {restrict_vocab!r}.")
    if isinstance(seed, tuple | list) and len(seed) == 2 and all(isinstance(w, str) for w in seed):
        a, b = wv.get_vectors(list(seed), case=case).astype(np.float64)
        if np.allclose(a, b):
            raise ValueError(f"seed words {seed!r} have the same vector; no direction.")
        s = as_direction(a - b, wv.dim)
        seed_label: Any = [wv.words[wv.index_of(w, case=case)] for w in seed]
    else:
        s = as_direction(seed, wv.dim)
        seed_label = "direction"
    if n_words < len(wv):
        logger.info("generate_analogies: searching the first %d of %d words", n_words, len(wv))
    normed = wv.normed[:n_words]
    keep = 20 * int(n)
    while True:
        xs, ys, scores, dists = _candidates(normed, s, float(delta), keep, int(block_size))
        chosen = _greedy_one_to_one(xs, ys, int(n))
        # Exact once n pairs are chosen, or once every qualifying pair was a candidate.
        if len(chosen) == n or xs.size < keep:
            break
        logger.info("generate_analogies: %d candidates were not enough; retrying", keep)
        keep *= 4
    words = wv.words
    out = pd.DataFrame(
        {
            "x": [words[i] for i in xs[chosen]],
            "y": [words[i] for i in ys[chosen]],
            "score": scores[chosen],
            "distance": dists[chosen],
        }
    )
    out.attrs = {
        "n_words_searched": int(n_words),
        "vocabulary_size": len(wv),
        "restrict_vocab": None if restrict_vocab is None else int(restrict_vocab),
        "delta": float(delta),
        "seed": seed_label,
    }
    return out
