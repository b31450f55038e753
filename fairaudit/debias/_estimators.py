"""scikit-learn estimators for adversarial debiasing (torch imported only inside methods)."""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from fairaudit._optional import import_optional
from fairaudit._validation import (
    align_on_index,
    as_1d,
    as_generator,
    check_consistent_length,
    check_one_label_type,
    check_sample_weight,
    format_values,
)
from fairaudit.debias._config import CONSTRAINTS, FitConfig
from fairaudit.debias._schedules import AlphaSchedule, check_alpha_schedule
from fairaudit.exceptions import DataError, MissingValueError

__all__ = ["AdversarialDebiasingClassifier", "AdversarialDebiasingRegressor"]

_CONSTRAINTS = CONSTRAINTS

# alpha="auto" and adversary_steps="auto" of the classifier, per constraint: the settings
# chosen on a validation split of UCI Adult's training data (notebooks/04, seeds 0-2; the test
# split was used for no choice). With them and epochs=10 the classifier meets FPR and FNR gaps
# <= 0.02 / 0.05 at accuracy >= 0.82 on Adult's test split (tests/debias, slow).
_AUTO_ALPHA = {"demographic_parity": 3.0, "equalized_odds": 25.0, "equal_opportunity": 25.0}
_AUTO_ADVERSARY_STEPS = {"demographic_parity": 3, "equalized_odds": 5, "equal_opportunity": 5}
# The regressor keeps the weights it always had (no tabular benchmark chose others).
_AUTO_ALPHA_REGRESSION = 1.0
_AUTO_ADVERSARY_STEPS_REGRESSION = 3


def _check_layer_sizes(value: Any, name: str) -> None:
    """Check layer sizes: a tuple of positive ints (a str ``"32"`` would build 3 and 2)."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a tuple of ints such as (32,) or (64, 32), got "
            f"{type(value).__name__} {value!r}."
        )
    bad = [v for v in value if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1]
    if bad:
        raise ValueError(
            f"{name} must hold positive ints (units per hidden layer), got {value!r}; "
            f"bad entries: {format_values(bad)}."
        )


def _check_random_state(random_state: Any) -> None:
    """None, a numpy Generator or a non-negative int (numpy refuses negative seeds)."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, a non-negative int or a numpy.random.Generator, "
            f"got {type(random_state).__name__} {random_state!r}."
        )
    if random_state < 0:
        raise ValueError(
            f"random_state must be a non-negative int (a seed), got {random_state}; pass e.g. "
            "random_state=0, or None for a fresh seed."
        )


