"""WordVectors: construction, lookups, file formats, analogies (cross-checked with gensim)."""

from __future__ import annotations

import numpy as np
import pytest

from fairaudit.embeddings import (
    OutOfVocabularyError,
    OutOfVocabularyWarning,
    WordVectors,
    analogies,
)
from fairaudit.exceptions import DataError, DatasetFileError, MissingValueError

WORDS = ["man", "woman", "king", "queen", "apple"]
VECS = [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, -1]]


@pytest.fixture
def toy():
    return WordVectors(WORDS, VECS)


def test_basic_properties(toy):
    assert len(toy) == 5
    assert toy.dim == 3
    assert "queen" in toy
    assert "prince" not in toy
    assert list(toy) == WORDS
    np.testing.assert_allclose(np.linalg.norm(toy.normed, axis=1), 1, rtol=1e-6)
    assert toy.vectors.dtype == np.float32
    # sqrt(2) / 2 for [1, 0, 1]
    np.testing.assert_allclose(toy.normed[2], [0.70710677, 0, 0.70710677], rtol=1e-6)


def test_arrays_are_read_only_and_input_is_copied():
    source = np.array(VECS, dtype=np.float32)
    wv = WordVectors(WORDS, source)
    with pytest.raises(ValueError, match="read-only"):
        wv.vectors[0, 0] = 5
    source[0, 0] = 9
    assert wv.vectors[0, 0] == 1


@pytest.mark.parametrize(
    ("words", "vectors", "error", "match"),
    [
        (["a", "a"], [[1, 0], [0, 1]], DataError, "duplicates: \\['a'\\]"),
        (["a", "b"], [[1, np.nan], [0, 1]], MissingValueError, "NaN or infinite.*'a'"),
        (["a", "b"], [[0, 0], [0, 1]], DataError, "all zeros.*'a'"),
        (["a", "b"], [[1, 0]], DataError, "1 rows but words has 2"),
        (["a"], [1, 0], DataError, "2-D"),
        ([1, 2], [[1, 0], [0, 1]], TypeError, "strings"),
        ("ab", [[1, 0], [0, 1]], TypeError, "single str"),
    ],
)
def test_bad_construction(words, vectors, error, match):
    with pytest.raises(error, match=match):
        WordVectors(words, vectors)


def test_out_of_vocabulary_message_and_policy(toy):
    with pytest.raises(
        OutOfVocabularyError, match=r"2 words not in the vocabulary.*'prince', 'duke'"
    ):
        toy.get_vectors(["king", "prince", "duke"])
    with pytest.raises(KeyError):  # also a KeyError, as in a mapping
        toy["prince"]
    with pytest.warns(OutOfVocabularyWarning, match=r"1 of 2 words.*'prince'"):
        kept, dropped = toy.resolve(["king", "prince"], missing="drop")
    assert (kept, dropped) == (["king"], ["prince"])
    with pytest.warns(OutOfVocabularyWarning):
        assert toy.get_vectors(["king", "prince"], missing="drop").shape == (1, 3)
    with pytest.raises(ValueError, match="missing must be"):
        toy.resolve(["king"], missing="ignore")


def test_subset_keeps_order(toy):
    assert toy.subset(2).words == ("man", "woman")
    assert toy.subset(["queen", "man"]).words == ("queen", "man")


def test_analogy_toy(toy):
    # b - a + c = king - man + woman = [0, 1, 1] -> queen
    assert toy.analogy("man", "king", "woman") == "queen"
    assert toy.analogy("man", "king", "woman", topn=2)[0] == "queen"
    assert toy.analogy(["man", "woman"], ["king", "queen"], ["woman", "man"]) == ["queen", "king"]
    # Without excluding inputs the nearest word to king - man + woman can be an input.
    assert toy.analogy("man", "king", "woman", exclude_inputs=False) == "queen"
    assert toy.analogy("queen", "queen", "queen", exclude_inputs=False) == "queen"


