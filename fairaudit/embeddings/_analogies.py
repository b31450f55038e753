"""Analogy queries as a result object (for reports): a : b :: c : ? with scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text
from fairaudit.embeddings._vectors import AnalogyMethod, CasePolicy, WordVectors

__all__ = ["AnalogyResult", "analogies"]


@dataclass(frozen=True, eq=False)
class AnalogyResult(ResultMixin):
    """Answers to analogy queries a : b :: c : ?.

    Attributes
    ----------
    table : DataFrame
        See :meth:`to_frame`.
    method : {"3cosadd", "3cosmul"}
    topn : int
    exclude_inputs : bool
    restrict_vocab : int or None
    """

    table: pd.DataFrame = field(repr=False)
    method: str
    topn: int
    exclude_inputs: bool
    restrict_vocab: int | None

    def to_frame(self) -> pd.DataFrame:
        """One row per query and rank.

        Returns
        -------
        DataFrame
            Columns ``a``, ``b``, ``c``, ``rank`` (1 = best), ``answer`` and ``score``
            (3CosAdd: cos(answer, b - a + c) with unit vectors; 3CosMul: Levy & Goldberg's
            ratio).
        """
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe result with the common keys."""
        best = self.table[self.table["rank"] == 1]
        summary = [
            f"{r.a} : {r.b} :: {r.c} : {r.answer} ({self.method} {r.score:.2f})"
            for r in best.itertuples()
        ][:20]
        if not self.exclude_inputs:
            summary.append("input words were allowed as answers")
        return json_safe(
            {
                "kind": "analogies",
                "schema_version": 1,
                "title": f"Analogies ({len(best)} queries)",
                "summary": summary,
                "parameters": {
                    "method": self.method,
                    "topn": self.topn,
                    "exclude_inputs": self.exclude_inputs,
                    "restrict_vocab": self.restrict_vocab,
                },
                "table": self.table.to_dict(orient="records"),
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Horizontal bars of the best answer's score per query."""
        ax = get_axes(ax)
        best = self.table[self.table["rank"] == 1]
        labels = [plot_text(f"{r.a}:{r.b} :: {r.c}:{r.answer}") for r in best.itertuples()]
        ax.barh(labels, best["score"])
        ax.invert_yaxis()
        ax.set_xlabel(f"{self.method} score")
        return ax


def analogies(
    wv: WordVectors,
    a: str | Sequence[str],
    b: str | Sequence[str],
    c: str | Sequence[str],
    *,
    topn: int = 1,
    method: AnalogyMethod = "3cosadd",
    exclude_inputs: bool = True,
    restrict_vocab: int | None = None,
    case: CasePolicy = "auto",
) -> AnalogyResult:
    """Answer analogies a : b :: c : ? and keep the scores (see :meth:`WordVectors.analogy`).

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    a, b, c : str, or sequences of str of equal length
        One query or a batch.
    topn, method, exclude_inputs, restrict_vocab, case
        As in :meth:`WordVectors.analogy`.

    Returns
    -------
    AnalogyResult
        ``to_frame()`` has one row per query and rank.

    Examples
    --------
    >>> from fairaudit.embeddings import WordVectors, analogies
    >>> wv = WordVectors(
    ...     ["man", "woman", "king", "queen", "apple"],
    ...     [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, -1]],
    ... )
    >>> analogies(wv, "man", "king", "woman").to_frame().round(3)  # cos(queen, king - man + woman)
         a     b      c  rank answer  score
    0  man  king  woman     1  queen  0.959
    """
    if not isinstance(wv, WordVectors):
        raise TypeError(f"wv must be a WordVectors, got {type(wv).__name__}.")
    queries, idx, scores = wv.analogy_scores(
        a,
        b,
        c,
        topn=topn,
        method=method,
        exclude_inputs=exclude_inputs,
        restrict_vocab=restrict_vocab,
        case=case,
    )
    rows = [
        {"a": q[0], "b": q[1], "c": q[2], "rank": r + 1, "answer": wv.words[i], "score": float(s)}
        for q, row_idx, row_scores in zip(queries, idx, scores, strict=True)
        for r, (i, s) in enumerate(zip(row_idx, row_scores, strict=True))
    ]
    table = pd.DataFrame(rows, columns=["a", "b", "c", "rank", "answer", "score"])
    return AnalogyResult(
        table=table,
        method=method,
        topn=int(topn),
        exclude_inputs=bool(exclude_inputs),
        restrict_vocab=restrict_vocab,
    )
