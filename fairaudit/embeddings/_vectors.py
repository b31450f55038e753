"""WordVectors: a vocabulary, a float32 matrix and its unit-normalized copy."""

from __future__ import annotations

import logging
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from fairaudit._validation import format_values
from fairaudit.embeddings import _io
from fairaudit.exceptions import (
    DataError,
    DatasetFileError,
    DatasetWarning,
    FairauditError,
    MissingValueError,
)

__all__ = ["OutOfVocabularyError", "OutOfVocabularyWarning", "WordVectors"]

logger = logging.getLogger(__name__)

MissingPolicy = Literal["error", "drop"]
CasePolicy = Literal["auto", "exact", "fold"]
AnalogyMethod = Literal["3cosadd", "3cosmul"]

# A vocabulary counts as uncased when at most this share of its words carries an upper-case
# letter (GloVe 6B is lower-cased but a stray token must not flip the whole policy).
_CASED_SHARE = 1e-4

# Queries answered per matrix product in analogy(): bounds memory to about
# _QUERY_BLOCK * vocabulary * 4 bytes (26 MB at 26k words).
_QUERY_BLOCK = 256


class OutOfVocabularyError(DataError, KeyError):
    """Words that are not in the vocabulary of a :class:`WordVectors`."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OutOfVocabularyWarning(DatasetWarning):
    """Words left out of a computation because they are not in the vocabulary."""


def _check_missing_policy(missing: str) -> None:
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}.")


def check_case_policy(case: str) -> None:
    """Raise a ValueError unless ``case`` is one of the lookup case policies."""
    if case not in ("auto", "exact", "fold"):
        raise ValueError(f"case must be 'auto', 'exact' or 'fold', got {case!r}.")


def warn_dropped(
    dropped: Sequence[Any],
    what: str,
    n_total: int,
    *,
    field: str = "dropped",
    hint: str = "pass missing='error' to stop instead",
    stacklevel: int = 3,
) -> None:
    """Warn that ``dropped`` items of ``what`` were left out (never skip silently)."""
    if not dropped:
        return
    n = len(dropped)
    warnings.warn(
        f"{n} of {n_total} {what} not in the vocabulary were left out: "
        f"{format_values(list(dropped))}. The result lists them in `{field}`; {hint}, "
        "or case='fold' if they differ only in case.",
        OutOfVocabularyWarning,
        stacklevel=stacklevel + 1,
    )


class WordVectors:
    """Word vectors: words in frequency order, a float32 matrix and its unit-normalized copy.

    Parameters
    ----------
    words : sequence of str
        The vocabulary, most frequent first (the order of the source file is kept; it is what
        ``restrict_vocab`` arguments cut).
    vectors : array-like of shape (n_words, dim)
        One row per word. Stored as float32. Rows must be finite and non-zero.

    Attributes
    ----------
    words : tuple of str
        The vocabulary in the given order.
    vectors : ndarray of shape (n_words, dim), float32, read-only
        The vectors as given.
    normed : ndarray of shape (n_words, dim), float32, read-only
        Each row divided by its Euclidean norm; every similarity is computed on these.
    dim : int
        Vector dimension.

    Notes
    -----
    The object is immutable: the arrays are read-only copies, and operations that change
    vectors (:func:`~fairaudit.embeddings.hard_debias`) return a new object.

    Examples
    --------
    >>> wv = WordVectors(["he", "she", "doctor"], [[1, 0], [0, 1], [1, 1]])
    >>> len(wv), wv.dim, "she" in wv
    (3, 2, True)
    >>> wv.normed[2].round(4).tolist()
    [0.7071, 0.7071]
    >>> wv["nurse"]
    Traceback (most recent call last):
    ...
    fairaudit.embeddings._vectors.OutOfVocabularyError: 1 word not in the vocabulary of 3 words: ['nurse']. Check spelling and case, or remove them from the lookup.
    """

    def __init__(self, words: Sequence[str], vectors: Any) -> None:
        if isinstance(words, str):
            raise TypeError("words must be a sequence of strings, got a single str.")
        words = tuple(words)
        bad = [w for w in words if not isinstance(w, str)]
        if bad:
            raise TypeError(f"words must be strings; got non-strings {format_values(bad)}.")
        matrix = np.array(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            raise DataError(
                f"vectors must be a 2-D array (n_words, dim), got shape {matrix.shape}."
            )
        if matrix.shape[0] != len(words):
            raise DataError(
                f"vectors has {matrix.shape[0]} rows but words has {len(words)} entries; "
                "pass one row per word."
            )
        if matrix.shape[1] == 0:
            raise DataError("vectors has 0 columns; expected a dimension of at least 1.")
        index: dict[str, int] = {}
        duplicates: list[str] = []
        for i, w in enumerate(words):
            if w in index:
                duplicates.append(w)
            else:
                index[w] = i
        if duplicates:
            raise DataError(
                f"words must be unique; {len(duplicates)} duplicates: "
                f"{format_values(duplicates)}. Keep one row per word (e.g. the first)."
            )
        finite = np.isfinite(matrix).all(axis=1)
        if not finite.all():
            raise MissingValueError(
                f"{int((~finite).sum())} vectors contain NaN or infinite values: "
                f"{format_values([words[i] for i in np.flatnonzero(~finite)])}. "
                "Remove those words first."
            )
        norms = np.linalg.norm(matrix, axis=1)
        zero = norms == 0
        if zero.any():
            raise DataError(
                f"{int(zero.sum())} vectors are all zeros and have no direction: "
                f"{format_values([words[i] for i in np.flatnonzero(zero)])}. "
                "Remove those words first."
            )
        normed = matrix / norms[:, None]
        matrix.flags.writeable = False
        normed.flags.writeable = False
        self._words = words
        self._index = index
        self._vectors = matrix
        self._normed = normed
        self._folded: dict[str, int] | None = None
        self._cased: bool | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        format: Literal["word2vec", "word2vec_text", "glove", "npz"] | None = None,
        limit: int | None = None,
    ) -> WordVectors:
        """Read vectors from a file.

        Parameters
        ----------
        path : str or path-like
            The file.
        format : {"word2vec", "word2vec_text", "glove", "npz"} or None, default None
            ``"word2vec"`` is the C binary format (``.bin``), ``"word2vec_text"`` the text
            format with a ``"<n> <dim>"`` header, ``"glove"`` text without a header, and
            ``"npz"`` the archive written by :meth:`save`. None guesses from the suffix
            and the first line. Binary and text files may be gzip-compressed (``.gz``).
        limit : int or None, default None
            Read only the first ``limit`` words (the most frequent ones in word2vec files).

        Returns
        -------
        WordVectors
            Words in file order.

        Raises
        ------
        DatasetFileError
            The file is missing, truncated or malformed; the message gives the byte offset
            or line where reading failed.
        """
        p = Path(path)
        if not p.is_file():
            raise DatasetFileError(f"path {str(p)!r} is not a file.")
        if format is not None and format not in _io.FORMATS:
            raise ValueError(f"format must be one of {_io.FORMATS} or None, got {format!r}.")
        if limit is not None and (not isinstance(limit, int | np.integer) or limit < 1):
            raise ValueError(f"limit must be a positive int or None, got {limit!r}.")
        fmt: str = format or "the guessed format"
        try:
            fmt = format or _io.detect_format(p)
            if fmt == "word2vec":
                words, vectors = _io.read_word2vec_binary(p, limit=limit)
            elif fmt == "npz":
                words, vectors = _io.read_npz(p)
                if limit is not None:
                    words, vectors = words[:limit], vectors[:limit]
            else:
                words, vectors = _io.read_text(p, header=fmt == "word2vec_text", limit=limit)
            logger.info("read %d vectors of dimension %d from %s", len(words), vectors.shape[1], p)
            return cls(words, vectors)
        except FairauditError as exc:
            if isinstance(exc, DatasetFileError):
                raise
            # the vectors are unusable (zero, NaN, duplicated words): a property of the file
            raise DatasetFileError(f"{p}: {exc}") from exc
        except (
            UnicodeDecodeError,
            EOFError,
            OSError,
            zipfile.BadZipFile,
            zlib.error,
            IndexError,
            KeyError,
            ValueError,
            MemoryError,
        ) as exc:
            # corrupt compression, a cut archive, an impossible shape: never a raw exception
            raise DatasetFileError(
                f"{p}: cannot read it as {fmt} ({type(exc).__name__}: {exc}). The file is "
                "corrupt, truncated or of another format; re-copy it, or pass format=."
            ) from exc

    @classmethod
    def from_gensim(cls, kv: Any) -> WordVectors:
        """Build from a gensim ``KeyedVectors`` (words in its ``index_to_key`` order).

        Parameters
        ----------
        kv : gensim.models.KeyedVectors
            Or any object with ``index_to_key`` and ``vectors`` attributes.

        Returns
        -------
        WordVectors
        """
        if not (hasattr(kv, "index_to_key") and hasattr(kv, "vectors")):
            raise TypeError(
                "kv must be a gensim KeyedVectors (with index_to_key and vectors), "
                f"got {type(kv).__name__}."
            )
        return cls(list(kv.index_to_key), np.asarray(kv.vectors))

    def save(
        self, path: str | os.PathLike[str], *, dtype: Literal["float32", "float16"] = "float32"
    ) -> None:
        """Write a compressed ``.npz`` (arrays ``words`` and ``vectors``) that :meth:`load` reads.

        Parameters
        ----------
        path : str or path-like
            Destination; numpy adds ``.npz`` when missing.
        dtype : {"float32", "float16"}, default "float32"
            float16 halves the size; similarities change in the third or fourth decimal.
        """
        if dtype not in ("float32", "float16"):
            raise ValueError(f"dtype must be 'float32' or 'float16', got {dtype!r}.")
        _io.write_npz(path, list(self._words), self._vectors, dtype=dtype)

    # -- container protocol -------------------------------------------------------------
    @property
    def words(self) -> tuple[str, ...]:
        """The vocabulary, in the order given (frequency order for shipped vectors)."""
        return self._words

    @property
    def vectors(self) -> np.ndarray:
        """The vectors as given (read-only float32)."""
        return self._vectors

    @property
    def normed(self) -> np.ndarray:
        """Unit-normalized vectors (read-only float32)."""
        return self._normed

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return word in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __getitem__(self, word: str) -> np.ndarray:
        """Return the vector of ``word`` as given (a read-only view)."""
        return self._vectors[self.index_of(word)]

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, dim={self.dim})"

    @property
    def is_cased(self) -> bool:
        """Whether the vocabulary distinguishes case (some words carry upper-case letters).

        GloVe 6B is lower-cased (uncased); the Google News word2vec and fastText vectors are
        cased. A vocabulary counts as uncased when at most one word in 10,000 carries an
        upper-case letter, so that a stray token does not change the lookup policy.

        Examples
        --------
        >>> WordVectors(["paris", "london"], [[1, 0], [0, 1]]).is_cased
        False
        >>> WordVectors(["Paris", "london"], [[1, 0], [0, 1]]).is_cased
        True
        """
        if self._cased is None:
            n_upper = sum(1 for w in self._words if w != w.lower())
            self._cased = n_upper > _CASED_SHARE * len(self._words)
        return self._cased

    def _fold_index(self) -> dict[str, int]:
        # lower-cased form -> row of its most frequent spelling (the first in file order)
        if self._folded is None:
            folded: dict[str, int] = {}
            for i, w in enumerate(self._words):
                folded.setdefault(w.lower(), i)
            self._folded = folded
        return self._folded

    def _folds(self, case: str) -> bool:
        check_case_policy(case)
        return case == "fold" or (case == "auto" and not self.is_cased)

    def find(self, word: str, *, case: CasePolicy = "auto") -> int | None:
        """Row of ``word`` under a case policy, or None when it is not in the vocabulary.

        Parameters
        ----------
        word : str
            The word to look up.
        case : {"auto", "exact", "fold"}, default "auto"
            ``"exact"``: only the word as spelled. ``"fold"``: the word as spelled if present,
            else its most frequent spelling that differs only in case (``"Mary"`` finds
            ``"mary"``, and ``"nasa"`` finds ``"NASA"``). ``"auto"``: ``"fold"`` on an
            uncased vocabulary (:attr:`is_cased` False, e.g. GloVe 6B), ``"exact"`` on a
            cased one (word2vec, fastText), where ``"Bill"`` and ``"bill"`` are different
            words.

        Examples
        --------
        >>> wv = WordVectors(["mary", "john"], [[1, 0], [0, 1]])
        >>> wv.find("Mary"), wv.find("Mary", case="exact"), wv.find("Paul")
        (0, None, None)
        """
        folds = self._folds(case)
        if not isinstance(word, str):
            return None
        i = self._index.get(word)
        if i is None and folds:
            i = self._fold_index().get(word.lower())
        return i

    def index_of(self, word: str, *, case: CasePolicy = "auto") -> int:
        """Row of ``word`` (raises :class:`OutOfVocabularyError` when missing).

        ``case`` is the lookup policy of :meth:`find`.
        """
        i = self.find(word, case=case)
        if i is None:
            raise self._missing_error([word], "the lookup", can_drop=False)
        return i

    def _raise_missing(
        self, missing: Sequence[Any], name: str = "words", *, can_drop: bool = True
    ) -> None:
        raise self._missing_error(missing, name, can_drop=can_drop)

    def _missing_error(
        self, missing: Sequence[Any], name: str = "words", *, can_drop: bool = True
    ) -> OutOfVocabularyError:
        n = len(missing)
        fix = (
            f"Check spelling and case, or pass missing='drop' to leave them out of {name}."
            if can_drop
            else f"Check spelling and case, or remove them from {name}."
        )
        return OutOfVocabularyError(
            f"{n} word{'s' if n != 1 else ''} not in the vocabulary of {len(self)} words: "
            f"{format_values(list(missing))}. {fix}"
        )

    def split_known(
        self, words: Iterable[str], *, case: CasePolicy = "auto"
    ) -> tuple[list[str], list[str]]:
        """Split ``words`` into those in the vocabulary and those not (order kept).

        Parameters
        ----------
        words : iterable of str
            Words to look up.
        case : {"auto", "exact", "fold"}, default "auto"
            Lookup policy (see :meth:`find`).

        Returns
        -------
        known : list of str
            The vocabulary's spelling of each word found (``"Mary"`` comes back as
            ``"mary"`` when folded), in the given order.
        missing : list of str
            The words not found, as given.

        Examples
        --------
        >>> WordVectors(["a", "b"], [[1, 0], [0, 1]]).split_known(["a", "z", "B"])
        (['a', 'b'], ['z'])
        """
        if isinstance(words, str):
            raise TypeError("words must be a list of strings, got a single str.")
        check_case_policy(case)
        known: list[str] = []
        missing: list[str] = []
        for w in words:
            i = self.find(w, case=case)
            if i is None:
                missing.append(w)
            else:
                known.append(self._words[i])
        return known, missing

    def resolve(
        self,
        words: Iterable[str],
        *,
        missing: MissingPolicy = "error",
        name: str = "words",
        case: CasePolicy = "auto",
    ) -> tuple[list[str], list[str]]:
        """Check ``words`` against the vocabulary under a missing-word and a case policy.

        Parameters
        ----------
        words : iterable of str
            Words to look up.
        missing : {"error", "drop"}, default "error"
            ``"error"`` raises :class:`OutOfVocabularyError` listing the missing words;
            ``"drop"`` leaves them out, warns (:class:`OutOfVocabularyWarning`) and returns
            them.
        name : str, default "words"
            Argument name for messages.
        case : {"auto", "exact", "fold"}, default "auto"
            Lookup policy (see :meth:`find`): by default a lower-cased vocabulary such as
            GloVe 6B finds ``"Mary"`` as ``"mary"``.

        Returns
        -------
        kept : list of str
            The vocabulary's spelling of the words found, in the given order.
        dropped : list of str
            Words not found (empty under ``"error"``).

        Warns
        -----
        OutOfVocabularyWarning
            With ``missing="drop"``, when words were left out.

        Examples
        --------
        >>> wv = WordVectors(["mary", "john"], [[1, 0], [0, 1]])
        >>> wv.resolve(["Mary", "John"])
        (['mary', 'john'], [])
        """
        _check_missing_policy(missing)
        known, unknown = self.split_known(words, case=case)
        if unknown:
            if missing == "error":
                self._raise_missing(unknown, name)
            n_total = len(known) + len(unknown)
            warn_dropped(unknown, f"words of {name}", n_total, stacklevel=3)
        return known, unknown

    def get_vectors(
        self,
        words: Iterable[str],
        *,
        norm: bool = True,
        missing: MissingPolicy = "error",
        case: CasePolicy = "auto",
    ) -> np.ndarray:
        """Stack the vectors of ``words`` (unit-normalized by default).

        Parameters
        ----------
        words : iterable of str
            Words to look up.
        norm : bool, default True
            Unit-normalized rows (True) or the vectors as given.
        missing : {"error", "drop"}, default "error"
            Policy for words not in the vocabulary (see :meth:`resolve`).
        case : {"auto", "exact", "fold"}, default "auto"
            Lookup policy (see :meth:`find`).

        Returns
        -------
        ndarray of shape (n_found, dim)
        """
        kept, _ = self.resolve(words, missing=missing, case=case)
        rows = [self._index[w] for w in kept]  # kept holds the vocabulary's spellings
        source = self._normed if norm else self._vectors
        return source[rows]

    def similarity(self, w1: str, w2: str) -> float:
        """Cosine similarity of two words.

        Examples
        --------
        >>> wv = WordVectors(["a", "b"], [[1, 0], [1, 1]])
        >>> round(wv.similarity("a", "b"), 4)
        0.7071
        """
        return float(
            np.clip(self._normed[self.index_of(w1)] @ self._normed[self.index_of(w2)], -1, 1)
        )

    def subset(self, words: int | Iterable[str]) -> WordVectors:
        """Return a new WordVectors with the first ``words`` words, or with the given words only.

        Examples
        --------
        >>> WordVectors(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]]).subset(2).words
        ('a', 'b')
        """
        if isinstance(words, int | np.integer):
            n = int(words)
            if n < 1:
                raise ValueError(f"words must be a positive count, got {n}.")
            return WordVectors(self._words[:n], self._vectors[:n])
        kept, _ = self.resolve(words)
        rows = [self._index[w] for w in kept]
        return WordVectors(kept, self._vectors[rows])

    # -- neighbours and analogies -------------------------------------------------------
    def most_similar(
        self,
        positive: str | Sequence[str] = (),
        negative: str | Sequence[str] = (),
        *,
        topn: int = 10,
        restrict_vocab: int | None = None,
        case: CasePolicy = "auto",
    ) -> list[tuple[str, float]]:
        """Words closest to the mean of ``positive`` minus ``negative`` unit vectors.

        Same definition as gensim's ``KeyedVectors.most_similar``: the query is the mean of
        the unit vectors of ``positive`` and the negated unit vectors of ``negative``,
        normalized; input words are excluded from the answers.

        Parameters
        ----------
        positive, negative : str or sequence of str
            Words to add and to subtract.
        topn : int, default 10
            Number of answers.
        restrict_vocab : int or None, default None
            Search only the first ``restrict_vocab`` (most frequent) words.
        case : {"auto", "exact", "fold"}, default "auto"
            Lookup policy for the input words (see :meth:`find`).

        Returns
        -------
        list of (word, cosine similarity)
            Best first.

        Examples
        --------
        >>> wv = WordVectors(["a", "b", "c"], [[1, 0], [0.9, 0.1], [0, 1]])
        >>> [w for w, _ in wv.most_similar("a", topn=2)]
        ['b', 'c']
        """
        pos = [positive] if isinstance(positive, str) else list(positive)
        neg = [negative] if isinstance(negative, str) else list(negative)
        if not pos and not neg:
            raise ValueError("most_similar needs at least one positive or negative word.")
        n_cand = self._check_candidates(restrict_vocab, topn)
        known, unknown = self.split_known(pos + neg, case=case)
        if unknown:
            self._raise_missing(unknown, "positive and negative", can_drop=False)
        pos, neg = known[: len(pos)], known[len(pos) :]
        query = self.get_vectors(pos).sum(axis=0) - self.get_vectors(neg).sum(axis=0)
        query = query / max(float(np.linalg.norm(query)), np.finfo(np.float32).tiny)
        scores = self._normed[:n_cand] @ query
        exclude = [self._index[w] for w in known if self._index[w] < n_cand]
        scores[exclude] = -np.inf
        top = _top_k(scores[None, :], topn)[0]
        return [(self._words[i], float(scores[i])) for i in top if np.isfinite(scores[i])]

    def _check_candidates(self, restrict_vocab: int | None, topn: int) -> int:
        if not isinstance(topn, int | np.integer) or isinstance(topn, bool) or topn < 1:
            raise ValueError(f"topn must be a positive int, got {topn!r}.")
        if restrict_vocab is None:
            return len(self)
        if not isinstance(restrict_vocab, int | np.integer) or restrict_vocab < 1:
            raise ValueError(
                f"restrict_vocab must be a positive int or None, got {restrict_vocab!r}."
            )
        return min(int(restrict_vocab), len(self))

    def analogy_scores(
        self,
        a: str | Sequence[str],
        b: str | Sequence[str],
        c: str | Sequence[str],
        *,
        topn: int = 1,
        method: AnalogyMethod = "3cosadd",
        exclude_inputs: bool = True,
        restrict_vocab: int | None = None,
        case: CasePolicy = "auto",
    ) -> tuple[list[tuple[str, str, str]], np.ndarray, np.ndarray]:
        """Answer analogies ``a : b :: c : ?`` and return the word rows and their scores.

        The batch version of :meth:`analogy`; see there for the parameters.

        Returns
        -------
        queries : list of (a, b, c)
            The queries in order.
        indices : ndarray of int, shape (n_queries, topn)
            Rows of the answers in :attr:`words`, best first.
        scores : ndarray of float, shape (n_queries, topn)
            Their 3CosAdd or 3CosMul scores.
        """
        queries = _as_queries(a, b, c)
        if method not in ("3cosadd", "3cosmul"):
            raise ValueError(f"method must be '3cosadd' or '3cosmul', got {method!r}.")
        n_cand = self._check_candidates(restrict_vocab, topn)
        topn = min(topn, n_cand)
        flat = [w for q in queries for w in q]
        known, unknown = self.split_known(flat, case=case)
        if unknown:
            self._raise_missing(list(dict.fromkeys(unknown)), "the analogy queries", can_drop=False)
        rows = np.array([self._index[w] for w in known], dtype=np.intp).reshape(-1, 3)
        candidates = self._normed[:n_cand]
        out_idx = np.empty((len(queries), topn), dtype=np.intp)
        out_scores = np.empty((len(queries), topn), dtype=np.float64)
        for start in range(0, len(queries), _QUERY_BLOCK):
            block = rows[start : start + _QUERY_BLOCK]
            va, vb, vc = (self._normed[block[:, k]] for k in range(3))
            if method == "3cosadd":
                # gensim's most_similar(positive=[b, c], negative=[a]): the normalized
                # sum of unit vectors; its ranking is that of cos(x,b) - cos(x,a) + cos(x,c).
                query = vb - va + vc
                query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-30)
                scores = np.clip(query @ candidates.T, -1.0, 1.0)
            else:
                # Levy & Goldberg (2014): cosines shifted to [0, 1], as gensim's
                # most_similar_cosmul.
                sa, sb, sc = (
                    (1.0 + np.clip(v @ candidates.T, -1.0, 1.0)) / 2.0 for v in (va, vb, vc)
                )
                scores = sb * sc / (sa + 1e-6)
            if exclude_inputs:
                r = np.repeat(np.arange(len(block)), 3)
                cols = block.ravel()
                keep = cols < n_cand
                scores[r[keep], cols[keep]] = -np.inf
            top = _top_k(scores, topn)
            out_idx[start : start + len(block)] = top
            out_scores[start : start + len(block)] = np.take_along_axis(scores, top, axis=1)
        return queries, out_idx, out_scores

    def analogy(
        self,
        a: str | Sequence[str],
        b: str | Sequence[str],
        c: str | Sequence[str],
        *,
        topn: int = 1,
        method: AnalogyMethod = "3cosadd",
        exclude_inputs: bool = True,
        restrict_vocab: int | None = None,
        case: CasePolicy = "auto",
    ) -> str | list[str] | list[list[str]]:
        """Complete ``a : b :: c : ?`` (e.g. man : king :: woman : queen).

        Parameters
        ----------
        a, b, c : str, or sequences of str of equal length
            One query, or a batch answered with one matrix product per block of 256 queries.
        topn : int, default 1
            Number of answers per query.
        method : {"3cosadd", "3cosmul"}, default "3cosadd"
            3CosAdd ranks words x by cos(x, b) - cos(x, a) + cos(x, c) (Mikolov et al.
            2013); 3CosMul by cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6) with
            cos' = (1 + cos) / 2 (Levy & Goldberg 2014).
        exclude_inputs : bool, default True
            Leave a, b and c out of the answers, as gensim and the original word2vec tool
            do. Nissim et al. (2019) show that this exclusion manufactures some "biased"
            analogies (the true nearest word is often b itself); pass False to see them.
        restrict_vocab : int or None, default None
            Answer only from the first ``restrict_vocab`` (most frequent) words.
        case : {"auto", "exact", "fold"}, default "auto"
            Lookup policy for a, b and c (see :meth:`find`).

        Returns
        -------
        str, list of str, or list of list of str
            One query with ``topn=1``: the answer; one query with ``topn > 1``: a list of
            answers; a batch: one answer (``topn=1``) or one list per query.

        Examples
        --------
        >>> wv = WordVectors(
        ...     ["man", "woman", "king", "queen", "apple"],
        ...     [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, -1]],
        ... )
        >>> wv.analogy("man", "king", "woman")
        'queen'
        >>> wv.analogy(["man", "king"], ["woman", "queen"], ["king", "man"])
        ['queen', 'woman']
        """
        _, idx, _ = self.analogy_scores(
            a,
            b,
            c,
            topn=topn,
            method=method,
            exclude_inputs=exclude_inputs,
            restrict_vocab=restrict_vocab,
            case=case,
        )
        answers = [[self._words[i] for i in row] for row in idx]
        if isinstance(a, str):
            return answers[0][0] if topn == 1 else answers[0]
        if topn == 1:
            return [row[0] for row in answers]
        return answers


def _as_queries(
    a: str | Sequence[str], b: str | Sequence[str], c: str | Sequence[str]
) -> list[tuple[str, str, str]]:
    args = {"a": a, "b": b, "c": c}
    if all(isinstance(v, str) for v in args.values()):
        return [(str(a), str(b), str(c))]
    if any(isinstance(v, str) for v in args.values()):
        raise TypeError(
            "a, b and c must all be strings (one query) or all sequences of strings "
            "(a batch); got a mix."
        )
    lists = {k: list(v) for k, v in args.items()}
    lengths = {k: len(v) for k, v in lists.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"a, b and c must have the same length, got lengths {lengths}.")
    if lengths["a"] == 0:
        raise ValueError("a, b and c are empty; pass at least one query.")
    return list(zip(lists["a"], lists["b"], lists["c"], strict=True))


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k largest values in each row, largest first."""
    n = scores.shape[1]
    if k == 1:  # the usual analogy query; argmax is much faster than argpartition
        return np.argmax(scores, axis=1)[:, None]
    if k >= n:
        part = np.broadcast_to(np.arange(n), scores.shape).copy()
    else:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
