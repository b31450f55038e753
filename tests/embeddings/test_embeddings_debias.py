"""hard_debias: neutral words orthogonal to g, pairs equalized, the input untouched."""

from __future__ import annotations

import numpy as np
import pytest

from fairaudit.embeddings import OutOfVocabularyWarning, WordVectors, direct_bias, hard_debias


def test_toy_neutralize_and_equalize():
    words = ["he", "she", "grandpa", "grandma", "nurse", "babysit"]
    vecs = np.array(
        [[1, 1, 0], [-1, 1, 0], [0.9, 0.2, 1], [-0.5, 0.3, 1], [-0.5, 0.1, 1], [-0.3, 1, 1]]
    )
    wv = WordVectors(words, vecs)
    before = wv.vectors.copy()
    g = np.array([1.0, 0, 0])
    new = hard_debias(wv, g, gender_specific=["he", "she"], equalize_pairs=[("grandpa", "grandma")])
    np.testing.assert_array_equal(wv.vectors, before)  # untouched
    # Neutral words have no component along g, and unit length.
    for w in ["nurse", "babysit"]:
        assert new.normed[new.index_of(w)] @ g == pytest.approx(0, abs=1e-7)
    np.testing.assert_allclose(np.linalg.norm(new.vectors, axis=1), 1, rtol=1e-6)
    # Gender-specific words keep their direction.
    np.testing.assert_allclose(new.normed[0], wv.normed[0], rtol=1e-6)
    # The equalized pair: opposite projections, equal distance to every neutral word.
    pa, pb = new.normed[new.index_of("grandpa")], new.normed[new.index_of("grandma")]
    assert pa @ g == pytest.approx(-(pb @ g), abs=1e-6)
    for w in ["nurse", "babysit"]:
        assert new.similarity("grandpa", w) == pytest.approx(new.similarity("grandma", w), abs=1e-6)


def test_bad_input():
    wv = WordVectors(["a", "b"], [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="dimension 2"):
        hard_debias(wv, [1, 0, 0], gender_specific=[])
    with pytest.raises(TypeError, match="single str"):
        hard_debias(wv, [1, 0], gender_specific="a")
    with pytest.raises(ValueError, match="pairs"):
        hard_debias(wv, [1, 0], gender_specific=[], equalize_pairs=[("a", "b", "c")])


@pytest.mark.slow
def test_bolukbasi_hard_debias(w2v, bolukbasi, gender_direction):
    specific = set(bolukbasi["gender_specific"])
    with pytest.warns(OutOfVocabularyWarning, match="equalize pairs") as caught:
        new = hard_debias(
            w2v,
            gender_direction,
            gender_specific=specific,
            equalize_pairs=bolukbasi["equalize_pairs"],
        )
    # Pairs skipped for a missing word are recorded in the result, not only warned about.
    assert new.skipped_pairs
    assert all(a not in w2v or b not in w2v for a, b in new.skipped_pairs)
    assert str(len(new.skipped_pairs)) in str(caught[0].message)
    assert ("grandpa", "grandma") in new.equalized or ("grandma", "grandpa") in new.equalized
    assert new.case == "exact"
    assert set(new.kept_specific) == specific & set(w2v.words)
    neutral = [w for w in bolukbasi["professions"] if w not in specific]
    before = direct_bias(w2v, neutral, gender_direction).value
    after = direct_bias(new, neutral, gender_direction).value
    assert before == pytest.approx(0.073, abs=0.003)
    assert after < 1e-6
    # Every neutral word of the vocabulary is orthogonal to g.
    is_neutral = np.array([w not in specific for w in new.words])
    touched = set(w for p in bolukbasi["equalize_pairs"] for w in p)
    is_neutral &= np.array([w not in touched and w.lower() not in touched for w in new.words])
    assert np.abs(new.normed[is_neutral] @ gender_direction.vector).max() < 1e-5
    # Equalized pairs are equidistant from neutral words.
    for w in ["babysitter", "doctor", "nurse"]:
        assert new.similarity("grandpa", w) == pytest.approx(new.similarity("grandma", w), abs=1e-5)
    # The input is left untouched.
    assert direct_bias(w2v, neutral, gender_direction).value == pytest.approx(before)
