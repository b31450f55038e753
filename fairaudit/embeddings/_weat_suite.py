"""The WEAT suite: Caliskan et al.'s ten tests (the shipped word lists) on one embedding."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._resources import read_data_json
from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text
from fairaudit._validation import as_generator, format_values
from fairaudit.embeddings._vectors import (
    CasePolicy,
    MissingPolicy,
    OutOfVocabularyWarning,
    WordVectors,
    check_case_policy,
)
from fairaudit.embeddings._weat import _SET_KEYS, WEATResult, weat

__all__ = ["WEATSuite", "weat_suite"]


@dataclass(frozen=True, eq=False)
class WEATSuite(ResultMixin):
    """The ten WEAT tests of Caliskan et al. (2017) on one embedding.

    Attributes
    ----------
    results : dict of str to WEATResult
        Keyed ``"weat1"`` ... ``"weat10"``.
    published : dict of str to dict
        Per test, ``name``, ``caliskan_glove`` (Caliskan et al.'s WEAT on GloVe: ``d``,
        ``p``) and ``iat`` (the human IAT finding: ``d``, ``p``).
    skipped : dict of str to str
        Tests that could not run (a set left empty by missing words), with the reason.
    n_permutations : int
    random_state : int or None
    """

    results: dict[str, WEATResult]
    published: dict[str, dict[str, Any]]
    skipped: dict[str, str] = field(default_factory=dict)
    n_permutations: int = 10_000
    random_state: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per test.

        Returns
        -------
        DataFrame
            Columns ``test``, ``name``, ``n_X``, ``n_Y``, ``n_A``, ``n_B`` (words used),
            ``n_dropped``, ``effect_size``, ``p_value``, ``p_value_se``, ``method``
            ("exact", "monte_carlo", or "skipped" with NaN values),
            ``caliskan_glove_d`` and ``caliskan_glove_p`` (published WEAT on GloVe, not on
            these vectors), ``iat_d`` (the human IAT effect size; NaN where none).
        """
        rows = []
        for key, pub in self.published.items():
            glove = pub.get("caliskan_glove") or {}
            iat = pub.get("iat") or {}
            r = self.results.get(key)
            row: dict[str, Any] = {"test": key, "name": pub.get("name", key)}
            if r is None:
                row.update({f"n_{k}": 0 for k in _SET_KEYS})
                row.update(
                    n_dropped=np.nan,
                    effect_size=np.nan,
                    p_value=np.nan,
                    p_value_se=np.nan,
                    method="skipped",
                )
            else:
                row.update({f"n_{k}": len(r.words[k]) for k in _SET_KEYS})
                row.update(
                    n_dropped=sum(len(v) for v in r.dropped.values()),
                    effect_size=r.effect_size,
                    p_value=r.p_value,
                    p_value_se=r.p_value_se,
                    method=r.method,
                )
            row.update(
                caliskan_glove_d=glove.get("d", np.nan),
                caliskan_glove_p=glove.get("p"),
                iat_d=np.nan if iat.get("d") is None else iat["d"],
            )
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe result: the common keys plus ``tests`` (each test's ``to_dict()``)."""
        frame = self.to_frame()
        summary = [
            f"{row.test}: {row.name}: effect size {row.effect_size:.2f} (p = {row.p_value:.2g}); "
            f"Caliskan et al. on GloVe: {row.caliskan_glove_d:.2f}"
            if row.method != "skipped"
            else f"{row.test}: {row.name}: not run ({self.skipped.get(str(row.test), 'skipped')})"
            for row in frame.itertuples()
        ]
        first = next(iter(self.results.values()), None)
        return json_safe(
            {
                "kind": "weat_suite",
                "schema_version": 1,
                "title": "Caliskan et al. (2017) WEAT tests",
                "summary": summary,
                "parameters": {
                    "tests": list(self.results),
                    "n_permutations": self.n_permutations,
                    "ddof": first.ddof if first else None,
                    "random_state": self.random_state,
                },
                "table": frame.to_dict(orient="records"),
                "tests": {k: r.to_dict() for k, r in self.results.items()},
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Effect sizes per test, ours beside Caliskan et al.'s GloVe values."""
        ax = get_axes(ax)
        frame = self.to_frame()
        y = np.arange(len(frame))
        ax.barh(y - 0.2, frame["effect_size"], height=0.4, label="these vectors")
        ax.barh(y + 0.2, frame["caliskan_glove_d"], height=0.4, label="Caliskan et al. (GloVe)")
        ax.set_yticks(y, [plot_text(t) for t in frame["test"]])
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("WEAT effect size")
        ax.legend(loc="lower right")
        return ax


def weat_suite(
    wv: WordVectors,
    *,
    tests: Sequence[str] | None = None,
    n_permutations: int = 10_000,
    ddof: int = 0,
    missing: MissingPolicy = "drop",
    random_state: int | np.random.Generator | None = None,
    case: CasePolicy = "auto",
) -> WEATSuite:
    """Run Caliskan et al.'s ten WEAT tests (the shipped lists) on an embedding.

    Parameters
    ----------
    wv : WordVectors
        The embedding.
    tests : sequence of str, optional
        Test ids ``"weat1"`` ... ``"weat10"``; default all ten.
    n_permutations : int, default 10_000
        Monte Carlo permutations for the tests too large to enumerate.
    ddof : int, default 0
        As in :func:`weat`.
    missing : {"drop", "error"}, default "drop"
        Words of the lists missing from the vocabulary are left out by default (Caliskan et
        al. did the same for GloVe); they are listed per test. A test with a set left
        empty is skipped and listed in ``skipped``. Either way one
        :class:`OutOfVocabularyWarning` says what was left out.
    random_state : int, Generator or None, default None
        One generator feeds all tests in order.
    case : {"auto", "exact", "fold"}, default "auto"
        Lookup policy (see :meth:`WordVectors.find`). The shipped lists capitalize names
        (``"Adam"``); on a lower-cased vocabulary such as GloVe 6B the default finds them in
        lower case, so no test is skipped for case alone.

    Returns
    -------
    WEATSuite
        ``to_frame()`` puts our effect sizes beside the published ones.

    Notes
    -----
    The published effect sizes (Caliskan et al. 2017, Table 1) were measured on GloVe
    vectors (Common Crawl, 840B tokens), not on word2vec: they are a reference point, not
    an expected value.
    """
    # the shipped lists, read through the one reader of shipped files (not fairaudit.datasets,
    # which sits above the analyses)
    catalogue: dict[str, Any] = dict(read_data_json("wordlists", "weat.json"))
    keys = list(catalogue) if tests is None else list(tests)
    unknown = [k for k in keys if k not in catalogue]
    if unknown:
        raise ValueError(f"unknown tests {format_values(unknown)}; known: {list(catalogue)}.")
    check_case_policy(case)
    rng = as_generator(random_state)
    results: dict[str, WEATResult] = {}
    skipped: dict[str, str] = {}
    for key in keys:
        t = catalogue[key]
        empty = [s for s in _SET_KEYS if not wv.split_known(t[s], case=case)[0]]
        if empty and missing == "drop":
            skipped[key] = (
                f"no word of {', '.join(t[s + '_name'] for s in empty)} is in the vocabulary"
            )
            continue
        with warnings.catch_warnings():
            # one warning for the whole suite below, not one per set
            warnings.simplefilter("ignore", OutOfVocabularyWarning)
            r = weat(
                wv,
                t["X"],
                t["Y"],
                t["A"],
                t["B"],
                n_permutations=n_permutations,
                ddof=ddof,
                missing=missing,
                names=(t["X_name"], t["Y_name"], t["A_name"], t["B_name"]),
                random_state=rng,
                case=case,
            )
        results[key] = r
    n_dropped = {k: sum(len(v) for v in r.dropped.values()) for k, r in results.items()}
    if skipped or any(n_dropped.values()):
        parts = [f"{k}: {n} word{'s' if n != 1 else ''}" for k, n in n_dropped.items() if n]
        parts += [f"{k} not run ({why})" for k, why in skipped.items()]
        warnings.warn(
            "weat_suite left out words not in the vocabulary (listed per test in "
            "`results[test].dropped` and `skipped`): " + "; ".join(parts) + ".",
            OutOfVocabularyWarning,
            stacklevel=2,
        )
    seed = int(random_state) if isinstance(random_state, int | np.integer) else None
    published = {
        k: {
            "name": catalogue[k]["name"],
            "caliskan_glove": catalogue[k]["caliskan_glove"],
            "iat": catalogue[k]["iat"],
        }
        for k in keys
    }
    return WEATSuite(
        results=results,
        published=published,
        skipped=skipped,
        n_permutations=n_permutations,
        random_state=seed,
    )