def _check_device(device: Any, torch: Any) -> None:
    """Refuse a device torch cannot use, with the fix (torch's own error is a bare assert)."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a str such as 'cpu' or 'cuda', got {device!r}.")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:0'."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was given but CUDA is not available in this torch "
            f"(torch {torch.__version__}); use device='cpu'."
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was given but only {torch.cuda.device_count()} CUDA device(s) "
            "exist; use device='cuda:0' or device='cpu'."
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r} was given but MPS is not available; use 'cpu'.")


def _backend(purpose: str) -> ModuleType:
    """Import torch (with the install hint when missing), then the torch fit module."""
    import_optional("torch", purpose=purpose)
    return importlib.import_module("fairaudit.debias._fit")


def _aligned(X: Any, y: Any, sensitive_features: Any) -> tuple[Any, Any, Any]:
    """Pair pandas X, y and z on their index labels (see ``align_on_index``)."""
    out = align_on_index(X=X, y=y, sensitive_features=sensitive_features)
    return out["X"], out["y"], out["sensitive_features"]


def _or_auto(name: str) -> str:
    return " or 'auto'" if name in ("alpha", "adversary_steps") else ""


def _combine_columns(sensitive_features: Any) -> Any:
    """Return one column: several categorical columns become one of their combinations."""
    if isinstance(sensitive_features, pd.DataFrame):
        frame = sensitive_features
    elif not isinstance(sensitive_features, pd.Series) and np.ndim(sensitive_features) == 2:
        arr = np.asarray(sensitive_features, dtype=object)
        frame = pd.DataFrame(arr, columns=[f"z{i}" for i in range(arr.shape[1])])
    else:
        return sensitive_features
    if frame.shape[1] == 0:
        raise DataError("sensitive_features has no columns; pass at least one.")
    if frame.shape[1] == 1:
        return frame.iloc[:, 0]
    for name in frame.columns:
        col = frame[name]
        missing = np.flatnonzero(pd.isna(col).to_numpy())
        if missing.size:
            raise MissingValueError(
                f"sensitive_features column {name!r} has {missing.size} missing value(s) at "
                f"rows {format_values(missing)}; remove those rows or give them a level."
            )
        if pd.api.types.is_float_dtype(col.dtype) and not np.all(col == np.round(col)):
            raise DataError(
                f"sensitive_features column {name!r} is continuous; several columns are "
                "combined into one categorical z, so bin it first (e.g. pandas.cut) or pass "
                "it alone."
            )
    combined = pd.Series(
        list(frame.itertuples(index=False, name=None)),
        index=frame.index,
        name=" & ".join(str(c) for c in frame.columns),
        dtype=object,
    )
    return combined


def encode_sensitive(sensitive_features: Any, n_samples: int) -> tuple[np.ndarray, str, Any]:
    """Validate z and encode it for the adversary.

    Returns the encoded values, the kind (``"binary"``, ``"multiclass"`` or ``"continuous"``)
    and the levels (categorical) or ``(mean, scale)`` (continuous).
    """
    if sensitive_features is None:
        raise DataError(
            "sensitive_features is required: the adversary learns to predict it. Pass "
            "fit(X, y, sensitive_features=z) with one value per row of X."
        )
    z = as_1d(_combine_columns(sensitive_features), name="sensitive_features")
    check_consistent_length(X=np.empty(n_samples), sensitive_features=z)
    missing = np.flatnonzero(pd.isna(z).to_numpy())
    if missing.size:
        raise MissingValueError(
            f"sensitive_features has {missing.size} missing value(s) at rows "
            f"{format_values(missing)}; remove those rows or give them a level of their own."
        )
    check_one_label_type(z, name="sensitive_features")
    if pd.api.types.is_float_dtype(z.dtype):
        values = z.to_numpy(dtype=np.float64)
        if not np.isfinite(values).all():
            bad = np.flatnonzero(~np.isfinite(values))
            raise MissingValueError(
                f"sensitive_features has infinite values at rows {format_values(bad)}."
            )
        if not np.all(values == np.round(values)):
            scale = float(values.std())
            if scale == 0.0:
                raise DataError("sensitive_features is constant; it needs at least two values.")
            mean = float(values.mean())
            return ((values - mean) / scale).astype(np.float32), "continuous", (mean, scale)
    levels, codes = np.unique(z.astype(str).to_numpy(dtype=str), return_inverse=True)
    original = list(pd.unique(z))
    if len(levels) < 2:
        raise DataError(
            f"sensitive_features has a single level {format_values(original)} "
            f"(n_samples={n_samples}); the adversary needs at least two groups."
        )
    # keep the user's labels, ordered like their string forms
    by_string = {str(v): v for v in original}
    labels = [by_string[s] for s in levels]
    if len(levels) == 2:
        return codes.astype(np.float32), "binary", labels
    return codes.astype(np.int64), "multiclass", labels


class _AdversarialBase(BaseEstimator):
    """Parameters and fitting shared by the classifier and the regressor."""

    _task = "binary"

    def __init__(
        self,
        *,
        constraint: str = "demographic_parity",
        alpha: float | Literal["auto"] = "auto",
        alpha_schedule: AlphaSchedule = "constant",
        mode: str = "projection",
        predictor: Any = None,
        hidden_layer_sizes: Sequence[int] = (32,),
        adversary: Any = None,
        adversary_hidden_layer_sizes: Sequence[int] = (16,),
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        adversary_learning_rate: float = 1e-2,
        lr_decay: str | None = None,
        batch_size: int = 256,
        epochs: int = 20,
        adversary_steps: int | Literal["auto"] = "auto",
        warmup_epochs: int = 0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        callbacks: Sequence[Callable[..., Any]] | None = None,
        progress: bool | None = None,
        device: str = "cpu",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        self.constraint = constraint
        self.alpha = alpha
        self.alpha_schedule = alpha_schedule
        self.mode = mode
        self.predictor = predictor
        self.hidden_layer_sizes = hidden_layer_sizes
        self.adversary = adversary
        self.adversary_hidden_layer_sizes = adversary_hidden_layer_sizes
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.adversary_learning_rate = adversary_learning_rate
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.adversary_steps = adversary_steps
        self.warmup_epochs = warmup_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.progress = progress
        self.device = device
        self.random_state = random_state

    # -- validation ------------------------------------------------------------------------
    def _check_params(self) -> None:
        allowed = _CONSTRAINTS if self._task == "binary" else _CONSTRAINTS[:2]
        if self.constraint not in allowed:
            raise ValueError(f"constraint must be one of {list(allowed)}, got {self.constraint!r}.")
        if self.mode not in ("projection", "grl"):
            raise ValueError(f"mode must be 'projection' or 'grl', got {self.mode!r}.")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}.")
        check_alpha_schedule(self.alpha_schedule)
        for name in ("alpha", "learning_rate", "adversary_learning_rate"):
            value = getattr(self, name)
            if name == "alpha" and isinstance(value, str) and value == "auto":
                continue
            if isinstance(value, str):
                raise TypeError(f"{name} must be a number{_or_auto(name)}, got the str {value!r}.")
            if not isinstance(value, numbers.Real) or not np.isfinite(float(value)) or value < 0:
                raise ValueError(
                    f"{name} must be a finite number >= 0{_or_auto(name)}, got {value!r}."
                )
        for name in ("batch_size", "epochs", "adversary_steps", "n_iter_no_change"):
            value = getattr(self, name)
            if name == "adversary_steps" and isinstance(value, str) and value == "auto":
                continue
            if isinstance(value, str):
                raise TypeError(
                    f"{name} must be an integer >= 1{_or_auto(name)}, got the str {value!r}."
                )
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if self.predictor is None:
            _check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
        if self.adversary is None:
            _check_layer_sizes(self.adversary_hidden_layer_sizes, "adversary_hidden_layer_sizes")
        _check_random_state(self.random_state)
        if not isinstance(self.device, str):
            raise TypeError(f"device must be a str such as 'cpu' or 'cuda', got {self.device!r}.")
        if not isinstance(self.warmup_epochs, numbers.Integral) or self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be an integer >= 0, got {self.warmup_epochs!r}.")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}."
            )

    def _resolve_auto(self) -> tuple[float, int]:
        """Return the alpha and adversary steps to use (given, or the constraint's defaults)."""
        regression = self._task == "regression"
        if isinstance(self.alpha, str):
            alpha = _AUTO_ALPHA_REGRESSION if regression else _AUTO_ALPHA[self.constraint]
        else:
            alpha = float(self.alpha)
        if isinstance(self.adversary_steps, str):
            steps = (
                _AUTO_ADVERSARY_STEPS_REGRESSION
                if regression
                else _AUTO_ADVERSARY_STEPS[self.constraint]
            )
        else:
            steps = int(self.adversary_steps)
        return alpha, steps

    def _fit_config(self, alpha: float, adversary_steps: int) -> FitConfig:
        """Return the validated parameters (``"auto"`` resolved) as the config of one fit."""
        return FitConfig(
            constraint=self.constraint,
            mode=self.mode,
            alpha=float(alpha),
            alpha_schedule=self.alpha_schedule,
            hidden_layer_sizes=self.hidden_layer_sizes,
            adversary_hidden_layer_sizes=self.adversary_hidden_layer_sizes,
            # the regressor has no adversary_input: its adversary always sees the output
            adversary_input=getattr(self, "adversary_input", "concat"),
            predictor=self.predictor,
            adversary=self.adversary,
            optimizer=self.optimizer,
            learning_rate=float(self.learning_rate),
            adversary_learning_rate=float(self.adversary_learning_rate),
            lr_decay=self.lr_decay,
            batch_size=int(self.batch_size),
            epochs=int(self.epochs),
            adversary_steps=int(adversary_steps),
            warmup_epochs=int(self.warmup_epochs),
            early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction),
            n_iter_no_change=int(self.n_iter_no_change),
            callbacks=tuple(self.callbacks or ()),
            progress=self.progress,
            device=self.device,
        )

    def _fit_encoded(
        self,
        X: np.ndarray,
        y: np.ndarray,
        z: np.ndarray,
        n_z_outputs: int,
        z_kind: str,
        sample_weight: np.ndarray | None = None,
        *,
        task: str | None = None,
        n_classes: int = 2,
    ) -> None:
        torch_backend = _backend(f"{type(self).__name__}.fit()")
        import torch

        _check_device(self.device, torch)
        self.alpha_, self.adversary_steps_ = self._resolve_auto()
        seed = int(as_generator(self.random_state).integers(2**62))
        result = torch_backend.fit_networks(
            self._fit_config(self.alpha_, self.adversary_steps_),
            X,
            y,
            z,
            task=task or self._task,
            z_kind=z_kind,
            n_z_outputs=n_z_outputs,
            seed=seed,
            sample_weight=sample_weight,
            n_classes=n_classes,
        )
        self.predictor_ = result.predictor
        self.adversary_ = result.adversary
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.n_iter_ = len(self.history_)

    def _raw_output(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "predictor_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        torch_backend = _backend(f"{type(self).__name__}.predict()")
        return torch_backend.predict_output(self.predictor_, X, batch_size=4096)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class AdversarialDebiasingClassifier(ClassifierMixin, _AdversarialBase):
    """Classifier trained against an adversary that tries to recover z from its output.

    A predictor learns y from X while an adversary learns the sensitive variable z from the
    predictor's output (plus y for equalized odds; only the rows with y = 1 for equal
    opportunity). The predictor's update removes the part of its gradient that would help the
    adversary and adds a term that hurts it (Zhang, Lemoine & Mitchell 2018), or goes through a
    gradient-reversal layer (``mode="grl"``).

    Parameters
    ----------
    constraint : {"demographic_parity", "equalized_odds", "equal_opportunity"}, \
default="demographic_parity"
        What the predictions should not reveal about z: z itself, z given y, or z given
        y = 1.
    alpha : float or "auto", default="auto"
        Weight of the adversary in the predictor's update; larger removes more dependence
        at a cost in accuracy. ``"auto"`` takes the constraint's default: 3 for demographic
        parity, 25 for equalized odds and equal opportunity (chosen on a validation split of
        UCI Adult's training data; see Notes). The value used is ``alpha_``.
    alpha_schedule : {"constant", "sqrt", "ramp"} or callable, default="constant"
        ``"sqrt"``: ``alpha * sqrt(t)`` with ``t`` in epochs (the paper's, pair it with
        ``lr_decay="inverse_time"``); ``"ramp"``: the DANN sigmoid ramp from 0 to ``alpha``;
        a callable maps the share of training done (0 to 1) to a multiplier of ``alpha``.
    mode : {"projection", "grl"}, default="projection"
        The projection update of Zhang et al., or a gradient-reversal layer.
    predictor : torch.nn.Module, optional
        Your own predictor mapping a float32 batch of shape (n, n_features) to logits of
        shape (n,) or (n, 1). It is copied at ``fit``; the trained copy is ``predictor_``.
        Default: a ReLU MLP with ``hidden_layer_sizes``.
    hidden_layer_sizes : sequence of int, default=(32,)
        Hidden layers of the default predictor; ``()`` gives logistic regression (the
        paper's predictor).
    adversary : torch.nn.Module, optional
        Your own adversary, called as ``adversary(logits, y)`` and returning one logit per row
        for a binary z, one per level for a multi-class z, one value for a continuous z.
        Default: :class:`ZhangAdversary` reading ``sigmoid((1 + |c|) logit)`` (and ``y`` for
        equalized odds) through an MLP with ``adversary_hidden_layer_sizes``.
    adversary_hidden_layer_sizes : sequence of int, default=(16,)
        Hidden layers of the default adversary; ``()`` gives the paper's linear adversary.
    adversary_input : {"zhang_y", "zhang", "concat"}, default="zhang_y"
        For equalized odds, what the default adversary reads: ``[s, s y, s (1 - y), y]``,
        the paper's ``[s, s y, s (1 - y)]``, or the raw logit concatenated with ``y``.
    optimizer : {"adam", "sgd"}, default="adam"
        Optimizer of both networks. With SGD the predictor's step is exactly the projected
        gradient; Adam rescales it per coordinate (see Notes).
    learning_rate, adversary_learning_rate : float, default=1e-3, 1e-2
        Step sizes of the predictor and the adversary. A faster adversary tracks the
        predictor more closely.
    lr_decay : {None, "inverse_time"}, default=None
        ``"inverse_time"`` divides both learning rates by ``t`` (epochs, from 1).
    batch_size : int, default=256
        Rows per step.
    epochs : int, default=10
        Passes over the training data (warm-up included).
    adversary_steps : int or "auto", default="auto"
        Adversary updates per predictor update. ``"auto"``: 5 for equalized odds and equal
        opportunity, 3 for demographic parity. The value used is ``adversary_steps_``.
    warmup_epochs : int, default=0
        Epochs of the predictor alone before the adversary starts.
    early_stopping : bool, default=False
        Hold out a random ``validation_fraction`` of the rows and stop when the
        validation objective ``predictor_loss - alpha * adversary_loss`` has not improved for
        ``n_iter_no_change`` epochs; the best weights are restored.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    callbacks : sequence of callable, optional
        Called after each epoch as ``callback(trainer, epoch, logs)``; returning True stops.
    progress : bool or None, default=None
        tqdm progress bar over epochs; None shows it only when stderr is a terminal.
    device : str, default="cpu"
        torch device of the default networks and of the data.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds a local ``torch.Generator`` for the initial weights and the data order (the
        global torch seed is never touched). Two fits with the same int give the same model.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels; with two classes ``classes_[1]`` is the positive class.
    alpha_ : float
        The adversary weight used (``alpha``, or the constraint's default for ``"auto"``).
    adversary_steps_ : int
        The adversary updates per predictor step used.
    predictor_ : torch.nn.Module
        The trained predictor (outputs logits).
    adversary_ : torch.nn.Module
        The trained adversary.
    history_ : list of dict
        Per epoch: ``epoch``, ``alpha``, ``predictor_loss``, ``adversary_loss`` (and the
        ``val_`` losses and ``val_objective`` with early stopping).
    best_epoch_ : int or None
        The epoch restored by early stopping.
    n_iter_ : int
        Epochs run.
    sensitive_kind_ : str
        ``"binary"``, ``"multiclass"`` or ``"continuous"``: a float z with non-integer values
        is continuous (squared-error adversary), anything else categorical.
    sensitive_levels_ : list or tuple
        The levels of z, or ``(mean, scale)`` of a continuous z.
    n_features_in_ : int
        Number of features.
    feature_names_in_ : ndarray of str
        Column names, when X was a DataFrame with string column names.

    See Also
    --------
    AdversarialTrainer : the loop for your own torch model, optimizers and DataLoader.
    leakage : check afterwards how well z can still be recovered from the scores.

    Notes
    -----
    Projection update for each predictor parameter W, with flattened gradients:
    ``g = grad_W L_P - proj_{grad_W L_A} grad_W L_P - alpha * grad_W L_A``. The projection
    removes the component of the predictor's gradient that would help the adversary; the
    last term moves against it. Adam then divides each coordinate by its running scale, so
    the applied step is not exactly orthogonal to ``grad_W L_A``; use ``optimizer="sgd"``
    for the exact update.

    X must be numeric; scale it (e.g. ``StandardScaler`` in a Pipeline, passing
    ``sensitive_features`` as ``clf__sensitive_features``). With more than two classes the
    predictor has one logit per class; ``equal_opportunity`` needs two classes, and the
    ``"auto"`` defaults were chosen on a binary task only.

    Debiasing reduces what the adversary can recover, not necessarily the gaps at the 0.5
    threshold: check both, with :func:`leakage` and group metrics on held-out data.

    The defaults (``alpha="auto"``, ``adversary_steps="auto"``, ``epochs=10``, a 32-unit
    predictor and a 16-unit adversary) are the settings chosen on a validation split of UCI
    Adult's training data (20 %, stratified by income and sex, seeds 0-2). With them,
    equalized odds reaches FPR and FNR gaps under 0.02 and 0.05 at accuracy over 0.82 on
    Adult's test split, and demographic parity a selection-rate difference of 0.014 (see
    ``docs/debiasing.md``). They are a starting point, not a guarantee on other data: check
    the gaps on held-out rows, and raise ``alpha`` if they remain.

    References
    ----------
    Zhang, B. H., Lemoine, B. and Mitchell, M. (2018). Mitigating unwanted biases with
    adversarial learning. AIES. https://arxiv.org/abs/1801.07593

    Ganin, Y. and Lempitsky, V. (2015). Unsupervised domain adaptation by backpropagation.
    ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from fairaudit.debias import AdversarialDebiasingClassifier
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 200)
    >>> X = np.c_[rng.normal(size=200) + z, rng.normal(size=200)]
    >>> y = (X[:, 0] + X[:, 1] > 0.5).astype(int)
    >>> clf = AdversarialDebiasingClassifier(alpha=1.0, epochs=3, random_state=0)
    >>> clf.fit(X, y, sensitive_features=z).predict(X[:4]).shape
    (4,)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _task = "binary"

    def __init__(
        self,
        *,
        constraint: str = "demographic_parity",
        alpha: float | Literal["auto"] = "auto",
        alpha_schedule: AlphaSchedule = "constant",
        mode: str = "projection",
        predictor: Any = None,
        hidden_layer_sizes: Sequence[int] = (32,),
        adversary: Any = None,
        adversary_hidden_layer_sizes: Sequence[int] = (16,),
        adversary_input: str = "zhang_y",
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        adversary_learning_rate: float = 1e-2,
        lr_decay: str | None = None,
        batch_size: int = 256,
        epochs: int = 10,
        adversary_steps: int | Literal["auto"] = "auto",
        warmup_epochs: int = 0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        callbacks: Sequence[Callable[..., Any]] | None = None,
        progress: bool | None = None,
        device: str = "cpu",
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            constraint=constraint,
            alpha=alpha,
            alpha_schedule=alpha_schedule,
            mode=mode,
            predictor=predictor,
            hidden_layer_sizes=hidden_layer_sizes,
            adversary=adversary,
            adversary_hidden_layer_sizes=adversary_hidden_layer_sizes,
            optimizer=optimizer,
            learning_rate=learning_rate,
            adversary_learning_rate=adversary_learning_rate,
            lr_decay=lr_decay,
            batch_size=batch_size,
            epochs=epochs,
            adversary_steps=adversary_steps,
            warmup_epochs=warmup_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            callbacks=callbacks,
            progress=progress,
            device=device,
            random_state=random_state,
        )
        self.adversary_input = adversary_input

    def fit(
        self, X: Any, y: Any, *, sensitive_features: Any = None, sample_weight: Any = None
    ) -> AdversarialDebiasingClassifier:
        """Train predictor and adversary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (z need not be among them).
        y : array-like of shape (n_samples,)
            Class labels: two classes, or more (the predictor then has one output per class
            and a softmax; the default adversary reads the class probabilities, and for
            equalized odds their products with the one-hot y).
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            The variable z the predictions should not reveal: binary, multi-class, or
            continuous (float with non-integer values). Several columns (a DataFrame or a
            2-D array, e.g. sex and race) are one multi-class z whose levels are their
            combinations: the adversary learns the intersectional group.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights. Each epoch draws the training rows with replacement in
            proportion to them, so the predictor's and the adversary's losses are the
            weighted losses in expectation (integer weights act like repeated rows, up to
            sampling noise); equal weights give exactly the unweighted fit.

        Returns
        -------
        AdversarialDebiasingClassifier
            ``self``, fitted.
        """
        self._check_params()
        if self.adversary_input not in ("zhang_y", "zhang", "concat"):
            raise ValueError(
                "adversary_input must be 'zhang_y', 'zhang' or 'concat', "
                f"got {self.adversary_input!r}."
            )
        X, y, sensitive_features = _aligned(X, y, sensitive_features)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(
                f"y has only one class {format_values(classes)}; a classifier needs at least "
                f"two classes. The type of the target is {type_of_target(y)}."
            )
        if len(classes) > 2 and self.constraint == "equal_opportunity":
            raise ValueError(
                f"constraint='equal_opportunity' needs a binary y (it conditions on the "
                f"positive class), got {len(classes)} classes {format_values(classes)}; use "
                "constraint='equalized_odds' for a multi-class y."
            )
        self.classes_ = classes
        if len(classes) == 2:
            task, y_enc = "binary", (y == classes[1]).astype(np.float32)
        else:
            task, y_enc = "multiclass", np.searchsorted(classes, y).astype(np.float32)
        z, kind, levels = encode_sensitive(sensitive_features, X.shape[0])
        self.sensitive_kind_ = kind
        self.sensitive_levels_ = levels
        n_z = len(levels) if kind == "multiclass" else 1
        weights = check_sample_weight(sample_weight, X.shape[0])
        self._fit_encoded(X, y_enc, z, n_z, kind, weights, task=task, n_classes=len(classes))
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Logits: of the positive class, shape (n_samples,), or one per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predictor's logits (one column per class of ``classes_`` for more than
            two classes).
        """
        return self._raw_output(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Two classes: ``[1 - p, p]`` with ``p`` the probability of ``classes_[1]``; more:
            the softmax of the logits.
        """
        logit = self._raw_output(X).astype(np.float64)
        if logit.ndim == 2:
            shifted = logit - logit.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            return e / e.sum(axis=1, keepdims=True)
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -500, 500)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels: ``classes_[1]`` where the logit is > 0, or the largest logit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        out = self._raw_output(X)
        if out.ndim == 2:
            return self.classes_[np.argmax(out, axis=1)]
        return self.classes_[(out > 0).astype(int)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = True
        return tags


class AdversarialDebiasingRegressor(RegressorMixin, _AdversarialBase):
    """Regressor trained against an adversary that tries to recover z from its predictions.

    The predictor minimizes squared error on a standardized target; the adversary reads the
    prediction (concatenated with y for ``constraint="equalized_odds"``) through an MLP. The
    update is the same as :class:`AdversarialDebiasingClassifier`'s (projection or gradient
    reversal).

    Parameters
    ----------
    constraint : {"demographic_parity", "equalized_odds"}, default="demographic_parity"
        Predictions independent of z, or independent of z given y.
    alpha : float or "auto", default="auto"
        Weight of the adversary; ``"auto"`` is 1.0 for the regressor (``alpha_``).
    adversary_steps : int or "auto", default="auto"
        Adversary updates per predictor update; ``"auto"`` is 3 (``adversary_steps_``).
    epochs : int, default=20
        Passes over the training data.
    alpha_schedule, mode, optimizer, learning_rate, adversary_learning_rate, \
lr_decay, batch_size, warmup_epochs, early_stopping, \
validation_fraction, n_iter_no_change, callbacks, progress, device, random_state
        As for :class:`AdversarialDebiasingClassifier`.
    predictor : torch.nn.Module, optional
        Your own predictor, returning shape (n,) or (n, 1) (on the standardized target).
    hidden_layer_sizes : sequence of int, default=(32,)
        Hidden layers of the default predictor.
    adversary : torch.nn.Module, optional
        Your own adversary, called as ``adversary(prediction, y)``.
    adversary_hidden_layer_sizes : sequence of int, default=(16,)
        Hidden layers of the default :class:`ConcatAdversary`.

    Attributes
    ----------
    predictor_, adversary_, history_, best_epoch_, n_iter_, sensitive_kind_, \
sensitive_levels_, n_features_in_, feature_names_in_, alpha_, adversary_steps_
        As for :class:`AdversarialDebiasingClassifier`.
    y_mean_, y_scale_ : float
        Standardization of the target (predictions are transformed back).

    Examples
    --------
    >>> import numpy as np
    >>> from fairaudit.debias import AdversarialDebiasingRegressor
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 200)
    >>> X = np.c_[rng.normal(size=200) + z, rng.normal(size=200)]
    >>> y = X[:, 0] + X[:, 1]
    >>> reg = AdversarialDebiasingRegressor(epochs=3, random_state=0)
    >>> reg.fit(X, y, sensitive_features=z).predict(X[:3]).shape
    (3,)
    """

    _task = "regression"

    def fit(
        self, X: Any, y: Any, *, sensitive_features: Any = None, sample_weight: Any = None
    ) -> AdversarialDebiasingRegressor:
        """Train predictor and adversary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,)
            Numeric target.
        sensitive_features : array-like of shape (n_samples,) or (n_samples, n_columns)
            The variable z the predictions should not reveal; several categorical columns
            are combined into one multi-class z, as for the classifier.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights. Each epoch draws the training rows with replacement in
            proportion to them, so the predictor's and the adversary's losses are the
            weighted losses in expectation (integer weights act like repeated rows, up to
            sampling noise); equal weights give exactly the unweighted fit.

        Returns
        -------
        AdversarialDebiasingRegressor
            ``self``, fitted.
        """
        self._check_params()
        X, y, sensitive_features = _aligned(X, y, sensitive_features)
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], y_numeric=True)
        if type_of_target(y) in ("multiclass-multioutput", "continuous-multioutput"):
            raise DataError("y must be 1-dimensional; pass one target value per row.")
        y = np.asarray(y, dtype=np.float64)
        self.y_mean_ = float(y.mean())
        scale = float(y.std())
        self.y_scale_ = scale if scale > 0 else 1.0
        y_std = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)
        z, kind, levels = encode_sensitive(sensitive_features, X.shape[0])
        self.sensitive_kind_ = kind
        self.sensitive_levels_ = levels
        n_z = len(levels) if kind == "multiclass" else 1
        weights = check_sample_weight(sample_weight, X.shape[0])
        self._fit_encoded(X, y_std, z, n_z, kind, weights)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values, shape (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predictions on the scale of y.
        """
        return self._raw_output(X).astype(np.float64) * self.y_scale_ + self.y_mean_
