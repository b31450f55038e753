"""Bias direction, projections, direct and indirect bias (Bolukbasi et al. 2016)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text
from fairaudit.embeddings._vectors import CasePolicy, MissingPolicy, WordVectors
from fairaudit.exceptions import DataError, DatasetWarning

__all__ = [
    "BiasDirection",
    "DirectBias",
    "as_direction",
    "bias_direction",
    "direct_bias",
    "indirect_bias",
    "project",
]

# Bolukbasi et al. (2016) found one dominant component among the definitional pair
# differences; below this share the "direction" is not one.
_MIN_FIRST_COMPONENT = 0.5


@dataclass(frozen=True, eq=False)
class BiasDirection(ResultMixin):
    """A unit bias direction and how it was found.

    ``np.asarray(direction)`` gives the vector, so a BiasDirection can be passed wherever a
    direction array is expected.

    Attributes
    ----------
    vector : ndarray of shape (dim,)
        Unit vector. Its sign is fixed so that the first word of the first pair projects
        positively relative to the second (``(w1 - w2) . g > 0``).
    method : {"pca", "single", "mean_difference"}
        How it was computed.
    pairs : tuple of (str, str)
        The definitional pairs used, spelled as in the vocabulary (``("mary", "john")`` on a
        lower-cased vocabulary).
    explained_variance_ratio : ndarray
        For ``"pca"``: the share of variance of each principal component of the centred
        pairs (at most ``2 * n_pairs`` components). For other methods: ``[1.0]``.
    dropped : tuple of (str, str)
        Pairs left out because a word was missing (``missing="drop"``).
    """

    vector: np.ndarray
    method: str
    pairs: tuple[tuple[str, str], ...]
    explained_variance_ratio: np.ndarray
    dropped: tuple[tuple[str, str], ...] = ()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.vector, dtype=dtype)

    @property
    def positive_end(self) -> str:
        """First word of the first pair (the positive side of the axis)."""
        return self.pairs[0][0]

    @property
    def negative_end(self) -> str:
        """Second word of the first pair (the negative side of the axis)."""
        return self.pairs[0][1]

    def to_frame(self) -> pd.DataFrame:
        """Explained variance per component: columns ``component`` (1-based), ``explained_variance_ratio``."""
        ratio = np.asarray(self.explained_variance_ratio, dtype=float)
        return pd.DataFrame(
            {"component": np.arange(1, len(ratio) + 1), "explained_variance_ratio": ratio}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (common keys plus ``vector``, ``pairs``, ``dropped``)."""
        first = float(self.explained_variance_ratio[0])
        summary = [
            f"{self.positive_end}-{self.negative_end} direction from {len(self.pairs)} pairs "
            f"({self.method})"
            + (
                f"; the first component explains {first:.0%} of the variance"
                if self.method == "pca"
                else ""
            )
        ]
        if self.dropped:
            summary.append(f"{len(self.dropped)} pairs dropped for missing words")
        return json_safe(
            {
                "kind": "bias_direction",
                "schema_version": 1,
                "title": f"Bias direction {self.positive_end} - {self.negative_end}",
                "summary": summary,
                "parameters": {"method": self.method, "pairs": self.pairs},
                "table": self.to_frame().to_dict(orient="records"),
                "vector": self.vector,
                "dropped": self.dropped,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the explained variance ratio per component."""
        ax = get_axes(ax)
        frame = self.to_frame()
        ax.bar(frame["component"], frame["explained_variance_ratio"])
        ax.set_xlabel("principal component")
        ax.set_ylabel("explained variance ratio")
        ax.set_title(plot_text(f"{self.positive_end} - {self.negative_end} pairs ({self.method})"))
        return ax


def _as_pairs(pairs: Any) -> list[tuple[str, str]]:
    if isinstance(pairs, str):
        raise TypeError("pairs must be a list of (word, word) pairs, got a str.")
    seq = list(pairs)
    if len(seq) == 2 and all(isinstance(w, str) for w in seq):
        seq = [tuple(seq)]  # a single pair ("she", "he")
    out: list[tuple[str, str]] = []
    for p in seq:
        if isinstance(p, str) or len(p) != 2 or not all(isinstance(w, str) for w in p):
            raise ValueError(f"pairs must hold (word, word) pairs of strings; got {p!r}.")
        out.append((p[0], p[1]))
    if not out:
        raise ValueError("pairs is empty; pass at least one (word, word) pair.")
    return out


def bias_direction(
    wv: WordVectors,
    pairs: Sequence[tuple[str, str]] | tuple[str, str],
    *,
    method: Literal["pca", "single", "mean_difference"] = "pca",
    missing: MissingPolicy = "error",
    case: CasePolicy = "auto",
) -> BiasDirection:
    """Find a bias direction (e.g. gender) from definitional word pairs.

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    pairs : sequence of (str, str), or one pair
        Definitional pairs such as ``[("woman", "man"), ("she", "he"), ...]``. The first word
        of each pair belongs to the same side.
    method : {"pca", "single", "mean_difference"}, default "pca"
        ``"pca"``: first principal component of the pair members centred on their pair
        means (Bolukbasi et al. 2016, as in their code). ``"single"``: the normalized
        difference of one pair (exactly one pair allowed). ``"mean_difference"``: the
        normalized difference between the means of the first and of the second words.
    missing : {"error", "drop"}, default "error"
        A pair with a word not in the vocabulary raises, or is dropped (listed in
        ``dropped``, with an :class:`OutOfVocabularyWarning`).
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`): by default ``("Mary", "John")`` is
        found as ``("mary", "john")`` in a lower-cased vocabulary such as GloVe 6B.

    Returns
    -------
    BiasDirection
        The unit vector (``np.asarray(result)``) and the explained variance.

    Warns
    -----
    OutOfVocabularyWarning
        With ``missing="drop"``, when pairs were dropped.
    DatasetWarning
        With ``"pca"``, when the first component explains less than half of the variance:
        the pairs do not share one direction.

    Notes
    -----
    All vectors are unit-normalized first. For the PCA, each pair (a, b) contributes the two
    rows a - m and b - m with m = (a + b) / 2; the rows have mean zero and the first right
    singular vector of the stacked rows is the direction. The sign is fixed so that
    ``(a_1 - b_1) . g > 0`` for the first pair.

    References
    ----------
    Bolukbasi et al. (2016), section 5 and their code (github.com/tolga-b/debiaswe).

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, bias_direction
    >>> wv = WordVectors(["she", "he", "her", "his"], [[1, 1, 0], [-1, 1, 0], [1, 0, 1], [-1, 0, 1]])
    >>> g = bias_direction(wv, [("she", "he"), ("her", "his")])
    >>> g.vector.round(3).tolist(), float(g.explained_variance_ratio[0])
    ([1.0, 0.0, 0.0], 1.0)
    """
    if not isinstance(wv, WordVectors):
        raise TypeError(f"wv must be a WordVectors, got {type(wv).__name__}.")
    if method not in ("pca", "single", "mean_difference"):
        raise ValueError(f"method must be 'pca', 'single' or 'mean_difference', got {method!r}.")
    all_pairs = _as_pairs(pairs)
    # raises on a missing word (listing all of them) or warns, under the missing policy
    wv.resolve([w for p in all_pairs for w in p], missing=missing, name="pairs", case=case)
    kept: list[tuple[str, str]] = []
    dropped_pairs: list[tuple[str, str]] = []
    for a, b in all_pairs:
        ia, ib = wv.find(a, case=case), wv.find(b, case=case)
        if ia is None or ib is None:
            dropped_pairs.append((a, b))
        else:
            kept.append((wv.words[ia], wv.words[ib]))
    dropped = tuple(dropped_pairs)
    if not kept:
        raise DataError("no pair has both words in the vocabulary; nothing to compute.")
    if method == "single" and len(kept) != 1:
        raise ValueError(f"method='single' takes exactly one pair, got {len(kept)}.")
    first = wv.get_vectors([p[0] for p in kept])
    second = wv.get_vectors([p[1] for p in kept])
    if method == "pca":
        centre = (first + second) / 2
        rows = np.vstack([first - centre, second - centre]).astype(np.float64)
        _, s, vt = np.linalg.svd(rows, full_matrices=False)
        variance = s**2
        ratio = variance / variance.sum()
        vector = vt[0]
        if ratio[0] < _MIN_FIRST_COMPONENT:
            warnings.warn(
                f"the first principal component explains only {ratio[0]:.0%} of the variance "
                f"of the {len(kept)} pairs (under {_MIN_FIRST_COMPONENT:.0%}): they do not "
                "share one direction. Check the pairs, or use method='mean_difference'.",
                DatasetWarning,
                stacklevel=2,
            )
    else:
        diff = (first.mean(axis=0) - second.mean(axis=0)).astype(np.float64)
        vector = diff
        ratio = np.array([1.0])
    vector = vector / np.linalg.norm(vector)
    if (first[0] - second[0]) @ vector < 0:
        vector = -vector
    return BiasDirection(
        vector=vector,
        method=method,
        pairs=tuple(kept),
        explained_variance_ratio=ratio,
        dropped=dropped,
    )


def as_direction(direction: Any, dim: int) -> np.ndarray:
    """Validate a direction (array or BiasDirection) and return it as a unit float64 vector."""
    g = np.asarray(direction, dtype=np.float64)
    if g.ndim != 1 or g.shape[0] != dim:
        raise DataError(
            f"direction must be a vector of the embedding's dimension {dim}, got shape "
            f"{g.shape}. Compute it on the same embedding with bias_direction()."
        )
    norm = np.linalg.norm(g)
    if not np.isfinite(norm) or norm == 0:
        raise DataError("direction must be finite and non-zero.")
    return g / norm


def project(
    wv: WordVectors,
    words: Iterable[str],
    direction: Any,
    *,
    missing: MissingPolicy = "error",
    case: CasePolicy = "auto",
) -> pd.Series:
    """Cosine of each word with the direction (its position on the bias axis).

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    words : iterable of str
        Words to project.
    direction : array-like of shape (dim,) or BiasDirection
        The axis; normalized here.
    missing : {"error", "drop"}, default "error"
        Policy for words not in the vocabulary (dropped words are named in an
        :class:`OutOfVocabularyWarning`).
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`).

    Returns
    -------
    Series
        Indexed by word (the vocabulary's spelling, in the given order), named
        ``"projection"``; values in [-1, 1].

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, project
    >>> wv = WordVectors(["nurse", "pilot"], [[1, 1], [-1, 2]])
    >>> project(wv, ["nurse", "pilot"], [1, 0]).round(3).tolist()
    [0.707, -0.447]
    """
    g = as_direction(direction, wv.dim)
    return _project(wv, words, g, missing=missing, case=case)[0]


def _project(
    wv: WordVectors,
    words: Iterable[str],
    g: np.ndarray,
    *,
    missing: MissingPolicy,
    case: CasePolicy,
) -> tuple[pd.Series, list[str]]:
    kept, dropped = wv.resolve(words, missing=missing, case=case)
    values = np.clip(wv.get_vectors(kept, case="exact").astype(np.float64) @ g, -1.0, 1.0)
    return pd.Series(values, index=pd.Index(kept, name="word"), name="projection"), dropped


@dataclass(frozen=True, eq=False)
class DirectBias(ResultMixin):
    """Direct bias of a set of (supposedly neutral) words on a bias direction.

    Attributes
    ----------
    value : float
        DirectBias_c = mean over the words of ``|cos(w, g)| ** c``.
    c : float
        Strictness exponent.
    projections : Series
        ``cos(w, g)`` per word (index ``word``), in the given order.
    dropped : tuple of str
        Words left out for not being in the vocabulary.
    positive_end, negative_end : str or None
        Names of the two ends of the axis, for labels.
    """

    value: float
    c: float
    projections: pd.Series
    dropped: tuple[str, ...] = ()
    positive_end: str | None = None
    negative_end: str | None = None

    def __float__(self) -> float:
        return float(self.value)

    def extremes(self, n: int = 10) -> pd.DataFrame:
        """Return the ``n`` words projecting furthest to each end.

        Returns
        -------
        DataFrame
            Columns ``end`` ("positive"/"negative"), ``rank`` (1 = most extreme), ``word``,
            ``projection``.
        """
        s = self.projections.sort_values(ascending=False, kind="stable")
        pos = s.head(n)
        neg = s.iloc[::-1].head(n)
        rows = [
            {"end": end, "rank": r, "word": w, "projection": float(v)}
            for end, part in (("positive", pos), ("negative", neg))
            for r, (w, v) in enumerate(part.items(), start=1)
        ]
        return pd.DataFrame(rows, columns=["end", "rank", "word", "projection"])

    def to_frame(self) -> pd.DataFrame:
        """One row per word: columns ``word``, ``projection`` (cos(w, g)), ``bias_term`` (|cos|^c)."""
        proj = self.projections
        return pd.DataFrame(
            {
                "word": proj.index.astype(str),
                "projection": proj.to_numpy(dtype=float),
                "bias_term": np.abs(proj.to_numpy(dtype=float)) ** self.c,
            }
        )

    def _axis_name(self) -> str:
        if self.positive_end and self.negative_end:
            return f"{self.positive_end}-{self.negative_end}"
        return "bias"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe result (common keys plus ``value``, ``c``, ``extremes``, ``dropped``)."""
        ext = self.extremes(5)
        pos = ", ".join(ext.loc[ext["end"] == "positive", "word"])
        neg = ", ".join(ext.loc[ext["end"] == "negative", "word"])
        summary = [
            f"Direct bias (c={self.c:g}) of {len(self.projections)} words on the "
            f"{self._axis_name()} axis: {self.value:.3f} (0 = no projection)",
            f"Most {self.positive_end or 'positive'}-side: {pos}",
            f"Most {self.negative_end or 'negative'}-side: {neg}",
        ]
        if self.dropped:
            summary.append(f"{len(self.dropped)} words not in the vocabulary were left out")
        return json_safe(
            {
                "kind": "direct_bias",
                "schema_version": 1,
                "title": f"Direct bias on the {self._axis_name()} axis",
                "summary": summary,
                "parameters": {"c": self.c, "n_words": len(self.projections)},
                "table": self.to_frame().to_dict(orient="records"),
                "value": self.value,
                "extremes": ext.to_dict(orient="records"),
                "dropped": self.dropped,
            }
        )

    def plot(self, ax: Any = None, *, n: int = 10) -> Any:
        """Horizontal bars of the ``n`` most extreme words at each end of the axis."""
        ax = get_axes(ax)
        ext = self.extremes(n)
        frame = pd.concat(
            [ext[ext["end"] == "positive"], ext[ext["end"] == "negative"].iloc[::-1]]
        ).drop_duplicates("word")
        frame = frame.sort_values("projection")
        colors = ["tab:orange" if v > 0 else "tab:blue" for v in frame["projection"]]
        ax.barh([plot_text(w) for w in frame["word"]], frame["projection"], color=colors)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(
            plot_text(
                f"cos(w, g): <- {self.negative_end or 'negative'}   "
                f"{self.positive_end or 'positive'} ->"
            )
        )
        ax.set_title(f"Direct bias {self.value:.3f}")
        return ax


def direct_bias(
    wv: WordVectors,
    words: Iterable[str],
    direction: Any,
    *,
    c: float = 1.0,
    missing: MissingPolicy = "error",
    case: CasePolicy = "auto",
) -> DirectBias:
    """DirectBias_c of Bolukbasi et al. (2016): mean of ``|cos(w, g)| ** c`` over neutral words.

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    words : iterable of str
        Words that should be neutral (e.g. gender-neutral professions).
    direction : array-like of shape (dim,) or BiasDirection
        The bias axis g.
    c : float, default 1.0
        Strictness: c = 0 counts any nonzero projection as fully biased; larger c forgives
        small projections.
    missing : {"error", "drop"}, default "error"
        Policy for words not in the vocabulary: raise, or leave them out (listed in
        ``dropped``, with an :class:`OutOfVocabularyWarning`).
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`).

    Returns
    -------
    DirectBias
        ``value``, per-word ``projections``, ``extremes()``; ``float(result)`` is the value.

    Notes
    -----
    A value of 0 means every word is orthogonal to g. The measure says nothing about bias
    carried outside the direction (Gonen & Goldberg 2019 show that debiased words still
    cluster by gender).

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, direct_bias
    >>> wv = WordVectors(["nurse", "pilot"], [[1, 1], [-1, 2]])
    >>> round(float(direct_bias(wv, ["nurse", "pilot"], [1, 0])), 4)  # (0.7071 + 0.4472) / 2
    0.5772
    """
    if not np.isfinite(c) or c < 0:
        raise ValueError(f"c must be a finite number >= 0, got {c!r}.")
    words = list(words)
    if not words:
        raise ValueError("words is empty; pass the neutral words to measure.")
    g = as_direction(direction, wv.dim)
    proj, dropped_words = _project(wv, words, g, missing=missing, case=case)
    if proj.empty:
        raise DataError("none of the words is in the vocabulary; nothing to measure.")
    dropped = tuple(dropped_words)
    value = float(np.mean(np.abs(proj.to_numpy()) ** c))
    pos = getattr(direction, "positive_end", None)
    neg = getattr(direction, "negative_end", None)
    return DirectBias(
        value=value,
        c=float(c),
        projections=proj,
        dropped=dropped,
        positive_end=pos,
        negative_end=neg,
    )


def indirect_bias(
    wv: WordVectors, w: str, v: str, direction: Any, *, case: CasePolicy = "auto"
) -> float:
    """Share of the similarity of two words due to the bias direction (Bolukbasi et al. 2016).

    beta(w, v) = (w . v - w_perp . v_perp / (|w_perp| |v_perp|)) / (w . v), where w and v are
    unit vectors and w_perp = w - (w . g) g.

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    w, v : str
        The two words.
    direction : array-like of shape (dim,) or BiasDirection
        The bias axis g.
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`).

    Returns
    -------
    float
        0 when the direction plays no part in their similarity; undefined (nan) when
        w . v = 0.

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, indirect_bias
    >>> wv = WordVectors(["softball", "receptionist"], [[1, 1, 0], [1, 0, 1]])
    >>> round(indirect_bias(wv, "softball", "receptionist", [1, 0, 0]), 3)  # (0.5 - 0) / 0.5
    1.0
    """
    g = as_direction(direction, wv.dim)
    a = wv.normed[wv.index_of(w, case=case)].astype(np.float64)
    b = wv.normed[wv.index_of(v, case=case)].astype(np.float64)
    a_perp = a - (a @ g) * g
    b_perp = b - (b @ g) * g
    na, nb = np.linalg.norm(a_perp), np.linalg.norm(b_perp)
    inner = float(a @ b)
    if inner == 0 or na == 0 or nb == 0:
        return float("nan")
    return float((inner - (a_perp @ b_perp) / (na * nb)) / inner)
