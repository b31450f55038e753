"""generate_analogies: equal to a dense reference, bounded memory, Bolukbasi's she:he pairs."""

from __future__ import annotations

import numpy as np
import pytest

from fairaudit.embeddings import WordVectors, generate_analogies


def _dense_reference(wv, a, b, delta, n):
    """The vocabulary x vocabulary computation, written plainly."""
    x = wv.normed.astype(np.float64)
    s = x[wv.index_of(a)] - x[wv.index_of(b)]
    s /= np.linalg.norm(s)
    rows = []
    for i in range(len(wv)):
        for j in range(len(wv)):
            if i == j:
                continue
            d = np.linalg.norm(x[i] - x[j])
            if d <= delta:
                score = (x[i] - x[j]) @ s / d
                if score > 0:
                    rows.append((-score, i, j, d))
    rows.sort()
    used_x, used_y, out = set(), set(), []
    for neg, i, j, d in rows:
        if i in used_x or j in used_y:
            continue
        used_x.add(i)
        used_y.add(j)
        out.append((wv.words[i], wv.words[j], -neg, d))
        if len(out) == n:
            break
    return out


@pytest.mark.parametrize(("delta", "n", "block"), [(1.0, 10, 7), (1.3, 40, 16), (0.8, 5, 3)])
def test_equals_dense_reference(delta, n, block):
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(60)]
    # Clustered vectors so that many pairs fall within delta.
    centres = rng.normal(size=(6, 8))
    vecs = centres[rng.integers(0, 6, 60)] + 0.5 * rng.normal(size=(60, 8))
    wv = WordVectors(words, vecs)
    got = generate_analogies(wv, ("w0", "w1"), delta=delta, n=n, block_size=block)
    ref = _dense_reference(wv, "w0", "w1", delta, n)
    assert list(zip(got["x"], got["y"], strict=True)) == [(r[0], r[1]) for r in ref]
    np.testing.assert_allclose(got["score"], [r[2] for r in ref], rtol=1e-5)
    np.testing.assert_allclose(got["distance"], [r[3] for r in ref], rtol=1e-5)
    assert got["x"].is_unique
    assert got["y"].is_unique


def test_retries_when_candidates_run_out():
    # One hub word x pairs best with everything: the top 20 * n candidates all share x,
    # so the one-to-one selection needs a second, larger pass.
    rng = np.random.default_rng(0)
    n_words = 80
    vecs = np.zeros((n_words, 3))
    vecs[0] = [1, 0.2, 0]
    vecs[1:, 0] = -0.2 + 0.01 * rng.random(n_words - 1)
    vecs[1:, 1] = 1
    vecs[1:, 2] = 0.1 * rng.normal(size=n_words - 1)
    wv = WordVectors([f"w{i}" for i in range(n_words)], vecs)
    got = generate_analogies(wv, np.array([1.0, 0, 0]), delta=2.0, n=3)
    assert len(got) == 3
    assert got["x"].is_unique
    assert got["y"].is_unique


def test_bad_input():
    wv = WordVectors(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="delta must be a positive number"):
        generate_analogies(wv, ("a", "b"), delta=0)
    with pytest.raises(ValueError, match="n must be"):
        generate_analogies(wv, ("a", "b"), n=0)
    with pytest.raises(ValueError, match="dimension 2"):
        generate_analogies(wv, np.ones(3))
    with pytest.raises(KeyError, match="zz"):
        generate_analogies(wv, ("a", "zz"))


@pytest.mark.slow
def test_bolukbasi_she_he_analogies(w2v):
    # The 20,000 most frequent words (businesswoman is word 19,410) keep the test at about half
    # the cost of the whole vocabulary; the whole-vocabulary list starts with the same pairs.
    top = generate_analogies(w2v, ("she", "he"), n=100, restrict_vocab=20_000)
    pairs = list(zip(top["x"], top["y"], strict=True))
    # Bolukbasi et al. (2016), Figure 2 / section 4: the best she:he analogies.
    for pair in [("herself", "himself"), ("businesswoman", "businessman"), ("actress", "actor")]:
        assert pair in pairs[:10], pairs[:10]
    assert ("queen", "king") in pairs[:20]
    assert (top["distance"] <= 1.0).all()
    assert top["score"].is_monotonic_decreasing


def test_scores_stay_in_range_for_near_duplicate_words():
    # Words whose vectors differ in the last float32 bits: a distance from 1 - cos loses its
    # digits there (the old code reported a cosine of 1.000001); x - y does not.
    rng = np.random.default_rng(3)
    base = rng.normal(size=(40, 50)).astype(np.float32)
    twins = base * (1 + 1e-6 * rng.normal(size=(40, 1))).astype(np.float32)
    twins[:, 0] += 1e-5
    wv = WordVectors(
        [f"a{i}" for i in range(40)] + [f"b{i}" for i in range(40)], np.vstack([base, twins])
    )
    got = generate_analogies(wv, np.eye(50)[0], n=30, delta=0.5)
    assert len(got) > 0
    assert got["score"].between(-1.0, 1.0).all()
    assert (got["distance"] > 0).all()


def test_default_vocabulary_bound_is_recorded():
    import inspect

    assert inspect.signature(generate_analogies).parameters["restrict_vocab"].default == 50_000
    rng = np.random.default_rng(0)
    wv = WordVectors([f"w{i}" for i in range(30)], rng.normal(size=(30, 4)))
    got = generate_analogies(wv, ("w0", "w1"), n=3, restrict_vocab=20)
    assert got.attrs == {
        "n_words_searched": 20,
        "vocabulary_size": 30,
        "restrict_vocab": 20,
        "delta": 1.0,
        "seed": ["w0", "w1"],
    }
    assert set(got["x"]) | set(got["y"]) <= {f"w{i}" for i in range(20)}
    with pytest.raises(TypeError, match="restrict_vocab"):
        generate_analogies(wv, ("w0", "w1"), restrict_vocab=2.5)
