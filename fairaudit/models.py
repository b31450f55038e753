"""Get predictions out of any model: the only module that knows how models are called.

A model behind an HTTP endpoint is one more kind: :class:`Endpoint` (implemented in
``fairaudit._endpoint``) is accepted by :func:`wrap` like any other model.

:func:`wrap` turns a fitted scikit-learn estimator or pipeline, a torch ``nn.Module``, a plain
callable, or a "predictor class" object (``predict(payload)`` on JSON-like records, as model
servers such as Cortex use) into a :class:`WrappedModel` with one interface:
``predict(X)`` for labels and ``predict_score(X)`` for the score of the positive class. Every
output is checked: one row per input row, the expected shape, no NaN or infinite values (rows
are never dropped).

torch and scikit-learn are imported only when a model of theirs is wrapped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._endpoint import Endpoint

# Aliased: this module is public, and only wrap, WrappedModel and Endpoint are its names.
from fairaudit._results import json_safe as _json_safe
from fairaudit._validation import check_batch_size as _check_batch_size
from fairaudit._validation import format_values as _format_values
from fairaudit.exceptions import DataError as _DataError
from fairaudit.exceptions import ModelError as _ModelError

__all__ = ["Endpoint", "WrappedModel", "wrap"]

logger = logging.getLogger(__name__)

ResponseMethod = Literal["auto", "predict", "predict_proba", "decision_function"]
Task = Literal["binary", "multiclass", "regression"]
ModelKind = Literal["sklearn", "torch", "callable", "predictor", "endpoint"]

_RESPONSE_METHODS = ("auto", "predict", "predict_proba", "decision_function")
# predict_proba output: how far outside [0, 1], and how far from summing to 1, float32 rounding
# of a softmax can take it
_PROBA_ATOL = 1e-6
_PROBA_SUM_ATOL = 1e-4
_TASKS = ("binary", "multiclass", "regression")
_TORCH_DEFAULT_BATCH = 4096


def _is_torch_module(obj: Any) -> bool:
    """Tell a torch ``nn.Module`` from its class hierarchy, without importing torch."""
    return any(
        cls.__module__.startswith("torch.nn") and cls.__name__ == "Module"
        for cls in type(obj).__mro__
    )


def _model_name(obj: Any) -> str:
    if callable(obj) and hasattr(obj, "__qualname__") and not isinstance(obj, type):
        return str(obj.__qualname__)
    return type(obj).__name__


def _from_foreign(X: Any) -> Any:
    module = type(X).__module__
    if module.startswith(("polars", "pyarrow")):
        return X.to_pandas()
    return X


def _n_rows(X: Any, name: str = "X") -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError as exc:
        raise TypeError(
            f"{name} must be array-like with one row per sample, got {type(X).__name__}."
        ) from exc


def _slice(X: Any, start: int, stop: int) -> Any:
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[start:stop]
    return X[start:stop]


def _to_numpy(out: Any) -> np.ndarray:
    """Model output to a numpy array (torch tensors detached and moved to the CPU)."""
    if hasattr(out, "detach") and hasattr(out, "cpu"):
        out = out.detach().cpu().numpy()
    elif isinstance(out, pd.DataFrame | pd.Series):
        out = out.to_numpy()
    return np.asarray(out)


class WrappedModel:
    """A model behind one interface: ``predict`` for labels, ``predict_score`` for scores.

    Build it with :func:`wrap`; the constructor is not public.

    Attributes
    ----------
    model : object
        The wrapped model, unchanged.
    kind : {"sklearn", "torch", "callable", "predictor"}
        How the model is called.
    response_method : {"predict", "predict_proba", "decision_function"}
        What the model's output is (``"auto"`` resolved).
    task : {"binary", "multiclass", "regression"}
        The prediction task.
    output_kind : {"score", "label"}
        What :meth:`predict_score` really returns: ``"label"`` when the model gives only
        labels (then the score is the 0/1 indicator of ``pos_label``).
    classes_ : numpy.ndarray or None
        The class labels (scikit-learn's ``classes_``; ``[0, 1]`` or ``0..k-1`` for other
        classifiers; None for regression and for label-only models).
    pos_label : object or None
        The positive class (binary task), whose score :meth:`predict_score` returns.
    batch_size : int or None
        Rows per model call (None: all rows at once).
    """

    def __init__(
        self,
        model: Any,
        *,
        kind: ModelKind,
        response_method: str,
        task: Task | None,
        classes: np.ndarray | None,
        pos_label: Any,
        batch_size: int | None,
        pos_label_given: bool = False,
    ) -> None:
        self._model = model
        self._pos_label_given = pos_label_given
        self._kind = kind
        self._response_method = response_method
        self._task = task
        self._classes = classes
        self._pos_label = pos_label
        self._batch_size = batch_size
        self._name = _model_name(model)

    # -- read-only description --------------------------------------------------------------

    @property
    def model(self) -> Any:
        """The wrapped model."""
        return self._model

    @property
    def kind(self) -> ModelKind:
        """How the model is called: sklearn, torch, callable or predictor."""
        return self._kind

    @property
    def response_method(self) -> str:
        """What the model's output is: predict, predict_proba or decision_function."""
        return self._response_method

    @property
    def task(self) -> Task:
        """The prediction task: binary, multiclass or regression.

        For torch modules, callables and predictor objects wrapped without ``task=``, a score
        output with more than two columns switches it from ``"binary"`` to ``"multiclass"``
        on the first call.
        """
        return self._task or "binary"

    @property
    def output_kind(self) -> Literal["score", "label"]:
        """What :meth:`predict_score` returns: ``"score"`` or ``"label"`` (0/1 indicator)."""
        if self.task == "regression" or self._response_method != "predict":
            return "score"
        return "label"

    @property
    def classes_(self) -> np.ndarray | None:
        """The class labels, or None."""
        return None if self._classes is None else self._classes.copy()

    @property
    def pos_label(self) -> Any:
        """The positive class of a binary task."""
        return self._pos_label

    @property
    def batch_size(self) -> int | None:
        """Rows per model call."""
        return self._batch_size

    def describe(self) -> dict[str, Any]:
        """Return a JSON-safe description of the wrapped model, for provenance.

        Returns
        -------
        dict
            ``model`` (class or function name), ``kind``, ``task``, ``response_method``,
            ``output_kind``, ``classes`` (list or None), ``pos_label``, ``batch_size``.

        Examples
        --------
        >>> import fairaudit as fa
        >>> fa.wrap(lambda X: [1] * len(X)).describe()["kind"]
        'callable'
        """
        description = {
            "model": self._name,
            "kind": self._kind,
            "task": self.task,
            "response_method": self._response_method,
            "output_kind": self.output_kind,
            "classes": None if self._classes is None else list(self._classes),
            "pos_label": self._pos_label,
            "batch_size": self._batch_size,
        }
        if self._kind == "endpoint":
            description["endpoint"] = self._model.describe()  # never the headers
        return _json_safe(description)

    def __repr__(self) -> str:
        return (
            f"WrappedModel(model={self._name}, kind={self._kind!r}, task={self.task!r}, "
            f"response_method={self._response_method!r}, pos_label={self._pos_label!r})"
        )

    # -- predictions ------------------------------------------------------------------------

    def predict(self, X: Any) -> np.ndarray:
        """Predict labels (classification) or values (regression).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Passed to the model as it is (a DataFrame stays a DataFrame for scikit-learn
            pipelines); polars and pyarrow tables are converted to pandas first.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            For scikit-learn classifiers, the model's own ``predict``. For other models giving
            scores, the positive class when the score exceeds 0.5 (probabilities) or 0
            (decision values / logits), else the other class; the arg-max class for
            multiclass scores.

        Raises
        ------
        ModelError
            The model raised, or returned the wrong number of rows, the wrong shape, or
            missing or infinite values (their row positions are listed).
        """
        X, n = self._prepare(X)
        if (
            self._kind == "sklearn"
            or self._response_method == "predict"
            or self.task == "regression"
            or (self._kind == "endpoint" and self._model.label is not None)
        ):
            method = self._method("predict")
            out = self._call(X, n, method)
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if out.ndim != 1:
                raise _ModelError(
                    f"{self._name}.{method} returned an array of shape {out.shape}; expected "
                    f"({n},), one prediction per row."
                )
            return out
        return self._labels_from_scores(self._scores(X, n))

    def predict_score(self, X: Any) -> np.ndarray:
        """Score of the positive class (binary), class scores (multiclass), or values.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            As for :meth:`predict`.

        Returns
        -------
        numpy.ndarray of shape (n_samples,) or (n_samples, n_classes), float
            Binary: the probability (``predict_proba``) or decision value
            (``decision_function``; negated when ``pos_label`` is the first class) of
            ``pos_label``. Multiclass: one column per class of ``classes_``. Regression: the
            predicted values. When the model gives only labels (``output_kind == "label"``),
            the 0/1 indicator of ``pos_label`` (binary) or a one-hot matrix (multiclass).

        Raises
        ------
        ModelError
            As for :meth:`predict`.
        """
        X, n = self._prepare(X)
        if self.task == "regression":
            return self.predict(X).astype(np.float64)
        if self._response_method == "predict":
            return self._indicator(self.predict(X))
        return self._scores(X, n)

    def predict_and_score(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(predict(X), predict_score(X))``, calling the model once where it can.

        Torch modules, callables and predictor objects are called once: their labels are
        derived from their scores by the rule :meth:`predict` documents (so calling both
        methods would run the model twice for the same output). Label-only models and
        regressors are called once too. A scikit-learn classifier with scores is called twice
        (``predict``, then ``predict_proba`` or ``decision_function``): its ``predict`` is its
        own rule and is not always a threshold of its scores (``SVC(probability=True)``,
        tuned thresholds, rounding at a probability of exactly 0.5), so fairaudit never
        derives a scikit-learn model's labels from its scores.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            As for :meth:`predict`.

        Returns
        -------
        labels, scores : numpy.ndarray
            As :meth:`predict` and :meth:`predict_score` return them.

        Examples
        --------
        >>> import numpy as np
        >>> import fairaudit as fa
        >>> calls = []
        >>> def model(X):
        ...     calls.append(len(X))
        ...     return np.asarray(X)[:, 0] - 1.0
        >>> m = fa.wrap(model, response_method="decision_function")
        >>> labels, scores = m.predict_and_score(np.array([[0.0], [2.0]]))
        >>> labels.tolist(), scores.tolist(), len(calls)
        ([0, 1], [-1.0, 1.0], 1)
        """
        X, n = self._prepare(X)
        if self.task == "regression":
            values = self.predict(X)
            return values, values.astype(np.float64)
        if self._response_method == "predict":
            labels = self.predict(X)
            return labels, self._indicator(labels)
        if self._kind == "sklearn":
            return self.predict(X), self._scores(X, n)
        scores = self._scores(X, n)
        return self._labels_from_scores(scores), scores

    # -- internals --------------------------------------------------------------------------

    def _method(self, sklearn_method: str) -> str:
        """Name of what is called, for messages (and for scikit-learn, the method itself)."""
        return {
            "sklearn": sklearn_method,
            "torch": "forward",
            "predictor": "predict",
            "callable": "__call__",
            "endpoint": sklearn_method,  # predict: the label field; else the score field
        }[self._kind]

    def _prepare(self, X: Any) -> tuple[Any, int]:
        if X is None:
            raise TypeError("X must be array-like of shape (n_samples, n_features), got None.")
        X = _from_foreign(X)
        if isinstance(X, list | tuple):
            X = np.asarray(X)
        n = _n_rows(X)
        if n == 0:
            raise _DataError("X has no rows; pass at least one sample.")
        return X, n

    def _call(self, X: Any, n: int, method: str) -> np.ndarray:
        """Call the model batch by batch; check rows and finiteness of the stacked output."""
        step = self._batch_size or n
        pieces = [self._call_batch(_slice(X, s, s + step), method) for s in range(0, n, step)]
        for start, piece in zip(range(0, n, step), pieces, strict=True):
            expected = min(step, n - start)
            if piece.ndim == 0 or piece.shape[0] != expected:
                got = "a scalar" if piece.ndim == 0 else f"{piece.shape[0]} rows"
                raise _ModelError(
                    f"{self._name}.{method} returned {got} for {expected} input rows "
                    f"(shape {piece.shape}); expected one output per row."
                )
        out = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=0)
        self._check_finite(out, method)
        return out

    def _call_batch(self, X: Any, method: str) -> np.ndarray:
        if self._kind == "torch":
            return self._call_torch(X)
        if self._kind == "endpoint":
            return self._call_endpoint(X, method)
        try:
            if self._kind == "sklearn":
                out = getattr(self._model, method)(X)
            elif self._kind == "predictor":
                out = self._model.predict(_payload(X))
                out = _unpack_payload(out, self._name)
            else:
                out = self._model(X)
        except _ModelError:
            raise
        except Exception as exc:
            _reraise_not_fitted(exc, self._name)
            raise _ModelError(
                f"{self._name}.{method} raised {type(exc).__name__} on the input: {exc}"
            ) from exc
        try:
            return _to_numpy(out)
        except Exception as exc:
            raise _ModelError(
                f"{self._name}.{method} returned {type(out).__name__}, which is not array-like."
            ) from exc

    def _call_torch(self, X: Any) -> np.ndarray:
        from fairaudit._optional import import_optional

        torch = import_optional("torch", purpose="wrapping a torch nn.Module")
        module = self._model
        param = next(iter(module.parameters()), None)
        device = param.device if param is not None else torch.device("cpu")
        dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
        tensor = _as_tensor(torch, X, dtype=dtype, device=device)
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                out = module(tensor)
        except Exception as exc:
            raise _ModelError(
                f"{self._name}.forward raised {type(exc).__name__} on a batch of shape "
                f"{tuple(tensor.shape)}: {exc}"
            ) from exc
        finally:
            module.train(was_training)
        if not hasattr(out, "detach"):
            raise _ModelError(f"{self._name}.forward returned {type(out).__name__}, not a tensor.")
        return out.detach().cpu().numpy()

    def _call_endpoint(self, X: Any, method: str) -> np.ndarray:
        """Labels (``method == "predict"``) or scores from one pass over the endpoint."""
        endpoint: Endpoint = self._model
        items = endpoint.query(X)
        if method == "predict":
            classes = self._classes
            assert classes is not None  # set by _wrap_endpoint
            labels = endpoint._labels(items, classes.tolist())
            out = np.empty(len(labels), dtype=classes.dtype)
            out[:] = labels
            return out
        return endpoint._scores(items, bare=endpoint.score is None)

    def _check_finite(self, out: np.ndarray, method: str) -> None:
        if out.dtype.kind in "fc":
            bad = ~np.isfinite(out)
        elif out.dtype.kind == "O":
            bad = pd.isna(pd.DataFrame(out.reshape(out.shape[0], -1))).to_numpy()
        else:
            return
        if bad.ndim > 1:
            bad = bad.reshape(bad.shape[0], -1).any(axis=1)
        rows = np.flatnonzero(bad)
        if rows.size:
            raise _ModelError(
                f"{self._name}.{method} returned NaN, None or infinite values for {rows.size} "
                f"row(s), at positions {_format_values(rows)}. fairaudit never drops rows: fix "
                "the model, or remove or impute those rows of X before calling."
            )

    def _scores(self, X: Any, n: int) -> np.ndarray:
        """Scores as documented in predict_score (never called for label-only models)."""
        method = self._method(self._response_method)
        out = self._call(X, n, method)
        if out.dtype.kind not in "biuf":
            raise _ModelError(
                f"{self._name}.{method} returned values of dtype {out.dtype}, but "
                f"response_method={self._response_method!r} expects numeric scores; wrap it "
                "with response_method='predict' if it returns labels."
            )
        out = out.astype(np.float64, copy=False)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.ndim > 2:
            raise _ModelError(
                f"{self._name}.{method} returned an array of shape {out.shape}; expected "
                f"({n},) or ({n}, n_classes)."
            )
        n_columns = 1 if out.ndim == 1 else out.shape[1]
        if self._kind != "sklearn":
            self._settle_classes(n_columns, method, out.shape)
        classes = self._classes
        assert classes is not None  # set by wrap() or _settle_classes()
        proba = self._response_method == "predict_proba"
        if self.task == "multiclass":
            if out.ndim != 2 or out.shape[1] != len(classes):
                raise _ModelError(
                    f"{self._name}.{method} returned shape {out.shape}; expected ({n}, "
                    f"{len(classes)}), one column per class {_format_values(classes)}."
                )
            if proba:
                self._check_probabilities(out, method)
            return out
        # binary
        if proba and (out.ndim == 1 or out.shape[1] == 2):
            self._check_probabilities(out, method)
        positive_first = classes[0] == self._pos_label
        if out.ndim == 1:
            if positive_first:
                return 1.0 - out if proba else -out
            return out
        if out.shape[1] != 2:
            raise _ModelError(
                f"{self._name}.{method} returned shape {out.shape}; a binary model must return "
                f"({n},) or ({n}, 2)."
            )
        if proba:
            return out[:, 0] if positive_first else out[:, 1]
        # two decision values or logits: their difference orders the positive class
        diff = out[:, 1] - out[:, 0]
        return -diff if positive_first else diff

    def _check_probabilities(self, out: np.ndarray, method: str) -> None:
        """Refuse probabilities outside [0, 1], or rows of class probabilities not summing to 1.

        A probability of -3 or 5 would otherwise be thresholded at 0.5 and binned for the AUC
        and the calibration error as if it were one; the tolerances allow float32 rounding.
        """
        outside = np.asarray((out < -_PROBA_ATOL) | (out > 1.0 + _PROBA_ATOL))
        rows = np.flatnonzero(outside.any(axis=1) if outside.ndim > 1 else outside)
        if rows.size:
            shown = _format_values([np.round(out[r], 6).tolist() for r in rows[:5]])
            raise _ModelError(
                f"{self._name}.{method} returned values outside [0, 1] for {rows.size} row(s), "
                f"at positions {_format_values(rows)}: {shown}. They are not probabilities: "
                "fix the model, or wrap it with response_method='decision_function' if they are "
                "scores on another scale."
            )
        if out.ndim == 2 and out.shape[1] > 1:
            sums = out.sum(axis=1)
            rows = np.flatnonzero(np.abs(sums - 1.0) > _PROBA_SUM_ATOL)
            if rows.size:
                shown = _format_values(
                    [f"{np.round(out[r], 6).tolist()} (sum {sums[r]:.6g})" for r in rows[:5]]
                )
                raise _ModelError(
                    f"{self._name}.{method} returned rows of class probabilities that do not "
                    f"sum to 1 for {rows.size} row(s), at positions {_format_values(rows)}: "
                    f"{shown}. Fix the model (e.g. normalize its output), or wrap it with "
                    "response_method='decision_function' if the columns are scores."
                )

    def _settle_classes(self, n_columns: int, method: str, shape: tuple[int, ...]) -> None:
        if self._task is None and n_columns > 2:
            self._task = "multiclass"
            self._classes = np.arange(n_columns)
            self._pos_label = None
            logger.debug("%s: %d score columns, task set to multiclass", self._name, n_columns)
        if self.task == "multiclass" and self._classes is None:
            self._classes = np.arange(n_columns)
        if self.task == "binary" and n_columns > 2:
            raise _ModelError(
                f"{self._name}.{method} returned shape {shape}, but the model was wrapped with "
                "task='binary'; a binary model returns one score column (or two)."
            )

    def _labels_from_scores(self, scores: np.ndarray) -> np.ndarray:
        classes = self._classes
        assert classes is not None
        if self.task == "multiclass":
            return classes[np.argmax(scores, axis=1)]
        threshold = 0.5 if self._response_method == "predict_proba" else 0.0
        negative = classes[1] if classes[0] == self._pos_label else classes[0]
        return np.where(scores > threshold, self._pos_label, negative)

    def _indicator(self, labels: np.ndarray) -> np.ndarray:
        if self.task == "multiclass":
            if self._classes is None:
                raise _ModelError(
                    f"{self._name} gives only labels and its classes are unknown, so "
                    "predict_score has no multiclass scores; use predict(), or wrap a model "
                    "with predict_proba."
                )
            return (labels[:, None] == self._classes[None, :]).astype(np.float64)
        if self._classes is None:
            seen = pd.unique(labels)
            unknown = [v for v in seen if v not in (0, 1)]
            if unknown and self._pos_label is None:
                raise _ModelError(
                    f"{self._name} returned labels {_format_values(seen)}; pass "
                    "pos_label= to wrap() to say which one is the positive class."
                )
        pos = 1 if self._pos_label is None else self._pos_label
        return (labels == pos).astype(np.float64)


def _as_tensor(torch: Any, X: Any, *, dtype: Any, device: Any) -> Any:
    if isinstance(X, torch.Tensor):
        return X.to(device=device, dtype=dtype)
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        non_numeric = [
            c
            for c in X.columns
            if not (
                pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype)
            )
        ]
        if non_numeric:
            raise TypeError(
                f"X has non-numeric column(s) {_format_values(non_numeric)}; a torch module needs "
                "numeric input: encode them (e.g. one-hot) before calling."
            )
        array = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        array = np.asarray(X)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"X has dtype {array.dtype}; a torch module needs numeric input: encode it "
                "before calling."
            )
    return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)


def _payload(X: Any) -> list[Any]:
    """JSON-like payload for a predictor object: records for a frame, rows otherwise."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        return _json_safe(X.to_dict(orient="records"))
    return _json_safe(np.asarray(X).tolist())


def _unpack_payload(out: Any, name: str) -> Any:
    if isinstance(out, Mapping):
        if len(out) != 1:
            raise _ModelError(
                f"{name}.predict returned a mapping with keys {_format_values(list(out))}; "
                "expected a list with one prediction per record, or a mapping with a single "
                'entry holding that list (e.g. {"predictions": [...]}).'
            )
        out = next(iter(out.values()))
    return out


def _reraise_not_fitted(exc: Exception, name: str) -> None:
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:  # pragma: no cover - scikit-learn is a core dependency
        return
    if isinstance(exc, NotFittedError):
        raise NotFittedError(
            f"{name} is not fitted: call {name}.fit(X, y) before wrapping it. ({exc})"
        ) from exc


def _wrap_sklearn(
    obj: Any, *, response_method: str, task: Task | None, pos_label: Any, batch_size: int | None
) -> WrappedModel:
    from sklearn.base import is_classifier, is_regressor
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    name = _model_name(obj)
    if hasattr(obj, "get_params"):
        try:
            check_is_fitted(obj)
        except NotFittedError as exc:
            raise NotFittedError(
                f"{name} is not fitted: call {name}.fit(X, y) before wrapping it. ({exc})"
            ) from exc
    try:
        classifier, regressor = is_classifier(obj), is_regressor(obj)
    except Exception:  # duck-typed models without sklearn tags
        classifier, regressor = False, False
    has_classes = getattr(obj, "classes_", None) is not None
    if task is None:
        task_: Task = "regression" if (regressor or not (classifier or has_classes)) else "binary"
    else:
        task_ = task
    classes = None
    if task_ != "regression":
        if not has_classes:
            raise _ModelError(
                f"{name} has no classes_ attribute, so its outputs cannot be matched to labels; "
                "wrap a fitted classifier, or pass task='regression' for a regressor."
            )
        classes = np.asarray(obj.classes_)
        if classes.ndim != 1 or len(classes) < 2:
            raise _ModelError(
                f"{name}.classes_ is {_format_values(np.ravel(classes))}; a classifier needs at "
                "least two classes (it was fitted on one)."
            )
        if task is None:
            task_ = "binary" if len(classes) == 2 else "multiclass"
    available = [m for m in ("predict", "predict_proba", "decision_function") if hasattr(obj, m)]
    if "predict" not in available:
        raise TypeError(f"{name} has no predict method; wrap a fitted estimator or a callable.")
    if response_method == "auto":
        if task_ == "regression":
            resolved = "predict"
        else:
            resolved = next(
                m for m in ("predict_proba", "decision_function", "predict") if m in available
            )
    else:
        if response_method not in available:
            raise ValueError(
                f"response_method={response_method!r}, but {name} has no {response_method} "
                f"method; it has {_format_values(available)}."
            )
        if task_ == "regression" and response_method != "predict":
            raise ValueError(
                f"response_method={response_method!r} needs a classifier, but {name} is a "
                "regressor; use response_method='predict'."
            )
        resolved = response_method
    pos_label_given = pos_label is not None
    if classes is not None:
        if pos_label is None:
            pos_label = classes[-1] if task_ == "binary" else None
        elif pos_label not in set(classes.tolist()):
            raise ValueError(
                f"pos_label={pos_label!r} is not one of {name}'s classes "
                f"{_format_values(classes)}; pass one of them."
            )
        if isinstance(pos_label, np.generic):
            pos_label = pos_label.item()
    elif pos_label is not None:
        raise ValueError(f"pos_label={pos_label!r} was given, but {name} is a regressor.")
    return WrappedModel(
        obj,
        kind="sklearn",
        response_method=resolved,
        task=task_,
        classes=classes,
        pos_label=pos_label,
        batch_size=batch_size,
        pos_label_given=pos_label_given,
    )


def _wrap_endpoint(
    obj: Endpoint,
    *,
    response_method: str,
    batch_size: int | None,
    pos_label: Any,
    task: Task | None,
) -> WrappedModel:
    if batch_size is not None:
        raise ValueError(
            "batch_size is set on the Endpoint itself (Endpoint(url, batch_size=...)); do not "
            "pass it to wrap()."
        )
    if task not in (None, "binary", "multiclass"):
        raise ValueError(
            f"task={task!r} is not supported for endpoints; endpoints are audited as "
            "classifiers (task='binary' or 'multiclass')."
        )
    if response_method not in _RESPONSE_METHODS:
        raise ValueError(
            f"response_method must be one of {_format_values(_RESPONSE_METHODS)}, "
            f"got {response_method!r}."
        )
    if response_method == "decision_function":
        raise ValueError(
            "response_method='decision_function' is not supported for endpoints: their scores "
            "are probabilities; use 'predict_proba' (or 'predict' for labels only)."
        )
    if response_method == "auto":
        resolved = "predict_proba" if obj.score is not None else "predict"
    else:
        resolved = response_method
    if resolved == "predict" and obj.label is None and obj.score is not None:
        raise ValueError(
            f"response_method='predict' reads labels, but the Endpoint names only a score field "
            f"({obj.score!r}); pass label= to the Endpoint too, or use response_method='auto'."
        )
    if resolved == "predict_proba" and obj.score is None and obj.label is not None:
        raise ValueError(
            f"response_method='predict_proba' reads scores, but the Endpoint names only a label "
            f"field ({obj.label!r}); pass score= to the Endpoint too."
        )
    classes = np.asarray(obj.classes if obj.classes is not None else [0, 1])
    task_: Task = task or ("binary" if len(classes) == 2 else "multiclass")
    if task_ == "binary" and len(classes) != 2:
        raise ValueError(
            f"task='binary' needs two classes, but the Endpoint lists {_format_values(classes)}."
        )
    if pos_label is None:
        pos_label = classes[-1] if task_ == "binary" else None
    elif pos_label not in set(classes.tolist()):
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the endpoint's classes "
            f"{_format_values(classes)}; pass one of them, or set Endpoint(..., classes=[...])."
        )
    if isinstance(pos_label, np.generic):
        pos_label = pos_label.item()
    return WrappedModel(
        obj,
        kind="endpoint",
        response_method=resolved,
        task=task_,
        classes=classes,
        pos_label=pos_label,
        batch_size=None,
    )