def test_analogy_bad_input(toy):
    with pytest.raises(ValueError, match="same length"):
        toy.analogy(["man"], ["king", "queen"], ["woman"])
    with pytest.raises(TypeError, match="mix"):
        toy.analogy("man", ["king"], ["woman"])
    with pytest.raises(OutOfVocabularyError, match="prince"):
        toy.analogy("man", "prince", "woman")
    with pytest.raises(ValueError, match="method"):
        toy.analogy("man", "king", "woman", method="pairdirection")
    with pytest.raises(ValueError, match="topn"):
        toy.analogy("man", "king", "woman", topn=0)


def test_king_man_woman_queen(w2v):
    result = analogies(w2v, "man", "king", "woman").to_frame()
    assert result.loc[0, "answer"] == "queen"
    assert result.loc[0, "score"] == pytest.approx(0.7118, abs=1e-3)


def _query_sample(wv, n, seed):
    rng = np.random.default_rng(seed)
    idx = rng.choice(3000, size=(n, 3), replace=True)
    keep = (idx[:, 0] != idx[:, 1]) & (idx[:, 0] != idx[:, 2]) & (idx[:, 1] != idx[:, 2])
    words = np.array(wv.words)
    return [list(words[idx[keep, k]]) for k in range(3)]


def test_analogies_equal_gensim_most_similar(w2v):
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors(vector_size=w2v.dim)
    kv.add_vectors(list(w2v.words), np.asarray(w2v.vectors))
    a, b, c = _query_sample(w2v, 150, seed=1)
    a, b, c = [*a, "man", "man"], [*b, "king", "doctor"], [*c, "woman", "woman"]
    ours = analogies(w2v, a, b, c, topn=3).to_frame()
    for i, (qa, qb, qc) in enumerate(zip(a, b, c, strict=True)):
        theirs = kv.most_similar(positive=[qb, qc], negative=[qa], topn=3)
        mine = ours.iloc[3 * i : 3 * i + 3]
        assert list(mine["answer"]) == [w for w, _ in theirs], (qa, qb, qc)
        np.testing.assert_allclose(mine["score"], [s for _, s in theirs], atol=2e-6)


def test_cosmul_and_restrict_vocab_equal_gensim(w2v):
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors(vector_size=w2v.dim)
    kv.add_vectors(list(w2v.words), np.asarray(w2v.vectors))
    a, b, c = _query_sample(w2v, 30, seed=2)
    mul = w2v.analogy(a, b, c, method="3cosmul")
    restricted = w2v.analogy(a, b, c, restrict_vocab=5000)
    for i, (qa, qb, qc) in enumerate(zip(a, b, c, strict=True)):
        assert mul[i] == kv.most_similar_cosmul(positive=[qb, qc], negative=[qa], topn=1)[0][0]
        expected = kv.most_similar(positive=[qb, qc], negative=[qa], topn=1, restrict_vocab=5000)
        assert restricted[i] == expected[0][0]


def test_batch_equals_one_by_one(w2v):
    a, b, c = _query_sample(w2v, 40, seed=3)
    batch = w2v.analogy(a, b, c, topn=2)
    assert batch == [w2v.analogy(x, y, z, topn=2) for x, y, z in zip(a, b, c, strict=True)]


def test_most_similar_equals_gensim(w2v):
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors(vector_size=w2v.dim)
    kv.add_vectors(list(w2v.words), np.asarray(w2v.vectors))
    for word in ["nurse", "programmer", "she"]:
        ours = w2v.most_similar(word, topn=5)
        theirs = kv.most_similar(word, topn=5)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=2e-6)


def test_analogy_result_dict_and_plot(toy, pyplot):
    import json

    r = analogies(toy, ["man"], ["king"], ["woman"], topn=2)
    d = r.to_dict()
    json.dumps(d)
    assert d["kind"] == "analogies"
    assert d["summary"][0].startswith("man : king :: woman : queen")
    assert r.plot() is not None


# ---- files ------------------------------------------------------------------------------


