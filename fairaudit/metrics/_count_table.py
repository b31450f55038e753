"""The numpy pass that builds a count table from in-memory arrays (and its task rules)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._provenance import sha256_array
from fairaudit._validation import (
    NOT_GIVEN,
    align_on_index,
    as_1d,
    check_consistent_length,
    resolve_pos_label,
)
from fairaudit._validation import check_sample_weight as _check_sample_weight
from fairaudit.exceptions import DataError
from fairaudit.metrics._counts import (
    CountTable,
    ScoreAtoms,
    binary_cells,
    multiclass_cells,
    regression_atoms,
    regression_sums,
)
from fairaudit.metrics._encode import (
    GroupEncoding,
    as_values,
    binary_labels,
    encode_groups,
    multiclass_labels,
)

__all__ = ["infer_task", "numpy_table", "regression_per_group", "scores_in_unit_interval"]

# cells x replicates drawn for the regression bootstrap, at most (as in group_metrics)
_REGRESSION_BOOT_BUDGET = 10_000_000
# replicates the regression atoms of a stand-alone count table are sized for
DEFAULT_REGRESSION_N_BOOT = 1000

_SCHEMA_VERSION = 1

Task = Literal["auto", "binary", "multiclass", "regression"]


def regression_per_group(n_boot: int, n_groups: int) -> int:
    """Chunks per group of the regression bootstrap atoms (same rule as group_metrics)."""
    return max(_REGRESSION_BOOT_BUDGET // (max(int(n_boot), 1) * max(n_groups, 1)), 50)


def infer_task(
    y_true: np.ndarray, y_pred: np.ndarray, metrics: Any, pos_label: Any, task: str
) -> str:
    """Resolve the task as group_metrics does (``task="auto"``); valid on distinct values too."""
    from fairaudit.metrics._registry import METRIC_REGISTRY

    if task != "auto":
        if task not in ("binary", "multiclass", "regression"):
            raise ValueError(
                f"task must be 'auto', 'binary', 'multiclass' or 'regression', got {task!r}."
            )
        return task
    names = [metrics] if isinstance(metrics, str) else list(metrics or [])
    known = [METRIC_REGISTRY[n].task for n in names if n in METRIC_REGISTRY]
    if "regression" in known:
        return "regression"
    if y_pred.dtype.kind == "f":
        if not np.all(np.mod(y_pred, 1) == 0):
            return "regression"
        joint = np.unique(y_pred)
        if y_true.dtype.kind in "iuf":
            joint = np.union1d(joint, y_true)
        if not names and pos_label is not None and joint.size > 2:
            return "regression"
    return "multiclass" if pos_label is None else "binary"


def numpy_table(
    y_true: Any,
    y_pred: Any,
    *,
    sensitive_features: Any,
    y_score: Any = None,
    sample_weight: Any = None,
    pos_label: Any = NOT_GIVEN,
    task: str = "auto",
    metrics: Any = None,
    missing_groups: Literal["error", "separate"] = "error",
    regression_n_boot: int = DEFAULT_REGRESSION_N_BOOT,
    fingerprint: bool = False,
    source: dict[str, Any] | None = None,
) -> CountTable:
    """Count in-memory arrays into a table: one bincount over a combined code.

    The one numpy pass of the library: :func:`fairaudit.group_metrics` and
    :func:`fairaudit.metrics.count_table` both count through it. pandas inputs are paired on
    their index labels (:func:`~fairaudit._validation.align_on_index`). ``pos_label`` left at
    :data:`~fairaudit._validation.NOT_GIVEN` is 1 with more than two labels refused; a given
    one is that class against the rest. With ``fingerprint``, the table's ``source`` holds
    SHA-256 digests of the inputs (row order matters).
    """
    aligned = align_on_index(
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive_features,
        y_score=y_score,
        sample_weight=sample_weight,
    )
    y_true, y_pred = aligned["y_true"], aligned["y_pred"]
    sensitive_features, y_score = aligned["sensitive_features"], aligned["y_score"]
    sample_weight = aligned["sample_weight"]
    pos_label, one_vs_rest = resolve_pos_label(pos_label)
    t_values = as_values(y_true, name="y_true")
    p_values = as_values(y_pred, name="y_pred")
    n = check_consistent_length(y_true=t_values, y_pred=p_values)
    if n == 0:
        raise DataError("y_true and y_pred are empty; pass at least one sample.")
    encoding = encode_groups(sensitive_features, n_rows=n, missing_groups=missing_groups)
    check_consistent_length(y_true=t_values, sensitive_features=encoding.codes)
    score = None
    if y_score is not None:
        score_s = as_1d(y_score, name="y_score")
        check_consistent_length(y_true=t_values, y_score=score_s)
        if not pd.api.types.is_numeric_dtype(score_s.dtype) or pd.api.types.is_bool_dtype(
            score_s.dtype
        ):
            raise TypeError(f"y_score must be numeric, got dtype {score_s.dtype}.")
        score = as_values(score_s, name="y_score").astype(np.float64, copy=False)
    weight = _check_sample_weight(sample_weight, n)
    resolved = infer_task(t_values, p_values, metrics, pos_label, task)
    classes: list[Any] | None = None
    codes = encoding.codes
    g = encoding.n_codes
    t_pos = None
    if resolved == "regression":
        for arr, name in ((t_values, "y_true"), (p_values, "y_pred")):
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{name} must be numeric for regression metrics, got {arr.dtype}.")
        t_float, p_float = t_values.astype(np.float64), p_values.astype(np.float64)
        cells, cell_n, w2 = regression_sums(codes, t_float, p_float, weight, g)
        pos_label = None
    elif resolved == "multiclass":
        t_code, p_code, classes = multiclass_labels(t_values, p_values)
        cells, cell_n, w2 = multiclass_cells(codes, t_code, p_code, weight, g, len(classes))
        pos_label = None
    else:
        if pos_label is None:
            raise DataError("task='binary' needs a pos_label; pass the positive class.")
        t_pos, p_pos = binary_labels(
            t_values, p_values, pos_label=pos_label, one_vs_rest=one_vs_rest
        )
        cells, cell_n, w2 = binary_cells(codes, t_pos, p_pos, weight, g)
    # drop the combinations of sensitive values that no row has
    rows = cell_n.reshape(g, -1).sum(axis=1)
    keep = np.flatnonzero(rows)
    lookup = np.full(g, -1, dtype=np.intp)
    lookup[keep] = np.arange(keep.size)
    if keep.size < g:
        cells, cell_n = cells[keep], cell_n[keep]
        w2 = None if w2 is None else w2[keep]
    index, feature_codes = encoding.labels(keep)
    reg_atoms = None
    if resolved == "regression" and regression_n_boot > 0:
        per_group = regression_per_group(regression_n_boot, keep.size)
        reg_atoms = regression_atoms(codes, t_float, p_float, weight, g, per_group)
        for a in reg_atoms.values():
            a[:, 0] = lookup[a[:, 0].astype(np.intp)]
    atoms = None
    if score is not None:
        if resolved != "binary":
            raise DataError(f"y_score is only supported for binary labels, not {resolved}.")
        assert t_pos is not None
        atoms = ScoreAtoms.from_rows(codes, score, t_pos, weight, g)
        atoms = replace(atoms, group=lookup[atoms.group])
    entry: dict[str, Any] = {"kind": "arrays", **(source or {}), "rows": int(n)}
    if fingerprint:
        entry["fingerprints"] = _fingerprints(t_values, p_values, score, encoding, weight)
    return CountTable(
        task=resolved,
        index=index,
        feature_names=encoding.feature_names,
        feature_codes=feature_codes,
        feature_levels=encoding.feature_levels,
        cells=cells,
        cell_n=cell_n,
        cell_w2=w2,
        classes=None if classes is None else tuple(classes),
        scores=atoms,
        weighted=weight is not None,
        reg_atoms=reg_atoms,
        pos_label=pos_label,
        source=(entry,),
    )


def _fingerprints(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None,
    encoding: GroupEncoding,
    weight: np.ndarray | None,
) -> dict[str, Any]:
    """SHA-256 digests of the inputs in row order (the sensitive values as encoded)."""
    per_row = encoding.feature_codes_of(encoding.codes)
    per_feature = {
        name: sha256_array(np.asarray(encoding.feature_levels[j], dtype=object).take(per_row[:, j]))
        for j, name in enumerate(encoding.feature_names)
    }
    return {
        "algorithm": "sha256",
        "y_true": sha256_array(y_true),
        "y_pred": sha256_array(y_pred),
        "y_score": None if y_score is None else sha256_array(y_score),
        "sensitive_features": per_feature,
        "sample_weight": None if weight is None else sha256_array(weight),
    }


def scores_in_unit_interval(table: CountTable) -> bool:
    """Whether every score lies in [0, 1] (Brier score and calibration need probabilities)."""
    if table.scores is None or table.scores.score.size == 0:
        return False
    s = table.scores.score
    return bool(s.min() >= 0.0 and s.max() <= 1.0)
