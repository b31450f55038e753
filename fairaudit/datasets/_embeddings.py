"""Loaders of the shipped word vectors and word lists (Bolukbasi et al. 2016; Caliskan et al. 2017)."""

from __future__ import annotations

import json
from typing import Any, Literal

import pandas as pd

from fairaudit._resources import data_file as _resource
from fairaudit.embeddings import WordVectors

__all__ = ["load_word2vec_small", "load_wordlists"]

_LISTS = {"bolukbasi": "bolukbasi_gender.json", "weat": "weat.json"}


def load_word2vec_small() -> WordVectors:
    """Load the 26,423-word Google News word2vec subset of Bolukbasi et al. (2016).

    Returns
    -------
    WordVectors
        26,423 words x 300 dimensions, in the frequency order of the original file. Shipped
        as float16 and returned as float32 (see the card ``datasets/embeddings/README.md``
        for the check that results do not change materially).

    Notes
    -----
    Words are mostly lower case, the most frequent words of the Google News vectors
    (Mikolov et al. 2013, Apache 2.0) filtered by Bolukbasi et al.; phrases use ``_``
    (``"prostate_cancer"``). The vectors carry the stereotypes of the news text they were
    trained on: that is why they are shipped.

    References
    ----------
    Bolukbasi, T., Chang, K.-W., Zou, J., Saligrama, V., & Kalai, A. (2016). Man is to
    computer programmer as woman is to homemaker? Debiasing word embeddings. NeurIPS.

    Examples
    --------
    >>> import fairaudit as fa
    >>> wv = fa.datasets.load_word2vec_small()
    >>> len(wv), wv.dim
    (26423, 300)
    """
    with _resource("embeddings", "w2v_gnews_small.npz").open("rb") as fh:
        import numpy as np

        with np.load(fh, allow_pickle=False) as archive:
            words = archive["words"].tolist()
            vectors = archive["vectors"].astype(np.float32)
    return WordVectors(words, vectors)


def load_wordlists(name: Literal["bolukbasi", "weat"]) -> dict[str, Any]:
    """Load the shipped word lists.

    Parameters
    ----------
    name : {"bolukbasi", "weat"}
        ``"bolukbasi"``: the gender word lists of Bolukbasi et al. (2016). ``"weat"``: the ten
        Word Embedding Association Tests of Caliskan et al. (2017).

    Returns
    -------
    dict
        For ``"bolukbasi"``, the keys

        - ``definitional_pairs``: list of (female, male) tuples, 10 pairs (woman/man, she/he...)
        - ``equalize_pairs``: list of (male, female) tuples, 52 pairs to equalize
        - ``professions``: list of 320 profession words
        - ``profession_scores``: DataFrame with columns ``profession``, ``definitional`` and
          ``stereotypical`` (crowd ratings from -1, female, to 1, male)
        - ``gender_specific_seed``: 218 gender-specific words chosen by hand
        - ``gender_specific``: 1,441 gender-specific words (seed expanded by a classifier)

        For ``"weat"``, one entry per test ``"weat1"`` ... ``"weat10"``, each a dict with
        ``name``, ``X_name``, ``X``, ``Y_name``, ``Y`` (target words), ``A_name``, ``A``,
        ``B_name``, ``B`` (attribute words), ``iat`` (the original IAT finding: ``d``, ``p``,
        ``N``, ``ref``) and ``caliskan_glove`` (Caliskan et al.'s WEAT result on GloVe
        vectors, Table 1: ``d``, ``p``, ``n_targets``, ``n_attributes``).

    Examples
    --------
    >>> import fairaudit as fa
    >>> lists = fa.datasets.load_wordlists("bolukbasi")
    >>> lists["definitional_pairs"][:2]
    [('woman', 'man'), ('girl', 'boy')]
    >>> fa.datasets.load_wordlists("weat")["weat1"]["name"]
    'Flowers vs Insects / Pleasant vs Unpleasant'
    """
    if name not in _LISTS:
        raise ValueError(f"name must be one of {sorted(_LISTS)}, got {name!r}.")
    data = json.loads(_resource("wordlists", _LISTS[name]).read_text(encoding="utf-8"))
    if name == "weat":
        return dict(data)
    scores = pd.DataFrame(
        data["professions"], columns=["profession", "definitional", "stereotypical"]
    )
    return {
        "definitional_pairs": [tuple(p) for p in data["definitional_pairs"]],
        "equalize_pairs": [tuple(p) for p in data["equalize_pairs"]],
        "professions": scores["profession"].tolist(),
        "profession_scores": scores,
        "gender_specific_seed": list(data["gender_specific_seed"]),
        "gender_specific": list(data["gender_specific"]),
    }
