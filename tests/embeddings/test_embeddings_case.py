"""The documented sequence on uncased (GloVe 6B-style) and cased (fastText-style) vocabularies.

The uncased vocabulary is the shipped word2vec subset lower-cased, duplicates merged (the first,
most frequent spelling kept), written and read back as GloVe text; the fastText-style one is
the shipped subset with Title-case twins added, read back as word2vec text with a header.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fairaudit as fa
from fairaudit.embeddings import (
    OutOfVocabularyError,
    OutOfVocabularyWarning,
    WordVectors,
    bias_direction,
    direct_bias,
    generate_analogies,
    hard_debias,
    weat_suite,
)


def _write_text(path, wv, *, header):
    with open(path, "w", encoding="utf-8") as f:
        if header:
            f.write(f"{len(wv)} {wv.dim}\n")
        for w, v in zip(wv.words, wv.vectors, strict=True):
            f.write(w + " " + " ".join(f"{x:.6g}" for x in v) + "\n")


@pytest.fixture(scope="module")
def uncased(w2v, tmp_path_factory):
    seen: dict[str, int] = {}
    for i, w in enumerate(w2v.words):
        seen.setdefault(w.lower(), i)
    rows = list(seen.values())
    small = WordVectors(list(seen), w2v.vectors[rows])
    path = tmp_path_factory.mktemp("glove") / "glove_uncased.txt"
    _write_text(path, small, header=False)
    return WordVectors.load(path, format="glove")


@pytest.fixture(scope="module")
def fasttext_style(w2v, tmp_path_factory):
    # A cased vocabulary where some words exist in two spellings with different vectors.
    twins = ["Woman", "Man", "Nurse", "Doctor", "She", "He"]
    rng = np.random.default_rng(0)
    extra = w2v.vectors[[w2v.index_of(w.lower()) for w in twins]]
    extra = extra + 0.5 * rng.normal(size=extra.shape).astype(np.float32)
    wv = WordVectors(list(w2v.words[:5000]) + twins, np.vstack([w2v.vectors[:5000], extra]))
    path = tmp_path_factory.mktemp("fasttext") / "crawl-300d.vec"
    _write_text(path, wv, header=True)
    return WordVectors.load(path, format="word2vec_text")


def test_case_detection_and_lookup(w2v, uncased):
    assert w2v.is_cased  # 38 capitalized names among 26k words
    assert not uncased.is_cased
    assert uncased.find("Mary") == uncased.find("mary") is not None
    assert uncased.find("Mary", case="exact") is None
    assert uncased.index_of("MARY") == uncased.index_of("mary")
    # On a cased vocabulary "auto" is exact; "fold" finds the most frequent spelling.
    assert w2v.find("mary") is None or w2v.words[w2v.find("mary")] == "mary"
    assert w2v.find("nurse", case="fold") == w2v.find("nurse")
    assert w2v.words[w2v.find("JOHN", case="fold")] in ("John", "john")
    with pytest.raises(ValueError, match="case must be"):
        uncased.find("mary", case="lower")
    with pytest.raises(OutOfVocabularyError, match="Mary"):
        uncased.resolve(["Mary"], case="exact")
    assert uncased.resolve(["Mary", "John"]) == (["mary", "john"], [])


def test_documented_sequence_on_uncased_vocabulary(w2v, uncased, bolukbasi):
    # bias_direction on the documented pairs (with ("Mary", "John")) stops on no word.
    g = bias_direction(uncased, bolukbasi["definitional_pairs"])
    assert ("mary", "john") in g.pairs
    assert g.dropped == ()
    g_cased = bias_direction(w2v, bolukbasi["definitional_pairs"])
    assert float(g.explained_variance_ratio[0]) == pytest.approx(
        float(g_cased.explained_variance_ratio[0]), abs=0.05
    )
    db = direct_bias(uncased, bolukbasi["professions"], g)
    assert db.dropped == ()
    assert db.value == pytest.approx(
        direct_bias(w2v, bolukbasi["professions"], g_cased).value, abs=0.01
    )
    pairs = generate_analogies(uncased, ("She", "He"), n=5, restrict_vocab=3000)
    assert list(pairs["x"])[:1] == ["she"]
    assert pairs["score"].between(-1, 1).all()
    # WEAT: the capitalized names of the lists are found in lower case; nothing is skipped
    # silently (a warning names the words left out and every result lists them).
    with pytest.warns(OutOfVocabularyWarning):
        suite = weat_suite(uncased, n_permutations=500, random_state=0)
    with pytest.warns(OutOfVocabularyWarning):
        suite_cased = weat_suite(w2v, n_permutations=500, random_state=0)
    assert set(suite.results) >= set(suite_cased.results)
    for key, r in suite.results.items():
        if key in suite_cased.results:
            for s in ("X", "Y", "A", "B"):
                assert len(r.words[s]) >= len(suite_cased.results[key].words[s])
    # hard_debias protects every spelling of a gender-specific word ("Heir" keeps "heir").
    specific = [w.title() for w in bolukbasi["gender_specific"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfVocabularyWarning)
        new = hard_debias(
            uncased, g, gender_specific=specific, equalize_pairs=bolukbasi["equalize_pairs"]
        )
    assert new.case == "fold"
    kept = set(new.kept_specific)
    for w in ("guys", "heir", "actress", "mother"):
        if w in uncased:
            assert w in kept
            before = uncased.normed[uncased.index_of(w)] @ g.vector
            if (w, w) not in new.equalized and all(w not in p for p in new.equalized):
                assert new.normed[new.index_of(w)] @ g.vector == pytest.approx(before, abs=1e-5)
    neutral = [
        w for w in bolukbasi["professions"] if w.lower() not in {s.lower() for s in specific}
    ]
    assert direct_bias(new, neutral, g).value < 1e-5
    # Equalize pairs: those in lower case only are found; none is lost without a record.
    done = {(a.lower(), b.lower()) for a, b in new.equalized}
    for a, b in bolukbasi["equalize_pairs"]:
        assert (a.lower(), b.lower()) in done or (a, b) in new.skipped_pairs


def test_exact_policy_reproduces_bolukbasi_on_cased(w2v, bolukbasi, gender_direction):
    specific = [w.title() for w in ("heir", "guys")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutOfVocabularyWarning)
        exact = hard_debias(w2v, gender_direction, gender_specific=specific)
        folded = hard_debias(w2v, gender_direction, gender_specific=specific, case="fold")
    # exact case: "Heir" does not protect "heir" (Bolukbasi's code on cased vectors)
    assert exact.kept_specific == ()
    assert set(exact.missing_specific) == set(specific)
    assert {"heir", "guys"} <= set(folded.kept_specific)


def test_documented_sequence_on_fasttext_style_vocabulary(fasttext_style, bolukbasi):
    wv = fasttext_style
    assert wv.is_cased
    # Two spellings, two vectors: "auto" keeps them apart on a cased vocabulary.
    assert wv.find("Woman") != wv.find("woman")
    assert wv.find("Woman", case="fold") == wv.find("Woman")
    with pytest.warns(OutOfVocabularyWarning):
        g = bias_direction(wv, bolukbasi["definitional_pairs"], missing="drop")
    assert g.dropped  # ("Mary", "John") are not in the first 5,000 words
    with pytest.warns(OutOfVocabularyWarning):
        db = direct_bias(wv, bolukbasi["professions"], g, missing="drop")
    assert len(db.dropped) + len(db.projections) == len(bolukbasi["professions"])
    pairs = generate_analogies(wv, ("she", "he"), n=5)
    assert pairs.attrs["n_words_searched"] == len(wv)
    with pytest.warns(OutOfVocabularyWarning):
        new = hard_debias(
            wv,
            g,
            gender_specific=bolukbasi["gender_specific"],
            equalize_pairs=bolukbasi["equalize_pairs"],
        )
    # exact on a cased vocabulary: the listed spellings only, as Bolukbasi et al.'s code
    assert set(new.kept_specific) == set(bolukbasi["gender_specific"]) & set(wv.words)
    with pytest.warns(OutOfVocabularyWarning):
        weat_suite(wv, tests=["weat7", "weat8"], n_permutations=200, random_state=0)


def test_glove_style_analogy_and_similarity_fold(uncased):
    assert uncased.analogy("Man", "King", "Woman") == "queen"
    assert uncased.similarity("Doctor", "doctor") == pytest.approx(1.0)
    r = fa.embeddings.analogies(uncased, "Man", "King", "Woman", case="fold")
    assert r.to_frame()["answer"].tolist() == ["queen"]


def test_weat_duplicates_after_folding_and_many_words():
    wv = WordVectors(["rose", "ant", "love", "filth"], [[1, 0.1], [0.1, 1], [1, 0], [0, 1]])
    with pytest.raises(fa.exceptions.DataError, match="differ only in case"):
        fa.embeddings.weat(wv, ["rose", "Rose"], ["ant"], ["love"], ["filth"])
    # the duplicate check counts once (20k words), and names every duplicate
    many = [f"w{i}" for i in range(20_000)] + ["w7", "w9"]
    with pytest.raises(fa.exceptions.DataError, match=r"duplicate entries \['w7', 'w9'\]"):
        fa.embeddings.weat(wv, many, ["ant"], ["love"], ["filth"])
