"""The shipped word vectors and word lists; float16 storage does not change results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fairaudit as fa
from fairaudit.embeddings import WordVectors, bias_direction, direct_bias, weat_suite

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def half():
    return fa.datasets.load_word2vec_small()


@pytest.fixture(scope="module")
def full(raw_data_dir):
    return WordVectors.load(raw_data_dir / "embeddings" / "w2v_gnews_small.bin")


def test_shipped_vectors(half):
    assert (len(half), half.dim) == (26423, 300)
    assert half.vectors.dtype == np.float32
    # Frequency order of the original file.
    assert half.words[:5] == ("in", "for", "that", "is", "on")


def test_wordlists():
    b = fa.datasets.load_wordlists("bolukbasi")
    assert len(b["definitional_pairs"]) == 10
    assert b["definitional_pairs"][2] == ("she", "he")
    assert len(b["equalize_pairs"]) == 52
    assert len(b["professions"]) == 320
    assert list(b["profession_scores"].columns) == ["profession", "definitional", "stereotypical"]
    assert len(b["gender_specific"]) == 1441
    assert len(b["gender_specific_seed"]) == 218
    w = fa.datasets.load_wordlists("weat")
    assert list(w) == [f"weat{i}" for i in range(1, 11)]
    assert w["weat6"]["A_name"] == "Career"
    assert w["weat6"]["iat"]["d"] == 0.72
    assert w["weat1"]["caliskan_glove"]["d"] == 1.50
    with pytest.raises(ValueError, match="name must be one of"):
        fa.datasets.load_wordlists("glove")


def test_float16_matches_raw_float32(half, full):
    # Same words in the same order; unit vectors agree to 1.2e-4 per coordinate.
    assert half.words == full.words
    assert np.abs(half.normed - full.normed).max() < 2e-4
    # 1,000 analogy queries among the 5,000 most frequent words: identical answers.
    rng = np.random.default_rng(0)
    idx = rng.choice(5000, size=(1000, 3))
    idx = idx[(idx[:, 0] != idx[:, 1]) & (idx[:, 0] != idx[:, 2]) & (idx[:, 1] != idx[:, 2])]
    words = np.array(full.words)
    a, b, c = (list(words[idx[:, k]]) for k in range(3))
    _, i_half, s_half = half.analogy_scores(a, b, c)
    _, i_full, s_full = full.analogy_scores(a, b, c)
    np.testing.assert_array_equal(i_half, i_full)
    assert np.abs(s_half - s_full).max() < 1e-4
    # Direct bias of the professions and the WEAT effect sizes.
    lists = fa.datasets.load_wordlists("bolukbasi")
    db = [
        direct_bias(wv, lists["professions"], bias_direction(wv, lists["definitional_pairs"])).value
        for wv in (half, full)
    ]
    assert db[0] == pytest.approx(db[1], abs=1e-5)
    # the subset lacks some of the WEAT lists' words: warned and recorded, the same in both
    with pytest.warns(fa.embeddings.OutOfVocabularyWarning):
        eh = weat_suite(half, n_permutations=200, random_state=0).to_frame()["effect_size"]
    with pytest.warns(fa.embeddings.OutOfVocabularyWarning):
        ef = weat_suite(full, n_permutations=200, random_state=0).to_frame()["effect_size"]
    assert np.nanmax(np.abs(eh - ef)) < 1e-3


def test_build_script_reproduces_the_shipped_files(tmp_path, raw_data_dir):
    script = ROOT / "datasets" / "scripts" / "build_embeddings.py"
    subprocess.run(
        [sys.executable, str(script), "--raw", str(raw_data_dir), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in ["wordlists/bolukbasi_gender.json", "wordlists/weat.json"]:
        assert (tmp_path / name).read_bytes() == (ROOT / "datasets" / name).read_bytes(), name
    npz = "embeddings/w2v_gnews_small.npz"
    with np.load(tmp_path / npz) as new, np.load(ROOT / "datasets" / npz) as old:
        np.testing.assert_array_equal(new["words"], old["words"])
        np.testing.assert_array_equal(new["vectors"], old["vectors"])
        assert old["vectors"].dtype == np.float16
