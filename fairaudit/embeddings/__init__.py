"""Word-embedding bias probes (Bolukbasi et al. 2016; Caliskan et al. 2017; May et al. 2019).

- :class:`WordVectors`: words in frequency order, a float32 matrix and its unit-normalized
  copy; reads word2vec binary/text, GloVe text and ``.npz`` files, or a gensim KeyedVectors.
- Analogies a : b :: c : ? (3CosAdd, 3CosMul), batched: :meth:`WordVectors.analogy`,
  :func:`analogies`.
- Bias direction and bias measures: :func:`bias_direction`, :func:`project`,
  :func:`direct_bias`, :func:`indirect_bias`, :func:`generate_analogies`.
- Association tests: :func:`weat`, :func:`weat_suite`, :func:`seat`.
- Hard debiasing: :func:`hard_debias` (returns :class:`DebiasedWordVectors`).

Every lookup takes a case policy ``case="auto" | "exact" | "fold"``: by default a lower-cased
vocabulary (GloVe 6B) finds ``"Mary"`` as ``"mary"``, a cased one (word2vec, fastText) looks
words up as spelled. Words left out are never skipped silently: an
:class:`OutOfVocabularyWarning` names them and the result lists them.

numpy only: gensim is needed by nothing here (``WordVectors.from_gensim`` accepts its
objects without importing it).
"""

from fairaudit.embeddings._analogies import AnalogyResult, analogies
from fairaudit.embeddings._bias import (
    BiasDirection,
    DirectBias,
    bias_direction,
    direct_bias,
    indirect_bias,
    project,
)
from fairaudit.embeddings._debias import DebiasedWordVectors, hard_debias
from fairaudit.embeddings._generate import generate_analogies
from fairaudit.embeddings._vectors import OutOfVocabularyError, OutOfVocabularyWarning, WordVectors
from fairaudit.embeddings._weat import WEATResult, seat, weat
from fairaudit.embeddings._weat_suite import WEATSuite, weat_suite

__all__ = [
    "AnalogyResult",
    "BiasDirection",
    "DebiasedWordVectors",
    "DirectBias",
    "OutOfVocabularyError",
    "OutOfVocabularyWarning",
    "WEATResult",
    "WEATSuite",
    "WordVectors",
    "analogies",
    "bias_direction",
    "direct_bias",
    "generate_analogies",
    "hard_debias",
    "indirect_bias",
    "project",
    "seat",
    "weat",
    "weat_suite",
]
