"""WEAT (Caliskan et al. 2017) and SEAT (May et al. 2019): association tests with permutation p-values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text
from fairaudit._validation import (
    as_generator,
    check_count,
    check_n_permutations,
    format_values,
)
from fairaudit.embeddings._permutation import (
    Alternative,
    permutation_pvalue,
)
from fairaudit.embeddings._vectors import CasePolicy, MissingPolicy, WordVectors
from fairaudit.exceptions import DataError, MissingValueError

__all__ = ["WEATResult", "permutation_pvalue", "seat", "weat"]

_SET_KEYS = ("X", "Y", "A", "B")


@dataclass(frozen=True, eq=False)
class WEATResult(ResultMixin):
    """Result of a WEAT (or SEAT) association test.

    Attributes
    ----------
    statistic : float
        s(X, Y, A, B) = sum over x in X of s(x, A, B) minus the sum over y in Y, where
        s(w, A, B) = mean cos(w, a) - mean cos(w, b).
    effect_size : float
        (mean_X s(x, A, B) - mean_Y s(y, A, B)) / std over X and Y of s(w, A, B), with
        ``ddof``; Cohen's d-like, from -2 to 2.
    p_value : float
        One-sided (``"greater"``: X more associated with A than Y is) or two-sided
        permutation p-value over re-partitions of X and Y into sets of the same sizes.
    p_value_se : float
        Monte Carlo standard error sqrt(p (1 - p) / n); 0 for exact enumeration.
    method : {"exact", "monte_carlo"}
        How the p-value was computed.
    n_permutations : int
        Partitions enumerated (exact) or permutations drawn (Monte Carlo).
    alternative : {"greater", "less", "two-sided"}
    ddof : int
    random_state : int or None
        The seed given (None when a Generator or nothing was passed).
    names : dict
        Labels of the sets: keys ``"X"``, ``"Y"``, ``"A"``, ``"B"``.
    words : dict
        The words (or sentences) used per set, after dropping missing ones.
    dropped : dict
        Words left out per set because they are not in the vocabulary.
    associations : DataFrame
        s(w, A, B) per target word; see :meth:`to_frame`.
    source : {"word_vectors", "encoder"}
        WEAT on a WordVectors, or SEAT through an encoder.
    """

    statistic: float
    effect_size: float
    p_value: float
    p_value_se: float
    method: str
    n_permutations: int
    alternative: str
    ddof: int
    random_state: int | None
    names: dict[str, str]
    words: dict[str, tuple[str, ...]]
    dropped: dict[str, tuple[str, ...]]
    associations: pd.DataFrame = field(repr=False)
    source: str = "word_vectors"

    def to_frame(self) -> pd.DataFrame:
        """Association of each target word with A rather than B.

        Returns
        -------
        DataFrame
            Columns ``set`` ("X" or "Y"), ``target`` (the set's name), ``word`` and
            ``association`` (s(w, A, B) = mean cos(w, A) - mean cos(w, B)).
        """
        return self.associations.copy()

    def _title(self) -> str:
        n = self.names
        return f"{n['X']} vs {n['Y']} with {n['A']} vs {n['B']}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe result: the common keys plus every attribute."""
        how = (
            f"exact over {self.n_permutations:,} partitions"
            if self.method == "exact"
            else f"Monte Carlo, {self.n_permutations:,} permutations, SE {self.p_value_se:.2g}"
        )
        n = self.names
        summary = [
            f"{n['X']} are more associated with {n['A']} than {n['Y']} are (vs {n['B']}): "
            f"effect size {self.effect_size:.2f}, p = {self.p_value:.3g} ({how})"
        ]
        dropped = sum(len(v) for v in self.dropped.values())
        if dropped:
            summary.append(f"{dropped} words not in the vocabulary were left out")
        return json_safe(
            {
                "kind": "weat" if self.source == "word_vectors" else "seat",
                "schema_version": 1,
                "title": ("WEAT: " if self.source == "word_vectors" else "SEAT: ") + self._title(),
                "summary": summary,
                "parameters": {
                    "n_permutations": self.n_permutations,
                    "method": self.method,
                    "alternative": self.alternative,
                    "ddof": self.ddof,
                    "random_state": self.random_state,
                },
                "table": self.associations.to_dict(orient="records"),
                "statistic": self.statistic,
                "effect_size": self.effect_size,
                "p_value": self.p_value,
                "p_value_se": self.p_value_se,
                "names": self.names,
                "words": self.words,
                "dropped": self.dropped,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Dot plot of s(w, A, B) for the X and Y words, with their means."""
        ax = get_axes(ax)
        for k, (key, color) in enumerate((("X", "tab:orange"), ("Y", "tab:blue"))):
            part = self.associations[self.associations["set"] == key]
            jitter = np.linspace(-0.15, 0.15, max(len(part), 1))[: len(part)]
            ax.scatter(part["association"], k + jitter, color=color, alpha=0.7)
            ax.vlines(part["association"].mean(), k - 0.3, k + 0.3, color=color)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks([0, 1], [plot_text(self.names["X"]), plot_text(self.names["Y"])])
        ax.set_xlabel(plot_text(f"s(w, A, B): <- {self.names['B']}   {self.names['A']} ->"))
        ax.set_title(f"effect size {self.effect_size:.2f}, p = {self.p_value:.2g}")
        return ax


def _duplicates(words: list[str]) -> list[str]:
    """Words that occur more than once, sorted (one pass: a Counter, not list.count)."""
    return sorted(w for w, k in Counter(words).items() if k > 1)


def _as_words(words: Any, name: str) -> list[str]:
    if isinstance(words, str):
        raise TypeError(f"{name} must be a list of strings, got a single str {words!r}.")
    try:
        out = list(words)
    except TypeError as exc:
        raise TypeError(f"{name} must be a list of strings, got {type(words).__name__}.") from exc
    bad = [w for w in out if not isinstance(w, str)]
    if bad:
        raise TypeError(f"{name} must hold strings; got {format_values(bad)}.")
    dup = _duplicates(out)
    if dup:
        raise DataError(
            f"{name} holds duplicate entries {format_values(dup)}; each word may appear once."
        )
    return out


def _check_options(n_permutations: int, alternative: str, ddof: int) -> None:
    check_n_permutations(n_permutations)
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(
            f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}."
        )
    check_count(ddof, name="ddof", min_val=0, fix="Pass 1 (sample) or 0 (population).")


def _associations(targets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """s(w, A, B) for each row of ``targets`` (all rows unit-normalized)."""
    t = targets.astype(np.float64)
    return (t @ a.astype(np.float64).T).mean(axis=1) - (t @ b.astype(np.float64).T).mean(axis=1)


def _run(
    vecs: dict[str, np.ndarray],
    words: dict[str, list[str]],
    dropped: dict[str, list[str]],
    *,
    names: dict[str, str],
    n_permutations: int,
    exact: bool | None,
    alternative: str,
    ddof: int,
    random_state: Any,
    source: str,
) -> WEATResult:
    for key in _SET_KEYS:
        if vecs[key].shape[0] == 0:
            raise DataError(
                f"{key} ({names[key]}) is empty"
                + (f" after dropping {len(dropped[key])} missing words" if dropped[key] else "")
                + "; every set needs at least one word."
            )
    if vecs["X"].shape[0] + vecs["Y"].shape[0] < 3:
        raise DataError("X and Y together need at least 3 words for a standard deviation.")
    s_x = _associations(vecs["X"], vecs["A"], vecs["B"])
    s_y = _associations(vecs["Y"], vecs["A"], vecs["B"])
    s = np.concatenate([s_x, s_y])
    std = float(np.std(s, ddof=ddof))
    effect = (s_x.mean() - s_y.mean()) / std if std > 0 else float("nan")
    rng = as_generator(random_state)
    p, se, method, n_used = permutation_pvalue(
        s, s_x.size, n_permutations=n_permutations, exact=exact, alternative=alternative, rng=rng
    )
    table = pd.DataFrame(
        {
            "set": ["X"] * s_x.size + ["Y"] * s_y.size,
            "target": [names["X"]] * s_x.size + [names["Y"]] * s_y.size,
            "word": words["X"] + words["Y"],
            "association": s,
        }
    )
    return WEATResult(
        statistic=float(s_x.sum() - s_y.sum()),
        effect_size=float(effect),
        p_value=float(p),
        p_value_se=float(se),
        method=method,
        n_permutations=n_used,
        alternative=alternative,
        ddof=int(ddof),
        random_state=int(random_state) if isinstance(random_state, int | np.integer) else None,
        names=names,
        words={k: tuple(v) for k, v in words.items()},
        dropped={k: tuple(v) for k, v in dropped.items()},
        associations=table,
        source=source,
    )


def _names(names: Sequence[str] | None) -> dict[str, str]:
    if names is None:
        return dict(zip(_SET_KEYS, _SET_KEYS, strict=True))
    names = list(names)
    if len(names) != 4 or not all(isinstance(n, str) for n in names):
        raise ValueError(f"names must be four strings (X, Y, A, B), got {names!r}.")
    return dict(zip(_SET_KEYS, names, strict=True))


def weat(
    wv: WordVectors,
    X: Iterable[str],
    Y: Iterable[str],
    A: Iterable[str],
    B: Iterable[str],
    *,
    n_permutations: int = 10_000,
    exact: bool | None = None,
    alternative: Alternative = "greater",
    ddof: int = 0,
    missing: MissingPolicy = "error",
    names: Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = None,
    case: CasePolicy = "auto",
) -> WEATResult:
    """Test whether targets X are closer to attributes A than Y are (WEAT).

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    X, Y : iterable of str
        Target words (e.g. flowers, insects). They may differ in size (see Notes).
    A, B : iterable of str
        Attribute words (e.g. pleasant, unpleasant).
    n_permutations : int, default 10_000
        Permutations drawn for the Monte Carlo p-value.
    exact : bool or None, default None
        True computes the exact p-value over every partition of X and Y (counted by meet in
        the middle up to 44 targets, enumerated beyond, up to 50 million partitions); False
        always draws permutations; None is exact when |X| + |Y| <= 40 or there are at most
        1,000,000 partitions, and Monte Carlo otherwise.
    alternative : {"greater", "less", "two-sided"}, default "greater"
        "greater" is Caliskan et al.'s one-sided test (X more associated with A).
    ddof : int, default 0
        Delta degrees of freedom of the standard deviation in the effect size. 0 as in the
        common implementations; Caliskan et al.'s formula reads as a sample standard
        deviation, which is ``ddof=1``.
    missing : {"error", "drop"}, default "error"
        Words not in the vocabulary raise, or are left out (listed in ``dropped``, with an
        :class:`OutOfVocabularyWarning`).
    names : sequence of four str, optional
        Labels for X, Y, A, B in summaries and plots.
    random_state : int, Generator or None, default None
        Seed of the Monte Carlo permutations.
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`): on a lower-cased vocabulary such as
        GloVe 6B, ``"Adam"`` is found as ``"adam"``.

    Returns
    -------
    WEATResult
        ``statistic``, ``effect_size``, ``p_value``, ``p_value_se``, ``method``, per-word
        ``associations`` and the words used.

    Notes
    -----
    With s(w, A, B) = mean_a cos(w, a) - mean_b cos(w, b), the statistic is
    sum_x s(x, A, B) - sum_y s(y, A, B) and the p-value is the share of re-partitions
    (X', Y') of X u Y, with |X'| = |X|, whose statistic is at least the observed one
    (counting the observed partition). The exact p-value counts all C(|X|+|Y|, |X|)
    partitions: small cases are enumerated; larger ones use meet in the middle (the subset
    sums of each half of the targets, sorted and searched by size), which takes well under a
    second for 36 targets (7.3e9 partitions). The Monte Carlo draws uniformly random
    permutations (each a true permutation of the targets, sampled without replacement) and
    reports (count + 1) / (n + 1) with standard error sqrt(p (1 - p) / n).

    Policy on sets: all four sets must be non-empty and free of duplicates. X and Y may
    differ in size; the permutation distribution then keeps both sizes and the p-value
    stays valid, but the statistic (a difference of sums) is no longer centred on 0, so
    compare effect sizes rather than statistics. Words missing from the vocabulary raise
    unless ``missing="drop"``.

    References
    ----------
    Caliskan, A., Bryson, J. J., & Narayanan, A. (2017). Semantics derived automatically from
    language corpora contain human-like biases. Science, 356(6334), 183-186.

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, weat
    >>> wv = WordVectors(
    ...     ["rose", "tulip", "ant", "wasp", "love", "peace", "filth", "death"],
    ...     [[1, 0.1], [1, 0.2], [0.1, 1], [0.2, 1], [1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]],
    ... )
    >>> r = weat(wv, ["rose", "tulip"], ["ant", "wasp"], ["love", "peace"], ["filth", "death"])
    >>> round(r.effect_size, 3), r.p_value, r.method   # 1 of the 6 partitions is as extreme
    (1.996, 0.16666666666666666, 'exact')
    """
    if not isinstance(wv, WordVectors):
        raise TypeError(f"wv must be a WordVectors, got {type(wv).__name__}.")
    _check_options(n_permutations, alternative, ddof)
    sets = {k: _as_words(v, k) for k, v in zip(_SET_KEYS, (X, Y, A, B), strict=True)}
    words: dict[str, list[str]] = {}
    dropped: dict[str, list[str]] = {}
    for key, ws in sets.items():
        words[key], dropped[key] = wv.resolve(ws, missing=missing, name=key, case=case)
        folded_twice = _duplicates(words[key])
        if folded_twice:
            raise DataError(
                f"{key} holds words that differ only in case and are one word of this "
                f"vocabulary: {format_values(folded_twice)}; keep one spelling, or pass "
                "case='exact'."
            )
    overlap = sorted(set(words["X"]) & set(words["Y"]))
    if overlap:
        raise DataError(
            f"X and Y share the words {format_values(overlap)}; targets must be disjoint."
        )
    vecs = {k: wv.get_vectors(words[k]) for k in _SET_KEYS}
    return _run(
        vecs,
        words,
        dropped,
        names=_names(names),
        n_permutations=n_permutations,
        exact=exact,
        alternative=alternative,
        ddof=ddof,
        random_state=random_state,
        source="word_vectors",
    )


def _encode(encode: Callable[[list[str]], Any], texts: list[str], key: str) -> np.ndarray:
    out = np.asarray(encode(list(texts)), dtype=np.float64)
    if out.ndim != 2 or out.shape[0] != len(texts):
        raise DataError(
            f"encode() must return an array of shape (n_texts, dim); for {key} it returned "
            f"shape {out.shape} for {len(texts)} texts."
        )
    if not np.isfinite(out).all():
        raise MissingValueError(f"encode() returned NaN or infinite values for {key}.")
    norms = np.linalg.norm(out, axis=1)
    if (norms == 0).any():
        raise DataError(f"encode() returned all-zero vectors for {key}; cosines are undefined.")
    return out / norms[:, None]


def seat(
    encode: Callable[[list[str]], Any],
    X: Iterable[str],
    Y: Iterable[str],
    A: Iterable[str],
    B: Iterable[str],
    *,
    n_permutations: int = 10_000,
    exact: bool | None = None,
    alternative: Alternative = "greater",
    ddof: int = 0,
    names: Sequence[str] | None = None,
    random_state: int | np.random.Generator | None = None,
) -> WEATResult:
    """Sentence Encoder Association Test: the WEAT on the outputs of any sentence encoder.

    Parameters
    ----------
    encode : callable
        ``encode(list_of_texts) -> array of shape (n_texts, dim)``; called once per set.
    X, Y, A, B : iterable of str
        Target and attribute sentences (May et al. 2019 put words into templates such as
        "This is a rose.").
    n_permutations, exact, alternative, ddof, names, random_state
        As in :func:`weat`.

    Returns
    -------
    WEATResult
        With ``source="encoder"`` (``to_dict()["kind"] == "seat"``).

    References
    ----------
    May, C., Wang, A., Bordia, S., Bowman, S. R., & Rudinger, R. (2019). On measuring social
    biases in sentence encoders. NAACL.

    Examples
    --------
    >>> import numpy as np
    >>> from fairaudit.embeddings import seat
    >>> def encode(texts):  # a toy encoder: counts of "good" and "bad"
    ...     return np.array([[t.count("good") + 0.1, t.count("bad") + 0.1] for t in texts])
    >>> r = seat(encode, ["a good day.", "good news."], ["a bad day.", "bad news."],
    ...          ["good.", "very good."], ["bad.", "very bad."])
    >>> r.effect_size > 1.9, r.method
    (True, 'exact')
    """
    if not callable(encode):
        raise TypeError(f"encode must be a callable, got {type(encode).__name__}.")
    _check_options(n_permutations, alternative, ddof)
    sets = {k: _as_words(v, k) for k, v in zip(_SET_KEYS, (X, Y, A, B), strict=True)}
    for key, texts in sets.items():
        if not texts:
            raise DataError(f"{key} is empty; every set needs at least one text.")
    vecs = {k: _encode(encode, v, k) for k, v in sets.items()}
    return _run(
        vecs,
        sets,
        {k: [] for k in _SET_KEYS},
        names=_names(names),
        n_permutations=n_permutations,
        exact=exact,
        alternative=alternative,
        ddof=ddof,
        random_state=random_state,
        source="encoder",
    )