def test_roundtrip_all_formats_with_gensim_writer(tmp_path, toy):
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors(vector_size=toy.dim)
    kv.add_vectors(list(toy.words), np.asarray(toy.vectors))
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    kv.save_word2vec_format(tmp_path / "v.txt", binary=False)
    lines = (tmp_path / "v.txt").read_text().splitlines()[1:]
    (tmp_path / "glove.txt").write_text("\n".join(lines) + "\n")
    toy.save(tmp_path / "v.npz")
    toy.save(tmp_path / "h.npz", dtype="float16")
    for name, fmt in [
        ("v.bin", "word2vec"),
        ("v.txt", "word2vec_text"),
        ("glove.txt", "glove"),
        ("v.npz", "npz"),
        ("h.npz", "npz"),
    ]:
        for given in (fmt, None):  # explicit, and detected from suffix / first line
            loaded = WordVectors.load(tmp_path / name, format=given)
            assert loaded.words == toy.words
            np.testing.assert_allclose(loaded.vectors, toy.vectors, rtol=1e-3)
    assert WordVectors.load(tmp_path / "v.bin", limit=2).words == ("man", "woman")
    assert WordVectors.from_gensim(kv).words == toy.words


def test_raw_binary_matches_gensim_reader(raw_w2v, raw_w2v_path):
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors.load_word2vec_format(raw_w2v_path, binary=True)
    assert list(raw_w2v.words) == kv.index_to_key
    np.testing.assert_array_equal(raw_w2v.vectors, kv.vectors)


def _write_bin(path, words, vectors, *, newline=True):
    with open(path, "wb") as fh:
        fh.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for w, v in zip(words, vectors, strict=True):
            fh.write(
                w.encode() + b" " + np.asarray(v, "<f4").tobytes() + (b"\n" if newline else b"")
            )


def test_gzip_files(tmp_path, toy):
    import gzip

    _write_bin(tmp_path / "v.bin", list(toy.words), toy.vectors)
    (tmp_path / "v.bin.gz").write_bytes(gzip.compress((tmp_path / "v.bin").read_bytes()))
    assert WordVectors.load(tmp_path / "v.bin.gz").words == toy.words
    text = "".join(f"{w} {' '.join(map(str, v))}\n" for w, v in zip(toy.words, VECS, strict=True))
    (tmp_path / "g.txt.gz").write_bytes(gzip.compress(text.encode()))
    loaded = WordVectors.load(tmp_path / "g.txt.gz")
    np.testing.assert_array_equal(loaded.vectors, toy.vectors)


@pytest.mark.parametrize("newline", [True, False])
def test_binary_with_and_without_newlines(tmp_path, toy, newline):
    _write_bin(tmp_path / "v.bin", list(toy.words), toy.vectors, newline=newline)
    assert WordVectors.load(tmp_path / "v.bin").words == toy.words


def test_truncated_binary_names_the_byte_offset(tmp_path, toy):
    _write_bin(tmp_path / "v.bin", list(toy.words), toy.vectors)
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:-7])
    with pytest.raises(DatasetFileError, match=r"truncated at byte \d+.*word 5 \('apple'\)"):
        WordVectors.load(tmp_path / "cut.bin")
    (tmp_path / "bad.bin").write_bytes(b"five 3\n")
    with pytest.raises(DatasetFileError, match="first line"):
        WordVectors.load(tmp_path / "bad.bin")


def test_malformed_text_names_the_line(tmp_path):
    (tmp_path / "g.txt").write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(DatasetFileError, match="line 2: expected a word and 3 numbers, got 2"):
        WordVectors.load(tmp_path / "g.txt")
    (tmp_path / "n.txt").write_text("a 1 2 3\nb 1 x 3\n")
    with pytest.raises(DatasetFileError, match=r"line 2.*not a number"):
        WordVectors.load(tmp_path / "n.txt")
    (tmp_path / "w.txt").write_text("3 2\na 1 2\nb 1 2\n")
    with pytest.raises(DatasetFileError, match="announces 3 words but the file holds 2"):
        WordVectors.load(tmp_path / "w.txt")
    with pytest.raises(DatasetFileError, match="not a file"):
        WordVectors.load(tmp_path / "missing.bin")
    (tmp_path / "z.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetFileError, match="npz"):
        WordVectors.load(tmp_path / "z.npz")
