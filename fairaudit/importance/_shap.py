"""SHAP attributions averaged per group, and the gap between groups split by feature."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._optional import import_optional
from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import as_1d, as_generator, check_consistent_length, format_values
from fairaudit.exceptions import DataError, MissingValueError
from fairaudit.importance._encoding import encode_frame
from fairaudit.models import wrap

__all__ = ["ShapByGroup", "shap_by_group"]


def _group_labels(sensitive_features: Any, n: int) -> tuple[pd.Series, str]:
    if isinstance(sensitive_features, pd.DataFrame) and sensitive_features.shape[1] > 1:
        frame = sensitive_features.reset_index(drop=True)
        name = ", ".join(str(c) for c in frame.columns)
        if frame.isna().any().any():
            raise MissingValueError("sensitive_features has missing values; fill them first.")
        labels = frame.astype(str).agg(", ".join, axis=1).rename(name)
    else:
        labels = as_1d(sensitive_features, name="sensitive_features")
        name = str(labels.name)
        missing = np.flatnonzero(labels.isna().to_numpy())
        if missing.size:
            raise MissingValueError(
                f"sensitive_features has {missing.size} missing value(s) at rows "
                f"{format_values(missing)}; fill them or drop those rows."
            )
    check_consistent_length(X=np.empty(n), sensitive_features=labels)
    return labels, name


def _stratified_sample(
    codes: np.ndarray, max_samples: int, rng: np.random.Generator, min_per_group: int = 30
) -> np.ndarray:
    """Row positions: all rows if few, else a proportional sample keeping small groups."""
    n = codes.size
    if n <= max_samples:
        return np.arange(n)
    picked = []
    counts = np.bincount(codes)
    for g, count in enumerate(counts):
        rows = np.flatnonzero(codes == g)
        take = min(count, max(min_per_group, round(max_samples * count / n)))
        picked.append(rng.choice(rows, size=take, replace=False))
    return np.sort(np.concatenate(picked))


@dataclass(frozen=True, eq=False, repr=False)
class ShapByGroup(ResultMixin):
    """SHAP attributions per group and the split of the output gap between groups.

    Attributes
    ----------
    mean_abs : pandas.DataFrame
        Mean absolute SHAP value, one row per feature, one column per group.
    mean_shap : pandas.DataFrame
        Mean (signed) SHAP value, same shape.
    contributions : pandas.DataFrame
        ``mean_shap[g] - mean_shap[reference_group]`` for each other group ``g``: the part of
        the gap in mean model output that each feature accounts for.
    gap : pandas.Series
        Mean model output of each other group minus that of the reference group, on the
        explained rows. Each column of ``contributions`` sums to it (SHAP's efficiency).
    mean_output, counts : pandas.Series
        Mean model output and number of explained rows per group.
    base_value : float
        Mean model output over the background sample (SHAP's expected value).
    reference_group : object
        The group the others are compared with.
    sensitive_feature : str
        Name of the sensitive feature (columns joined by ", " when several).
    output : str
        What was explained (always ``"score"``: ``predict_score`` of the wrapped model).
    algorithm : str
        The shap explainer used.
    max_evals : int or None
        Model evaluations per row given to the explainer (None: shap's default).
    n_samples, n_background : int
        Rows explained and rows of the background sample.
    random_state : int or None
        The seed, when an int was given.
    """

    mean_abs: pd.DataFrame
    mean_shap: pd.DataFrame
    contributions: pd.DataFrame
    gap: pd.Series
    mean_output: pd.Series
    counts: pd.Series
    base_value: float
    reference_group: Any
    sensitive_feature: str
    output: str
    algorithm: str
    max_evals: int | None
    n_samples: int
    n_background: int
    random_state: int | None

    def _repr_fields(self) -> dict[str, Any]:
        return {
            "feature": self.sensitive_feature,
            "groups": len(self.counts),
            "reference_group": self.reference_group,
            "features": self.mean_abs.shape[1],
            "algorithm": self.algorithm,
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per group and feature.

        Returns
        -------
        pandas.DataFrame
            Columns: ``group``; ``feature``; ``mean_abs_shap``; ``mean_shap``;
            ``contribution`` (to the gap between the group and the reference group; NaN for
            the reference group itself).
        """
        rows = []
        for group in self.mean_abs.columns:
            for feature in self.mean_abs.index:
                rows.append(
                    {
                        "group": group,
                        "feature": feature,
                        "mean_abs_shap": float(self.mean_abs.loc[feature, group]),
                        "mean_shap": float(self.mean_shap.loc[feature, group]),
                        "contribution": float(self.contributions.loc[feature, group])
                        if group in self.contributions.columns
                        else float("nan"),
                    }
                )
        return pd.DataFrame(
            rows, columns=["group", "feature", "mean_abs_shap", "mean_shap", "contribution"]
        )

    def _summary(self) -> list[str]:
        lines = []
        for group in self.contributions.columns:
            contrib = self.contributions[group]
            top = contrib.reindex(contrib.abs().sort_values(ascending=False).index)[:3]
            parts = ", ".join(f"{f} ({v:+.3g})" for f, v in top.items())
            lines.append(
                f"Mean score {group} vs {self.reference_group}: gap {self.gap[group]:+.3g}; "
                f"largest contributions {parts}."
            )
        overall = self.mean_abs.mean(axis=1).sort_values(ascending=False)
        lines.append(
            "Largest mean |SHAP| over groups: "
            + ", ".join(f"{f} ({v:.3g})" for f, v in overall[:3].items())
            + "."
        )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the common result keys.

        Returns
        -------
        dict
            ``kind`` (``"shap_by_group"``), ``schema_version``, ``title``, ``summary``,
            ``parameters``, ``table`` (records of :meth:`to_frame`), and ``gap``
            ({group: value}), ``residual`` ({group: gap minus the sum of contributions}),
            ``mean_output``, ``counts``, ``base_value``, ``reference_group``.
        """
        residual = self.gap - self.contributions.sum(axis=0)
        return json_safe(
            {
                "kind": "shap_by_group",
                "schema_version": 1,
                "title": f"SHAP attributions by {self.sensitive_feature}",
                "summary": self._summary(),
                "parameters": {
                    "reference_group": self.reference_group,
                    "sensitive_feature": self.sensitive_feature,
                    "output": self.output,
                    "algorithm": self.algorithm,
                    "max_evals": self.max_evals,
                    "n_samples": self.n_samples,
                    "n_background": self.n_background,
                    "random_state": self.random_state,
                },
                "table": self.to_frame().to_dict(orient="records"),
                "gap": self.gap.to_dict(),
                "residual": residual.to_dict(),
                "mean_output": self.mean_output.to_dict(),
                "counts": self.counts.to_dict(),
                "base_value": self.base_value,
                "reference_group": self.reference_group,
            }
        )

    def plot(self, ax: Any = None, *, group: Any = None) -> Any:
        """Bars of each feature's contribution to the gap between ``group`` and the reference.

        ``group`` defaults to the first non-reference group. Returns the matplotlib Axes.
        """
        ax = get_axes(ax)
        if group is None:
            group = self.contributions.columns[0]
        contrib = self.contributions[group].sort_values()
        colours = ["#d62728" if v < 0 else "#1f77b4" for v in contrib]
        ax.barh(np.arange(len(contrib)), contrib.to_numpy(), color=colours)
        ax.set_yticks(np.arange(len(contrib)))
        ax.set_yticklabels([str(i) for i in contrib.index])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(f"contribution to the mean score gap ({self.gap[group]:+.3g} in all)")
        ax.set_title(f"{group} vs {self.reference_group}")
        return ax


def shap_by_group(
    model: Any,
    X: Any,
    *,
    sensitive_features: Any,
    reference_group: Any = None,
    background: Any = None,
    n_background: int = 100,
    max_samples: int = 1000,
    algorithm: str = "auto",
    max_evals: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> ShapByGroup:
    """Average SHAP attributions per group and split the gap in mean output by feature.

    The model's score (``predict_score`` of :func:`fairaudit.wrap`) is explained row by row
    with shap; the attributions are then averaged per group. Because each row's attributions
    sum to its score minus the background mean (SHAP's efficiency), the difference in mean
    score between a group and the reference group is exactly the sum over features of the
    difference in their mean attributions: ``contributions`` splits the gap by feature.

    Parameters
    ----------
    model : estimator, pipeline or callable
        Anything :func:`fairaudit.wrap` accepts, binary or regression (one score per row).
    X : array-like or DataFrame of shape (n_samples, n_features)
        The inputs, as the model takes them; categorical columns are passed to shap as integer
        codes and decoded before each model call.
    sensitive_features : array-like of shape (n_samples,) or DataFrame
        Group of each row (several columns are combined, joined by ", "). They need not be
        columns of X.
    reference_group : object, optional
        The group the others are compared with. Default: the largest group.
    background : array-like or DataFrame, optional
        Background rows for shap's masker. Default: ``n_background`` rows drawn from X.
    n_background : int, default=100
        Size of the default background sample.
    max_samples : int, default=1000
        At most this many rows are explained: a sample proportional to the group sizes that
        keeps at least 30 rows of every group (all rows when X is smaller).
    algorithm : str, default="auto"
        Passed to ``shap.Explainer`` (``"permutation"``, ``"exact"``, ...).
    max_evals : int, optional
        Model evaluations per explained row, passed to the explainer (shap's default when
        None). With the permutation explainer each permutation costs ``2 * n_features + 1``
        evaluations and one model call; a few permutations per row are enough for group
        means, and the attributions of each row still sum exactly to its score minus the
        base value.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the row samples and of shap's permutations.

    Returns
    -------
    ShapByGroup
        See :class:`ShapByGroup`.

    Raises
    ------
    ImportError
        shap is not installed.
    DataError
        Mismatched lengths, an unknown reference group, or a multiclass model.

    Notes
    -----
    SHAP values here are interventional (shap's ``Independent`` masker): features are replaced
    by background values independently of each other. A feature correlated with the sensitive
    attribute thus gets credit for the gap it carries, which is what the decomposition is for;
    it does not say whether using that feature is justified.

    References
    ----------
    .. [1] S. M. Lundberg and S.-I. Lee, "A unified approach to interpreting model
       predictions", NeurIPS 2017.

    Examples
    --------
    shap compiles parts of itself with numba on first use (seconds), so this example runs as a
    doctest in ``docs/importance.md`` rather than here:

    >>> import numpy as np, pandas as pd
    >>> import fairaudit as fa
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 1.0, 0.0, 0.0]})
    >>> model = fa.wrap(lambda X: np.asarray(X) @ [1.0, 2.0], task="regression")
    >>> r = fa.importance.shap_by_group(model, X, sensitive_features=["f", "f", "m", "m"],
    ...                                 reference_group="m", random_state=0)  # doctest: +SKIP
    >>> float(r.gap["f"]), r.contributions["f"].round(6).to_dict()  # doctest: +SKIP
    (0.0, {'a': -2.0, 'b': 2.0})
    """
    shap = import_optional("shap", purpose="shap_by_group()")
    enc = encode_frame(X)
    n = enc.Z.shape[0]
    labels, name = _group_labels(sensitive_features, n)
    group_codes, groups = pd.factorize(labels, sort=True)
    counts_all = np.bincount(group_codes, minlength=len(groups))
    if len(groups) < 2:
        raise DataError(
            f"sensitive_features has one group ({groups[0]!r}); two or more are needed to "
            "compare groups."
        )
    if reference_group is None:
        reference_group = groups[int(np.argmax(counts_all))]
    elif reference_group not in set(groups):
        raise DataError(
            f"reference_group {reference_group!r} is not among the groups "
            f"{format_values(list(groups))}."
        )
    rng = as_generator(random_state)
    wrapped = wrap(model)
    if wrapped.task == "multiclass":
        raise DataError("shap_by_group explains one score per row; this model is multiclass.")

    num_pos = {c: i for i, c in enumerate(enc.numeric)}
    cat_pos = {c: i for i, c in enumerate(enc.categorical)}
    matrix = np.empty((n, len(enc.columns)))
    for k, col in enumerate(enc.columns):
        matrix[:, k] = enc.Z[:, num_pos[col]] if col in num_pos else enc.codes[:, cat_pos[col]]
    num_idx = [enc.columns.index(c) for c in enc.numeric]
    cat_idx = [enc.columns.index(c) for c in enc.categorical]

    def score(M: np.ndarray) -> np.ndarray:
        M = np.asarray(M, dtype=np.float64)
        codes = np.rint(M[:, cat_idx]).astype(np.int32)
        return np.asarray(wrapped.predict_score(enc.build(M[:, num_idx], codes)), dtype=float)

    if background is None:
        size = min(n_background, n)
        bg = matrix[np.sort(rng.choice(n, size=size, replace=False))]
    else:
        bg_enc = encode_frame(background)
        if bg_enc.columns != enc.columns:
            raise DataError("background must have the same columns as X, in the same order.")
        bg = np.empty((bg_enc.Z.shape[0], len(enc.columns)))
        for k, col in enumerate(enc.columns):
            if col in num_pos:
                bg[:, k] = bg_enc.Z[:, num_pos[col]]
            else:
                # map the background's categories onto X's codes
                levels = list(enc.levels[cat_pos[col]])
                values = bg_enc.levels[cat_pos[col]].take(bg_enc.codes[:, cat_pos[col]])
                bg[:, k] = [levels.index(v) for v in values]
    rows = _stratified_sample(group_codes, max_samples, rng)
    seed = int(rng.integers(2**31 - 1))
    masker = shap.maskers.Independent(bg, max_samples=bg.shape[0])
    explainer = shap.Explainer(
        score, masker, algorithm=algorithm, feature_names=enc.columns, seed=seed
    )
    call_kwargs: dict[str, Any] = {"silent": True}
    if max_evals is not None:
        call_kwargs["max_evals"] = max_evals
    explanation = explainer(matrix[rows], **call_kwargs)
    values = np.asarray(explanation.values, dtype=float)
    base = float(np.mean(np.asarray(explanation.base_values, dtype=float)))
    outputs = score(matrix[rows])

    codes = group_codes[rows]
    ref_code = int(list(groups).index(reference_group))
    group_list = list(groups)
    mean_abs = pd.DataFrame(
        {g: np.abs(values[codes == i]).mean(axis=0) for i, g in enumerate(group_list)},
        index=pd.Index(enc.columns, name="feature"),
    )
    mean_shap = pd.DataFrame(
        {g: values[codes == i].mean(axis=0) for i, g in enumerate(group_list)},
        index=pd.Index(enc.columns, name="feature"),
    )
    mean_output = pd.Series(
        {g: float(outputs[codes == i].mean()) for i, g in enumerate(group_list)}, name="mean_output"
    )
    others = [g for g in group_list if g != reference_group]
    contributions = mean_shap[others].sub(mean_shap[reference_group], axis=0)
    gap = (mean_output[others] - mean_output.iloc[ref_code]).rename("gap")
    counts = pd.Series({g: int((codes == i).sum()) for i, g in enumerate(group_list)}, name="count")
    return ShapByGroup(
        mean_abs=mean_abs,
        mean_shap=mean_shap,
        contributions=contributions,
        gap=gap,
        mean_output=mean_output,
        counts=counts,
        base_value=base if math.isfinite(base) else float("nan"),
        reference_group=reference_group,
        sensitive_feature=name,
        output="score",
        algorithm=type(explainer).__name__,
        max_evals=max_evals,
        n_samples=int(rows.size),
        n_background=int(bg.shape[0]),
        random_state=random_state if isinstance(random_state, int | np.integer) else None,
    )
