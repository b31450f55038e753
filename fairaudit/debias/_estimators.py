"""scikit-learn estimators for adversarial debiasing (torch imported only inside methods)."""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from fairaudit._optional import import_optional
from fairaudit._validation import (
    as_1d,
    as_generator,
    check_batch_size,
    check_consistent_length,
    check_count,
    check_random_state,
    format_values,
)
from fairaudit.debias._config import CONSTRAINTS, FitConfig
from fairaudit.debias._schedules import AlphaSchedule, check_alpha_schedule
from fairaudit.exceptions import DataError, MissingValueError

__all__ = ["AdversarialDebiasingClassifier", "AdversarialDebiasingRegressor"]

_CONSTRAINTS = CONSTRAINTS


def _backend(purpose: str) -> ModuleType:
    """Import torch (with the install hint when missing), then the torch fit module."""
    import_optional("torch", purpose=purpose)
    return importlib.import_module("fairaudit.debias._fit")


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
    z = as_1d(sensitive_features, name="sensitive_features")
    check_consistent_length(X=np.empty(n_samples), sensitive_features=z)
    missing = np.flatnonzero(pd.isna(z).to_numpy())
    if missing.size:
        raise MissingValueError(
            f"sensitive_features has {missing.size} missing value(s) at rows "
            f"{format_values(missing)}; remove those rows or give them a level of their own."
        )
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
    levels, codes = np.unique(z.to_numpy(dtype=object).astype(str), return_inverse=True)
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
        alpha: float = 1.0,
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
        adversary_steps: int = 3,
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
            if not isinstance(value, numbers.Real) or not np.isfinite(float(value)) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
        check_batch_size(self.batch_size, allow_none=False)
        for name in ("epochs", "adversary_steps", "n_iter_no_change"):
            check_count(getattr(self, name), name=name, min_val=1)
        check_count(self.warmup_epochs, name="warmup_epochs", min_val=0)
        check_random_state(self.random_state)
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}."
            )

    def _fit_config(self) -> FitConfig:
        """Return the validated parameters as the typed config of one fit."""
        return FitConfig(
            constraint=self.constraint,
            mode=self.mode,
            alpha=float(self.alpha),
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
            adversary_steps=int(self.adversary_steps),
            warmup_epochs=int(self.warmup_epochs),
            early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction),
            n_iter_no_change=int(self.n_iter_no_change),
            callbacks=tuple(self.callbacks or ()),
            progress=self.progress,
            device=self.device,
        )

    def _fit_encoded(
        self, X: np.ndarray, y: np.ndarray, z: np.ndarray, n_z_outputs: int, z_kind: str
    ) -> None:
        torch_backend = _backend(f"{type(self).__name__}.fit()")
        seed = int(as_generator(self.random_state).integers(2**62))
        result = torch_backend.fit_networks(
            self._fit_config(),
            X,
            y,
            z,
            task=self._task,
            z_kind=z_kind,
            n_z_outputs=n_z_outputs,
            seed=seed,
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
    """Binary classifier trained against an adversary that tries to recover z from its output.

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
    alpha : float, default=1.0
        Weight of the adversary in the predictor's update; larger removes more dependence
        at a cost in accuracy.
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
    epochs : int, default=20
        Passes over the training data (warm-up included).
    adversary_steps : int, default=3
        Adversary updates per predictor update.
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
    classes_ : ndarray of shape (2,)
        The labels; ``classes_[1]`` is the positive class.
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
    ``sensitive_features`` as ``clf__sensitive_features``). The classifier is binary only.

    Debiasing reduces what the adversary can recover, not necessarily the gaps at the 0.5
    threshold: check both, with :func:`leakage` and group metrics on held-out data.

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
        alpha: float = 1.0,
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
        epochs: int = 20,
        adversary_steps: int = 3,
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
        self, X: Any, y: Any, *, sensitive_features: Any = None
    ) -> AdversarialDebiasingClassifier:
        """Train predictor and adversary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (z need not be among them).
        y : array-like of shape (n_samples,)
            Binary labels.
        sensitive_features : array-like of shape (n_samples,)
            The variable z the predictions should not reveal: binary, multi-class, or
            continuous (float with non-integer values).

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
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) != 2:
            raise DataError(
                f"y must be binary (two classes), got {len(classes)} class"
                f"{'es' if len(classes) > 1 else ''} {format_values(classes)}. Only binary "
                f"classification is supported. The type of the target is {type_of_target(y)}."
            )
        self.classes_ = classes
        y01 = (y == classes[1]).astype(np.float32)
        z, kind, levels = encode_sensitive(sensitive_features, X.shape[0])
        self.sensitive_kind_ = kind
        self.sensitive_levels_ = levels
        n_z = len(levels) if kind == "multiclass" else 1
        self._fit_encoded(X, y01, z, n_z, kind)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Logit of the positive class, shape (n_samples,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predictor's logits.
        """
        return self._raw_output(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2), columns ordered as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            ``[1 - p, p]`` with ``p`` the probability of ``classes_[1]``.
        """
        logit = self._raw_output(X).astype(np.float64)
        p = 1.0 / (1.0 + np.exp(-np.clip(logit, -500, 500)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (``classes_[1]`` where the logit is > 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        positive = self._raw_output(X) > 0
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
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
    alpha, alpha_schedule, mode, optimizer, learning_rate, adversary_learning_rate, \
lr_decay, batch_size, epochs, adversary_steps, warmup_epochs, early_stopping, \
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
sensitive_levels_, n_features_in_, feature_names_in_
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
        self, X: Any, y: Any, *, sensitive_features: Any = None
    ) -> AdversarialDebiasingRegressor:
        """Train predictor and adversary.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features.
        y : array-like of shape (n_samples,)
            Numeric target.
        sensitive_features : array-like of shape (n_samples,)
            The variable z the predictions should not reveal.

        Returns
        -------
        AdversarialDebiasingRegressor
            ``self``, fitted.
        """
        self._check_params()
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
        self._fit_encoded(X, y_std, z, n_z, kind)
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
