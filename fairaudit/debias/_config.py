"""The typed configuration of one adversarial fit, and what the fit returns (no torch here).

The estimators (:mod:`fairaudit.debias._estimators`) validate their parameters and hand a
:class:`FitConfig` to :func:`fairaudit.debias._fit.fit_networks`; the fit returns a
:class:`FitResult`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fairaudit.debias._schedules import AlphaSchedule

__all__ = ["CONSTRAINTS", "MODES", "FitConfig", "FitResult"]

# what the predictions should not reveal about z; regression supports the first two
CONSTRAINTS = ("demographic_parity", "equalized_odds", "equal_opportunity")
MODES = ("projection", "grl")


@dataclass(frozen=True)
class FitConfig:
    """Everything one fit needs from an estimator's (validated) parameters.

    Attributes mirror the estimators' parameters of the same names (see
    :class:`fairaudit.debias.AdversarialDebiasingClassifier`); ``predictor`` and ``adversary``
    are user torch modules or ``None`` for the default networks.
    """

    constraint: str
    mode: str
    alpha: float
    alpha_schedule: AlphaSchedule
    hidden_layer_sizes: Sequence[int]
    adversary_hidden_layer_sizes: Sequence[int]
    adversary_input: str
    predictor: Any
    adversary: Any
    optimizer: str
    learning_rate: float
    adversary_learning_rate: float
    lr_decay: str | None
    batch_size: int
    epochs: int
    adversary_steps: int
    warmup_epochs: int
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    callbacks: Sequence[Callable[..., Any]]
    progress: bool | None
    device: str


@dataclass(frozen=True)
class FitResult:
    """The trained networks and the per-epoch history of one fit."""

    predictor: Any
    adversary: Any
    history: list[dict[str, float]]
    best_epoch: int | None