def wrap(
    obj: Any,
    *,
    response_method: ResponseMethod = "auto",
    batch_size: int | None = None,
    pos_label: Any = None,
    task: Task | None = None,
) -> WrappedModel:
    """Wrap a model so that fairaudit can get labels and scores out of it.

    Parameters
    ----------
    obj : estimator, nn.Module, callable, predictor object, Endpoint or WrappedModel
        What is accepted, tried in this order:

        - a :class:`WrappedModel`: returned as it is (no other argument may be given);
        - an :class:`Endpoint` (a model behind HTTP): labels come from its ``label`` field
          (or bare items), scores from its ``score`` field (probabilities of ``classes[1]``);
          one pass over the endpoint serves both ``predict`` and ``predict_score`` on the
          same ``X``; ``batch_size`` is the Endpoint's own;
        - a torch ``nn.Module`` (recognised without importing torch): called in eval mode
          (its training mode is restored afterwards) under ``torch.no_grad()``, in batches,
          with numeric input converted to a float tensor on the module's device;
        - a fitted scikit-learn estimator or pipeline, or any object with ``fit`` and
          ``predict`` (e.g. XGBoost or LightGBM models): ``predict``, ``predict_proba`` and
          ``decision_function`` are called on ``X`` as given, so a pipeline with a
          ``ColumnTransformer`` receives the DataFrame;
        - an object with ``predict`` but no ``fit``, a "predictor class" as model servers
          use (Cortex's ``PythonPredictor``): ``predict(payload)`` receives JSON-like data,
          a list of ``{column: value}`` records for a DataFrame (NaN as None), or a list of
          rows for an array, and returns a list with one prediction per record (or a mapping
          with a single entry holding that list, e.g. ``{"predictions": [...]}``);
        - any other callable ``f(X)``: called on ``X`` as given.
    response_method : {"auto", "predict", "predict_proba", "decision_function"}, default "auto"
        What the model's output is. For scikit-learn models, the method to call for scores:
        "auto" takes ``predict_proba``, else ``decision_function``, else ``predict`` (labels
        only). For torch modules, callables and predictor objects the model has one output and
        this says what it means: ``"predict_proba"`` probabilities, ``"decision_function"``
        logits or decision values (threshold 0), ``"predict"`` labels or values. "auto" means
        logits for torch modules and labels (or values) for callables and predictor objects.
    batch_size : int, optional
        Rows per model call. Default: all rows at once, except torch modules (4,096 rows).
    pos_label : object, optional
        The positive class of a binary classifier, whose score ``predict_score`` returns.
        Default: the last of scikit-learn's ``classes_`` (its own convention), else 1.
    task : {"binary", "multiclass", "regression"}, optional
        Default: from the estimator (``classes_``, sklearn's classifier/regressor tags); for
        torch modules, callables and predictors "binary", or "multiclass" when the scores
        have more than two columns. Pass ``"regression"`` for a regressor that is not a
        scikit-learn estimator.

    Returns
    -------
    WrappedModel
        With ``predict(X)``, ``predict_score(X)``, and the attributes ``kind``, ``task``,
        ``response_method`` (resolved), ``output_kind``, ``classes_``, ``pos_label``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        An unfitted scikit-learn estimator (the message names the model).
    ValueError
        A ``response_method`` the model does not have, a ``pos_label`` not among its classes,
        or an unknown option.
    TypeError
        An object that is not a model.

    Notes
    -----
    Model outputs are validated on every call: the wrong number of rows or the wrong shape,
    and NaN or infinite predictions, raise :class:`~fairaudit.exceptions.ModelError` with the
    positions of up to five offending rows; nothing is dropped. An exception inside the
    model is re-raised as ``ModelError`` chained to the original (``raise ... from``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> import fairaudit as fa
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> m = fa.wrap(LogisticRegression().fit(X, [0, 0, 1, 1]))
    >>> m.task, m.response_method, m.output_kind
    ('binary', 'predict_proba', 'score')
    >>> m.predict(X)
    array([0, 0, 1, 1])
    >>> m.predict_score(X).round(2)
    array([0.19, 0.38, 0.62, 0.81])

    A "predictor class", the pattern model servers use: ``predict`` gets JSON-like records.

    >>> class PythonPredictor:
    ...     def __init__(self, config):
    ...         self.threshold = config["threshold"]
    ...
    ...     def predict(self, payload):
    ...         return [int(row["income"] > self.threshold) for row in payload]
    >>> import pandas as pd
    >>> m = fa.wrap(PythonPredictor({"threshold": 50}))
    >>> m.kind, m.output_kind
    ('predictor', 'label')
    >>> m.predict(pd.DataFrame({"income": [20, 80, 55]}))
    array([0, 1, 1])
    """
    if isinstance(obj, WrappedModel):
        given = {
            "response_method": (response_method, "auto", obj.response_method),
            "batch_size": (batch_size, None, obj.batch_size),
            "pos_label": (pos_label, None, obj.pos_label),
            "task": (task, None, obj.task),
        }
        conflicts = [
            f"{name}={value!r} (it has {current!r})"
            for name, (value, default, current) in given.items()
            if value != default and value != current
        ]
        if conflicts:
            raise ValueError(
                f"obj is already a WrappedModel, wrapped with other settings: "
                f"{', '.join(conflicts)}; wrap the underlying model (obj.model) to change them."
            )
        return obj
    if isinstance(obj, Endpoint):
        return _wrap_endpoint(
            obj,
            response_method=response_method,
            batch_size=batch_size,
            pos_label=pos_label,
            task=task,
        )
    if isinstance(obj, type):
        raise TypeError(
            f"obj is the class {obj.__name__}, not a fitted model; pass an instance "
            f"(e.g. {obj.__name__}(...).fit(X, y))."
        )
    if response_method not in _RESPONSE_METHODS:
        raise ValueError(
            f"response_method must be one of {_format_values(_RESPONSE_METHODS)}, "
            f"got {response_method!r}."
        )
    if task is not None and task not in _TASKS:
        raise ValueError(f"task must be one of {_format_values(_TASKS)} or None, got {task!r}.")
    batch = _check_batch_size(batch_size)

    if _is_torch_module(obj):
        kind: ModelKind = "torch"
        batch = batch or _TORCH_DEFAULT_BATCH
        resolved = "decision_function" if response_method == "auto" else response_method
    elif hasattr(obj, "predict") and hasattr(obj, "fit"):
        return _wrap_sklearn(
            obj, response_method=response_method, task=task, pos_label=pos_label, batch_size=batch
        )
    elif callable(getattr(obj, "predict", None)):
        kind = "predictor"
        resolved = "predict" if response_method == "auto" else response_method
    elif callable(obj) and not isinstance(obj, type):
        kind = "callable"
        resolved = "predict" if response_method == "auto" else response_method
    else:
        raise TypeError(
            "obj must be a fitted estimator, a torch nn.Module, a callable or an object with a "
            f"predict(payload) method, got {type(obj).__name__}."
        )
    if task == "regression" and resolved != "predict":
        raise ValueError(
            f"response_method={resolved!r} needs a classifier; with task='regression' use "
            "response_method='predict' (or 'auto' for callables and predictor objects)."
        )
    pos_label_given = pos_label is not None
    classes: np.ndarray | None = None
    if resolved != "predict" and task != "multiclass":
        classes = np.array([0, 1])  # score columns index the classes; a binary model's are 0, 1
    if classes is not None:
        if pos_label is None:
            pos_label = 1
        elif pos_label not in (0, 1):
            raise ValueError(
                f"pos_label={pos_label!r}, but the scores of this model are indexed by class "
                "0 and 1; pass pos_label=0 or 1."
            )
    return WrappedModel(
        obj,
        kind=kind,
        response_method=resolved,
        task=task,
        classes=classes,
        pos_label=pos_label,
        batch_size=batch,
        pos_label_given=pos_label_given,
    )
