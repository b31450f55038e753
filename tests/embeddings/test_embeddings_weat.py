"""WEAT and SEAT: known answers, exact p-value = brute force = scipy, Monte Carlo within SE."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fairaudit.embeddings import OutOfVocabularyWarning, WordVectors, seat, weat, weat_suite
from fairaudit.exceptions import DataError


@pytest.fixture
def tiny():
    # 2-D toy: flowers near "pleasant" (x axis), insects near "unpleasant" (y axis).
    return WordVectors(
        ["rose", "tulip", "ant", "wasp", "love", "peace", "filth", "death"],
        [[1, 0.1], [1, 0.2], [0.1, 1], [0.2, 1], [1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]],
    )


def _cos(u, v):
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def _s(wv, w, A, B):
    return np.mean([_cos(wv[w], wv[a]) for a in A]) - np.mean([_cos(wv[w], wv[b]) for b in B])


def test_known_answer(tiny):
    X, Y, A, B = ["rose", "tulip"], ["ant", "wasp"], ["love", "peace"], ["filth", "death"]
    r = weat(tiny, X, Y, A, B)
    s = {w: _s(tiny, w, A, B) for w in X + Y}
    assert r.statistic == pytest.approx(s["rose"] + s["tulip"] - s["ant"] - s["wasp"])
    values = np.array(list(s.values()))
    effect = (values[:2].mean() - values[2:].mean()) / values.std()
    assert r.effect_size == pytest.approx(effect)
    assert r.effect_size == pytest.approx(1.996, abs=1e-3)
    # 6 partitions of 4 words into 2 + 2; only the observed one reaches the statistic.
    assert (r.p_value, r.method, r.n_permutations, r.p_value_se) == (1 / 6, "exact", 6, 0.0)
    ddof1 = weat(tiny, X, Y, A, B, ddof=1)
    assert ddof1.effect_size == pytest.approx(effect * np.sqrt(3 / 4))
    less = weat(tiny, X, Y, A, B, alternative="less")
    assert less.p_value == pytest.approx(1.0)
    swapped = weat(tiny, Y, X, A, B)
    assert swapped.effect_size == pytest.approx(-r.effect_size)


def _random_embedding(n_words, dim, seed, lean=1.2):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(n_words)]
    vecs = rng.normal(size=(n_words, dim))
    vecs[:8, 0] += lean  # the first targets lean towards the A attributes
    vecs[16:22, 0] += 2
    return WordVectors(words, vecs)


def _brute_force_p(wv, X, Y, A, B, alternative):
    stat = lambda xs, ys: sum(_s(wv, w, A, B) for w in xs) - sum(_s(wv, w, A, B) for w in ys)  # noqa: E731
    observed = stat(X, Y)
    pool = X + Y
    stats = []
    for xs in itertools.combinations(pool, len(X)):
        ys = [w for w in pool if w not in xs]
        stats.append(stat(list(xs), ys))
    stats = np.array(stats)
    if alternative == "greater":
        return np.mean(stats >= observed - 1e-12)
    if alternative == "less":
        return np.mean(stats <= observed + 1e-12)
    centre = stats.mean()
    return np.mean(np.abs(stats - centre) >= abs(observed - centre) - 1e-12)


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
@pytest.mark.parametrize(("n_x", "n_y"), [(4, 4), (3, 5)])
def test_exact_p_value_equals_brute_force(alternative, n_x, n_y):
    wv = _random_embedding(30, 5, seed=n_x)
    X = [f"w{i}" for i in range(n_x)]
    Y = [f"w{i}" for i in range(8, 8 + n_y)]
    A, B = ["w16", "w17", "w18"], ["w22", "w23", "w24"]
    r = weat(wv, X, Y, A, B, exact=True, alternative=alternative)
    assert r.method == "exact"
    assert r.p_value == pytest.approx(_brute_force_p(wv, X, Y, A, B, alternative))


def test_exact_p_value_equals_scipy_permutation_test():
    stats = pytest.importorskip("scipy.stats")
    wv = _random_embedding(30, 5, seed=11)
    X, Y = [f"w{i}" for i in range(6)], [f"w{i}" for i in range(8, 14)]
    A, B = ["w16", "w17", "w18"], ["w22", "w23", "w24"]
    r = weat(wv, X, Y, A, B)
    s = r.to_frame()
    sx = s.loc[s["set"] == "X", "association"].to_numpy()
    sy = s.loc[s["set"] == "Y", "association"].to_numpy()
    ref = stats.permutation_test(
        (sx, sy),
        lambda a, b, axis: a.sum(axis=axis) - b.sum(axis=axis),
        permutation_type="independent",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    assert r.method == "exact"
    assert r.n_permutations == 924
    assert r.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    assert r.statistic == pytest.approx(ref.statistic)


def test_monte_carlo_agrees_with_exact_within_its_standard_error():
    wv = _random_embedding(40, 5, seed=3, lean=0.4)
    X, Y = [f"w{i}" for i in range(8)], [f"w{i}" for i in range(8, 16)]
    A, B = ["w16", "w17", "w18"], ["w22", "w23", "w24"]
    exact = weat(wv, X, Y, A, B, exact=True)
    assert exact.n_permutations == 12870  # C(16, 8)
    assert 0.01 < exact.p_value < 0.5  # a p-value where the Monte Carlo error is visible
    mc = weat(wv, X, Y, A, B, exact=False, n_permutations=20_000, random_state=0)
    assert mc.method == "monte_carlo"
    assert mc.n_permutations == 20_000
    assert mc.p_value_se == pytest.approx(np.sqrt(mc.p_value * (1 - mc.p_value) / 20_000))
    assert abs(mc.p_value - exact.p_value) < 4 * mc.p_value_se
    # Seeded: the same seed gives the same p-value, another seed (almost surely) not.
    again = weat(wv, X, Y, A, B, exact=False, n_permutations=20_000, random_state=0)
    other = weat(wv, X, Y, A, B, exact=False, n_permutations=20_000, random_state=1)
    assert again.p_value == mc.p_value
    assert other.p_value != mc.p_value
    assert mc.effect_size == exact.effect_size


def test_exact_limit():
    wv = _random_embedding(60, 3, seed=0)
    X, Y = [f"w{i}" for i in range(24)], [f"w{i}" for i in range(24, 48)]
    A, B = ["w50"], ["w51"]
    # 48 targets, 3.2e13 partitions: Monte Carlo by default, and too many for exact=True.
    assert weat(wv, X, Y, A, B, n_permutations=100, random_state=0).method == "monte_carlo"
    with pytest.raises(ValueError, match="exact=True would enumerate"):
        weat(wv, X, Y, A, B, exact=True)


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
def test_meet_in_the_middle_equals_enumeration(alternative):
    # 10 + 10 targets: 184,756 partitions, counted by meet in the middle; compare with a plain
    # enumeration of every partition over the same word associations.
    wv = _random_embedding(40, 5, seed=7, lean=0.5)
    X, Y = [f"w{i}" for i in range(10)], [f"w{i}" for i in range(10, 20)]
    A, B = ["w22", "w23", "w24"], ["w25", "w26", "w27"]
    r = weat(wv, X, Y, A, B, alternative=alternative)
    assert r.method == "exact"
    assert r.n_permutations == 184_756
    s = r.to_frame()["association"].to_numpy()
    combos = np.array(list(itertools.combinations(range(20), 10)))
    stats = 2 * s[combos].sum(axis=1) - s.sum()
    observed = s[:10].sum() - s[10:].sum()
    if alternative == "greater":
        expected = np.mean(stats >= observed - 1e-10)
    elif alternative == "less":
        expected = np.mean(stats <= observed + 1e-10)
    else:
        expected = np.mean(np.abs(stats) >= abs(observed) - 1e-10)
    assert 0 < expected < 1
    assert r.p_value == pytest.approx(expected, abs=1e-12)


def test_bad_sets(tiny):
    A, B = ["love", "peace"], ["filth", "death"]
    with pytest.raises(DataError, match=r"X .*is empty"):
        weat(tiny, [], ["ant"], A, B)
    with pytest.raises(DataError, match="duplicate"):
        weat(tiny, ["rose", "rose"], ["ant"], A, B)
    with pytest.raises(DataError, match="share the words"):
        weat(tiny, ["rose", "ant"], ["ant", "wasp"], A, B)
    with pytest.raises(KeyError, match="daisy"):
        weat(tiny, ["rose", "daisy"], ["ant", "wasp"], A, B)
    with pytest.raises(TypeError, match="single str"):
        weat(tiny, "rose", ["ant"], A, B)
    with pytest.raises(ValueError, match="alternative"):
        weat(tiny, ["rose"], ["ant", "wasp"], A, B, alternative="bigger")
    with (
        pytest.raises(DataError, match="after dropping 1 missing"),
        pytest.warns(OutOfVocabularyWarning),
    ):
        weat(tiny, ["daisy"], ["ant", "wasp"], A, B, missing="drop")
    with pytest.warns(OutOfVocabularyWarning, match="daisy"):
        r = weat(tiny, ["rose", "daisy", "tulip"], ["ant", "wasp"], A, B, missing="drop")
    assert r.dropped["X"] == ("daisy",)
    assert r.words["X"] == ("rose", "tulip")


def test_unequal_targets_are_allowed(tiny):
    A, B = ["love", "peace"], ["filth", "death"]
    r = weat(tiny, ["rose", "tulip"], ["ant"], A, B)
    assert r.n_permutations == 3
    assert r.p_value == pytest.approx(1 / 3)


def _hash_encoder(texts):
    """A deterministic bag-of-words encoder: each word maps to a fixed random vector."""
    out = []
    for t in texts:
        v = np.zeros(16)
        for tok in t.lower().strip(".").split():
            seed = sum(ord(ch) * 31**k for k, ch in enumerate(tok)) % (2**32)
            v += np.random.default_rng(seed).normal(size=16)
        out.append(v)
    return np.array(out)


def test_seat_equals_weat_on_the_encoded_vectors():
    X = ["This is a rose.", "This is a tulip.", "A daisy."]
    Y = ["This is an ant.", "This is a wasp.", "A moth."]
    A = ["This is love.", "Peace.", "That is joy."]
    B = ["This is filth.", "Death.", "That is grief."]
    r = seat(_hash_encoder, X, Y, A, B, names=("flowers", "insects", "pleasant", "unpleasant"))
    texts = X + Y + A + B
    wv = WordVectors(texts, _hash_encoder(texts))
    ref = weat(wv, X, Y, A, B)
    assert r.effect_size == pytest.approx(ref.effect_size)
    assert r.p_value == pytest.approx(ref.p_value)
    assert r.to_dict()["kind"] == "seat"
    assert r.names["X"] == "flowers"


def test_seat_bad_encoder():
    with pytest.raises(DataError, match="shape"):
        seat(lambda texts: np.ones(3), ["a"], ["b"], ["c"], ["d"])
    with pytest.raises(DataError, match="all-zero"):
        seat(lambda texts: np.zeros((len(texts), 2)), ["a"], ["b"], ["c"], ["d"])
    with pytest.raises(TypeError, match="callable"):
        seat("encoder", ["a"], ["b"], ["c"], ["d"])


def test_weat_result_dict_and_plot(tiny, pyplot):
    r = weat(tiny, ["rose", "tulip"], ["ant", "wasp"], ["love", "peace"], ["filth", "death"])
    d = json.loads(json.dumps(r.to_dict()))
    assert d["kind"] == "weat"
    assert d["effect_size"] == pytest.approx(r.effect_size)
    assert list(r.to_frame().columns) == ["set", "target", "word", "association"]
    assert r.plot() is not None


def test_caliskan_suite_on_shipped_vectors(w2v, pyplot):
    with pytest.warns(OutOfVocabularyWarning):  # the lists' names missing from the 26k words
        suite = weat_suite(w2v, n_permutations=2_000, random_state=0)
    frame = suite.to_frame().set_index("test")
    # Test 10 (young vs old names) cannot run: no old people's name is in the 26k vocabulary.
    assert suite.skipped.keys() == {"weat10"}
    assert frame.loc["weat10", "method"] == "skipped"
    ran = frame.drop(index="weat10")
    # Every test that runs shows the association Caliskan et al. found (positive effect).
    assert (ran["effect_size"] > 0.5).all(), ran["effect_size"]
    # Values on these vectors (recorded in docs/embeddings.md beside the published ones).
    expected = {"weat2": 1.556, "weat4": 1.358, "weat5": 0.734, "weat7": 0.914, "weat8": 1.406}
    for key, value in expected.items():
        assert ran.loc[key, "effect_size"] == pytest.approx(value, abs=0.005)
    assert ran.loc["weat1", "caliskan_glove_d"] == 1.50
    d = json.loads(json.dumps(suite.to_dict()))
    assert d["kind"] == "weat_suite"
    assert "not run" in d["summary"][-1]
    assert suite.plot() is not None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_x=st.integers(2, 5), n_y=st.integers(2, 5))
def test_properties_order_and_swap(seed, n_x, n_y):
    # Order within a set does not matter; swapping X and Y negates the effect and mirrors
    # the one-sided p-values.
    rng = np.random.default_rng(seed)
    wv = _random_embedding(20, 4, seed=seed % 1000)
    X, Y = [f"w{i}" for i in range(n_x)], [f"w{i}" for i in range(8, 8 + n_y)]
    A, B = ["w16", "w17"], ["w18", "w19"]
    r = weat(wv, X, Y, A, B)
    shuffled = weat(wv, list(rng.permutation(X)), list(rng.permutation(Y)), A, B)
    assert shuffled.effect_size == pytest.approx(r.effect_size)
    assert shuffled.p_value == pytest.approx(r.p_value)
    swapped = weat(wv, Y, X, A, B, alternative="less")
    assert swapped.effect_size == pytest.approx(-r.effect_size)
    assert swapped.p_value == pytest.approx(r.p_value)
    attrs_swapped = weat(wv, X, Y, B, A, alternative="less")
    assert attrs_swapped.p_value == pytest.approx(r.p_value)
    assert 0 < r.p_value <= 1


@pytest.mark.parametrize("container", [list, tuple, np.array, "series"])
def test_word_sets_of_any_sequence_type(tiny, container):
    import pandas as pd

    def make(words):
        return pd.Series(words) if container == "series" else container(words)

    ref = weat(tiny, ["rose", "tulip"], ["ant", "wasp"], ["love", "peace"], ["filth", "death"])
    r = weat(
        tiny,
        make(["rose", "tulip"]),
        make(["ant", "wasp"]),
        make(["love", "peace"]),
        make(["filth", "death"]),
    )
    assert r.effect_size == pytest.approx(ref.effect_size)
    assert r.p_value == pytest.approx(ref.p_value)
