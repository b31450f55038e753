"""Hard debiasing of word vectors: neutralize and equalize (Bolukbasi et al. 2016)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from fairaudit.embeddings._bias import as_direction
from fairaudit.embeddings._vectors import CasePolicy, WordVectors, check_case_policy, warn_dropped

__all__ = ["DebiasedWordVectors", "hard_debias"]

logger = logging.getLogger(__name__)


class DebiasedWordVectors(WordVectors):
    """The vectors returned by :func:`hard_debias`, with a record of what was done.

    A :class:`WordVectors` (every method works the same) with these extra attributes.

    Attributes
    ----------
    kept_specific : tuple of str
        Vocabulary words that kept their component along the direction (the gender-specific
        words found, with all their spellings that differ only in case when the lookup folds
        case).
    missing_specific : tuple of str
        Gender-specific words not in the vocabulary (nothing to keep for them).
    equalized : tuple of (str, str)
        The pairs equalized, spelled as in the vocabulary.
    skipped_pairs : tuple of (str, str)
        Equalize pairs left out because a word was not in the vocabulary.
    case : str
        The lookup policy that was applied: ``"exact"`` or ``"fold"``.
    """

    def __init__(
        self,
        words: Sequence[str],
        vectors: Any,
        *,
        kept_specific: Sequence[str] = (),
        missing_specific: Sequence[str] = (),
        equalized: Sequence[tuple[str, str]] = (),
        skipped_pairs: Sequence[tuple[str, str]] = (),
        case: str = "exact",
    ) -> None:
        super().__init__(words, vectors)
        self.kept_specific = tuple(kept_specific)
        self.missing_specific = tuple(missing_specific)
        self.equalized = tuple(equalized)
        self.skipped_pairs = tuple(skipped_pairs)
        self.case = case

    def __repr__(self) -> str:
        return (
            f"DebiasedWordVectors({len(self)} words, dim={self.dim}; "
            f"{len(self.kept_specific)} specific kept, {len(self.equalized)} pairs equalized, "
            f"{len(self.skipped_pairs)} skipped)"
        )


def _case_forms(a: str, b: str) -> list[tuple[str, str]]:
    forms = [(a.lower(), b.lower()), (a.title(), b.title()), (a.upper(), b.upper()), (a, b)]
    return list(dict.fromkeys(forms))


def hard_debias(
    wv: WordVectors,
    direction: Any,
    *,
    gender_specific: Iterable[str],
    equalize_pairs: Iterable[tuple[str, str]] = (),
    expand_case: bool = True,
    case: CasePolicy = "auto",
) -> DebiasedWordVectors:
    """Remove a bias direction from all words but the gender-specific ones (hard debiasing).

    Parameters
    ----------
    wv : WordVectors
        The embedding; it is left untouched.
    direction : array-like of shape (dim,) or BiasDirection
        The bias direction g (a one-dimensional bias subspace).
    gender_specific : iterable of str
        Words that keep their component along g (e.g. the 1,441 ``gender_specific`` words of
        :func:`fairaudit.datasets.load_wordlists`). Words absent from the vocabulary are
        listed in ``missing_specific`` of the result. Every other word is neutralized.
    equalize_pairs : iterable of (str, str), default ()
        Pairs made equidistant from every neutral word (e.g. ``("grandpa", "grandma")``).
        Pairs with a word missing from the vocabulary are skipped: listed in
        ``skipped_pairs`` of the result, with an :class:`OutOfVocabularyWarning`.
    expand_case : bool, default True
        Also equalize the lower-case, Title-case and UPPER-case forms of each pair when they
        are in the vocabulary, as Bolukbasi et al.'s code does.
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`). When it folds (``"fold"``, or
        ``"auto"`` on a lower-cased vocabulary such as GloVe 6B), a gender-specific word
        protects every spelling that differs from it only in case (``"Heir"`` keeps
        ``"heir"`` and ``"HEIR"``); ``"exact"`` protects the listed spelling only, as
        Bolukbasi et al.'s code does on the cased word2vec vectors.

    Returns
    -------
    DebiasedWordVectors
        A new :class:`WordVectors` whose vectors are unit length: neutral words have no
        component along g, gender-specific words are unchanged (normalized), and each
        equalized pair is symmetric about the neutral subspace. Its attributes
        ``kept_specific``, ``missing_specific``, ``equalized``, ``skipped_pairs`` and
        ``case`` record what was done.

    Warns
    -----
    OutOfVocabularyWarning
        When equalize pairs were skipped.

    Notes
    -----
    Neutralize: w <- (w - (w . g) g) / ||w - (w . g) g|| for every word not in
    ``gender_specific``. Equalize, for each pair E with mean mu and nu = mu - (mu . g) g:
    w <- nu + sqrt(1 - ||nu||^2) (w_g - mu_g) / ||w_g - mu_g||, where x_g = (x . g) g.
    Equalized words are processed after neutralization, so they end equalized even when
    they are not listed as gender-specific.

    Hard debiasing removes the projection on g but not the way words cluster by gender
    elsewhere: Gonen & Goldberg (2019) recover most of the bias from the neighbours of
    "debiased" words.

    References
    ----------
    Bolukbasi et al. (2016), section 5.

    Examples
    --------
    >>> import numpy as np
    >>> from fairaudit.embeddings import WordVectors, hard_debias
    >>> wv = WordVectors(["he", "she", "nurse"], [[1, 1, 0], [-1, 1, 0], [-0.5, 0, 1]])
    >>> new = hard_debias(wv, [1, 0, 0], gender_specific=["He", "She"])  # uncased: folded
    >>> new["nurse"].round(3).tolist(), wv["nurse"].tolist()   # the input is untouched
    ([0.0, 0.0, 1.0], [-0.5, 0.0, 1.0])
    >>> new.kept_specific
    ('he', 'she')
    """
    if not isinstance(wv, WordVectors):
        raise TypeError(f"wv must be a WordVectors, got {type(wv).__name__}.")
    g = as_direction(direction, wv.dim)
    check_case_policy(case)
    if isinstance(gender_specific, str):
        raise TypeError("gender_specific must be a list of words, got a single str.")
    folds = case == "fold" or (case == "auto" and not wv.is_cased)
    specific_words = list(gender_specific)
    neutral = np.ones(len(wv), dtype=bool)
    missing_specific: list[str] = []
    if folds:
        wanted = {w.lower() for w in specific_words}
        rows = [i for i, w in enumerate(wv.words) if w.lower() in wanted]
        found = {wv.words[i].lower() for i in rows}
        missing_specific = [w for w in specific_words if w.lower() not in found]
    else:
        rows = [i for i in (wv.find(w, case="exact") for w in specific_words) if i is not None]
        missing_specific = [w for w in specific_words if w not in wv]
    rows = list(dict.fromkeys(rows))
    neutral[rows] = False
    vectors = wv.normed.astype(np.float64)  # a fresh copy; wv is not modified
    proj = vectors[neutral] @ g
    vectors[neutral] -= proj[:, None] * g[None, :]
    norms = np.linalg.norm(vectors[neutral], axis=1)
    degenerate = norms < 1e-8
    if degenerate.any():
        # A word lying along g has nothing left after neutralizing; keep it unchanged.
        idx = np.flatnonzero(neutral)[degenerate]
        vectors[idx] = wv.normed[idx]
        norms[degenerate] = 1.0
        logger.warning("hard_debias: %d words lie along the direction; left unchanged", idx.size)
    vectors[neutral] /= norms[:, None]

    pairs: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    n_given = 0
    lookup: CasePolicy = "fold" if folds else "exact"
    for pair in equalize_pairs:
        if isinstance(pair, str) or len(pair) != 2:
            raise ValueError(f"equalize_pairs must hold (word, word) pairs, got {pair!r}.")
        n_given += 1
        forms = _case_forms(*pair) if expand_case else [(pair[0], pair[1])]
        found_pairs = []
        for a, b in forms:
            ia, ib = wv.find(a, case=lookup), wv.find(b, case=lookup)
            if ia is not None and ib is not None and ia != ib:
                found_pairs.append((wv.words[ia], wv.words[ib]))
        if not found_pairs:
            skipped.append((pair[0], pair[1]))
        pairs.extend(found_pairs)
    equalized = list(dict.fromkeys(pairs))
    warn_dropped(
        skipped,
        "equalize pairs",
        n_given,
        field="skipped_pairs",
        hint="check the pairs' spelling",
        stacklevel=2,
    )
    for a, b in equalized:
        ia, ib = wv.index_of(a, case="exact"), wv.index_of(b, case="exact")
        # Equalize from the original unit vectors, as Bolukbasi et al. do after normalizing.
        va, vb = wv.normed[ia].astype(np.float64), wv.normed[ib].astype(np.float64)
        mu = (va + vb) / 2
        nu = mu - (mu @ g) * g
        scale = np.sqrt(max(1.0 - float(nu @ nu), 0.0))
        for i, v in ((ia, va), (ib, vb)):
            side = (v @ g - mu @ g) * g
            norm = np.linalg.norm(side)
            vectors[i] = nu + scale * side / norm if norm > 0 else v
    return DebiasedWordVectors(
        wv.words,
        vectors.astype(np.float32),
        kept_specific=[wv.words[i] for i in rows],
        missing_specific=missing_specific,
        equalized=equalized,
        skipped_pairs=skipped,
        case=lookup,
    )
