"""``audit``: wrap a model, predict, and compute group metrics in one call."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._provenance import sha256_frame
from fairaudit._validation import align_on_index, as_frame
from fairaudit.exceptions import DataError
from fairaudit.metrics import GroupMetrics, group_metrics

__all__ = ["audit"]


def audit(
    model: Any,
    X: Any,
    y_true: Any,
    *,
    sensitive_features: Any,
    metrics: list[str] | str | None = None,
    sample_weight: Any = None,
    pos_label: Any = 1,
    use_scores: bool = True,
    response_method: Literal["auto", "predict", "predict_proba", "decision_function"] = "auto",
    n_boot: int = 0,
    confidence: float = 0.95,
    ci_method: Literal["bootstrap", "wilson"] | None = None,
    reference_group: Any = None,
    min_group_size: int = 30,
    missing_groups: Literal["error", "separate"] = "error",
    fingerprint: bool = True,
    random_state: int | np.random.Generator | None = None,
) -> GroupMetrics:
    """Predict with ``model`` on ``X`` and compute group metrics against ``y_true``.

    Parameters
    ----------
    model : object
        A fitted sklearn estimator or pipeline, a torch module, a callable, or anything
        :func:`fairaudit.wrap` accepts (an already wrapped model too).
    X : array-like or DataFrame of shape (n_samples, n_features)
        The inputs, passed to the model unchanged.
    y_true : array-like of shape (n_samples,)
        True labels. pandas inputs (``X``, ``y_true``, ``sensitive_features``,
        ``sample_weight``) are paired on their index labels, in ``X``'s row order; an index
        holding other labels is refused, and arrays and lists pair by position (see
        "Inputs" in the group metrics guide).
    sensitive_features : str, list of str, array-like or DataFrame
        Group membership. A column name or a list of column names selects those columns of
        ``X`` (when ``X`` is a DataFrame; the model still sees them); anything else is used as
        in :func:`fairaudit.group_metrics`.
    metrics, sample_weight, pos_label, n_boot, confidence, ci_method, reference_group, \
min_group_size, missing_groups, random_state
        As in :func:`fairaudit.group_metrics`.
    use_scores : bool, default True
        Also compute score metrics (ROC AUC, ...) when the model gives scores for a binary
        task.
    response_method : str, default "auto"
        Passed to :func:`fairaudit.wrap`.
    fingerprint : bool, default True
        Record SHA-256 digests of ``X``, the labels, predictions, scores, sensitive features and
        weights in ``provenance["fingerprints"]``.

    Returns
    -------
    GroupMetrics
        With ``provenance["model"]`` describing the wrapped model.
    """
    from fairaudit.models import wrap

    if isinstance(sensitive_features, str) or (
        isinstance(sensitive_features, list)
        and sensitive_features
        and all(isinstance(c, str) for c in sensitive_features)
    ):
        names = [sensitive_features] if isinstance(sensitive_features, str) else sensitive_features
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "sensitive_features given as column names needs X to be a DataFrame, got "
                f"{type(X).__name__}; pass the sensitive values themselves instead."
            )
        absent = [c for c in names if c not in X.columns]
        if absent:
            raise DataError(
                f"sensitive_features names columns {absent} that X does not have; X has "
                f"{list(X.columns)[:10]}."
            )
        sensitive_features = X[names]
    # pandas inputs are paired on their index labels (in X's row order), arrays by position
    aligned = align_on_index(
        X=X, y_true=y_true, sensitive_features=sensitive_features, sample_weight=sample_weight
    )
    y_true, sensitive_features = aligned["y_true"], aligned["sensitive_features"]
    sample_weight = aligned["sample_weight"]
    wrapped = wrap(model, response_method=response_method, pos_label=pos_label)
    y_pred = wrapped.predict(X)
    y_score = None
    if use_scores and wrapped.task == "binary" and wrapped.output_kind == "score":
        y_score = wrapped.predict_score(X)
    gm = group_metrics(
        y_true,
        y_pred,
        sensitive_features=sensitive_features,
        y_score=y_score,
        metrics=metrics,
        sample_weight=sample_weight,
        pos_label=pos_label,
        n_boot=n_boot,
        confidence=confidence,
        ci_method=ci_method,
        reference_group=reference_group,
        min_group_size=min_group_size,
        missing_groups=missing_groups,
        fingerprint=fingerprint,
        random_state=random_state,
    )
    gm.provenance["model"] = wrapped.describe()
    if fingerprint:
        gm.provenance["fingerprints"]["X"] = sha256_frame(as_frame(X))
    return gm
