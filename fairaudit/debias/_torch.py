"""The torch side of adversarial debiasing: layers, adversaries and the training loop.

The torch modules of fairaudit (``_nn``: blocks; ``_trainer``: the loop; ``_fit``: one
estimator fit) import torch at import time; this module gathers them. ``fairaudit.debias``
loads it on first use (``fit``, or accessing ``GradientReversal`` / ``AdversarialTrainer``), so
that ``import fairaudit`` stays light.
"""

from __future__ import annotations

from fairaudit.debias._config import CONSTRAINTS, MODES
from fairaudit.debias._fit import fit_networks, predict_output
from fairaudit.debias._nn import (
    ADVERSARY_NEGATIVE_SLOPE,
    ConcatAdversary,
    GradientReversal,
    ZhangAdversary,
    make_mlp,
    project_out,
)
from fairaudit.debias._trainer import AdversarialTrainer, Callback, TensorBatches

__all__ = [
    "ADVERSARY_NEGATIVE_SLOPE",
    "CONSTRAINTS",
    "MODES",
    "AdversarialTrainer",
    "Callback",
    "ConcatAdversary",
    "GradientReversal",
    "TensorBatches",
    "ZhangAdversary",
    "fit_networks",
    "make_mlp",
    "predict_output",
    "project_out",
]
