"""SHAP attributions averaged per group, and the gap between groups split by feature."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._optional import import_optional
from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text
from fairaudit._validation import (
    align_on_index,
    as_1d,
    as_generator,
    check_consistent_length,
    check_one_label_type,
    format_values,
)
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
        for column in frame.columns:
            check_one_label_type(frame[column], name=column)
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
        check_one_label_type(labels, name=name)
    check_consistent_length(X=np.empty(n), sensitive_features=labels)
    return labels, name


def _stratified_sample(
    codes: np.ndarray, max_samples: int, rng: np.random.Generator, min_per_group: int
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


_ALGORITHMS = ("auto", "exact", "permutation")
# shap's own rule for "auto" with an Independent masker: Exact up to 10 features
_EXACT_MAX_FEATURES = 10
_MIN_PER_GROUP = 30
# bootstrap replicates x explained rows of a group drawn at once (memory bound)
_BOOT_CHUNK = 1 << 20


def _resolve_algorithm(algorithm: Any, max_evals: Any, n_features: int) -> str:
    """Choose the explainer and check ``max_evals`` against it, before any model call.

    ``"auto"`` is shap's rule (Exact up to 10 features, else Permutation), except that an
    explicit ``max_evals`` too small for Exact's ``2 ** n_features`` evaluations picks
    Permutation: a small budget is a request for the sampling explainer.
    """
    if not isinstance(algorithm, str) or algorithm not in _ALGORITHMS:
        raise ValueError(
            f"algorithm must be one of {format_values(_ALGORITHMS)}, got {algorithm!r}; the "
            "other shap explainers need a model of a specific kind (tree, linear, deep)."
        )
    if max_evals is not None and (
        isinstance(max_evals, bool) or not isinstance(max_evals, int | np.integer)
    ):
        raise TypeError(f"max_evals must be an int or None, got {max_evals!r}.")
    exact_cost = 2**n_features
    permutation_min = 2 * n_features + 1
    if algorithm == "auto":
        if n_features > _EXACT_MAX_FEATURES or (max_evals is not None and max_evals < exact_cost):
            algorithm = "permutation"
        else:
            algorithm = "exact"
    if algorithm == "exact" and max_evals is not None and max_evals < exact_cost:
        raise ValueError(
            f"max_evals={max_evals} is too small for algorithm='exact', which evaluates all "
            f"2 ** {n_features} = {exact_cost} coalitions per row; raise max_evals, or use "
            "algorithm='permutation' (or 'auto')."
        )
    if algorithm == "permutation" and max_evals is not None and max_evals < permutation_min:
        raise ValueError(
            f"max_evals={max_evals} is too small for the permutation explainer: one "
            f"permutation of {n_features} features costs 2 * {n_features} + 1 = "
            f"{permutation_min} evaluations; pass max_evals >= {permutation_min} (a few "
            "permutations per row are enough for group means)."
        )
    return algorithm


def _bootstrap_means(
    values: np.ndarray, codes: np.ndarray, n_groups: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_boot, n_groups, n_columns) means of ``values`` over rows resampled within each group."""
    out = np.empty((n_boot, n_groups, values.shape[1]))
    for g in range(n_groups):
        block = values[codes == g]
        size = block.shape[0]
        step = max(1, _BOOT_CHUNK // max(size, 1))
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            counts = rng.multinomial(size, np.full(size, 1.0 / size), size=stop - start)
            out[start:stop, g] = counts @ block / size
    return out


@dataclass(frozen=True)
class ShapByGroup(ResultMixin):
    """SHAP attributions per group and the split of the output gap between groups.

    Attributes
    ----------
    mean_abs : pandas.DataFrame
        Mean absolute SHAP value over the explained rows, one row per feature, one column per
        group.
    mean_shap : pandas.DataFrame
        Mean (signed) SHAP value, same shape.
    contributions : pandas.DataFrame
        ``mean_shap[g] - mean_shap[reference_group]`` for each other group ``g``: the part of
        the gap in mean model output that each feature accounts for, on the explained rows.
    contributions_lower, contributions_upper : pandas.DataFrame
        Percentile bootstrap interval of each contribution over the explained sample (rows
        resampled within each group; ``n_boot`` replicates; NaN when ``n_boot=0``). It
        measures the sampling of rows, including the explainer's own per-row noise.
    gap : pandas.Series
        Mean model output of each other group minus that of the reference group, on **all**
        rows of X (one model call on every row): the gap the decomposition explains.
    sample_gap : pandas.Series
        The same gap on the explained rows. Each column of ``contributions`` sums to it
        (SHAP's efficiency).
    sample_gap_lower, sample_gap_upper : pandas.Series
        Bootstrap interval of ``sample_gap`` (same resampling as the contributions).
    mean_output : pandas.Series
        Mean model output per group, on all rows.
    counts : pandas.Series
        Rows explained per group (the sample).
    group_sizes : pandas.Series
        Rows per group in X.
    base_value : float
        Mean model output over the background sample (SHAP's expected value).
    reference_group : object
        The group the others are compared with.
    sensitive_feature : str
        Name of the sensitive feature (columns joined by ", " when several).
    output : str
        What was explained: ``"score"`` (``predict_score`` of the wrapped model), or
        ``"score[c]"``, the probability of class ``c`` of a multiclass model.
    algorithm : str
        The shap explainer used (``"exact"`` or ``"permutation"``).
    max_evals : int or None
        Model evaluations per row given to the explainer (None: shap's default).
    n_samples, n_background, n_rows : int
        Rows explained, rows of the background sample, rows of X.
    n_boot : int
        Bootstrap replicates of the intervals.
    confidence : float
        Level of the intervals.
    seed : int
        Seed of the samples (explained rows, background) and of shap's permutations; drawn
        from ``random_state`` (which may be None), so that the run can be repeated.
    random_state : int or None
        The seed, when an int was given.
    """

    mean_abs: pd.DataFrame
    mean_shap: pd.DataFrame
    contributions: pd.DataFrame
    contributions_lower: pd.DataFrame
    contributions_upper: pd.DataFrame
    gap: pd.Series
    sample_gap: pd.Series
    sample_gap_lower: pd.Series
    sample_gap_upper: pd.Series
    mean_output: pd.Series
    counts: pd.Series
    group_sizes: pd.Series
    base_value: float
    reference_group: Any
    sensitive_feature: str
    output: str
    algorithm: str
    max_evals: int | None
    n_samples: int
    n_background: int
    n_rows: int
    n_boot: int
    confidence: float
    seed: int
    random_state: int | None

    def to_frame(self) -> pd.DataFrame:
        """Return one row per group and feature.

        Returns
        -------
        pandas.DataFrame
            Columns: ``group``; ``feature``; ``mean_abs_shap``; ``mean_shap``;
            ``contribution`` (to the gap between the group and the reference group, on the
            explained rows; NaN for the reference group itself); ``contribution_lower`` and
            ``contribution_upper`` (its bootstrap interval).
        """
        rows = []
        for group in self.mean_abs.columns:
            other = group in self.contributions.columns
            for feature in self.mean_abs.index:
                row = {
                    "group": group,
                    "feature": feature,
                    "mean_abs_shap": float(self.mean_abs.loc[feature, group]),
                    "mean_shap": float(self.mean_shap.loc[feature, group]),
                }
                for key, frame in (
                    ("contribution", self.contributions),
                    ("contribution_lower", self.contributions_lower),
                    ("contribution_upper", self.contributions_upper),
                ):
                    row[key] = float(frame.loc[feature, group]) if other else float("nan")
                rows.append(row)
        return pd.DataFrame(
            rows,
            columns=[
                "group",
                "feature",
                "mean_abs_shap",
                "mean_shap",
                "contribution",
                "contribution_lower",
                "contribution_upper",
            ],
        )

    def _interval(self, lower: float, upper: float) -> str:
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return ""
        return f" [{lower:+.3g}, {upper:+.3g}]"

    def _summary(self) -> list[str]:
        lines = []
        for group in self.contributions.columns:
            contrib = self.contributions[group]
            top = contrib.reindex(contrib.abs().sort_values(ascending=False).index)[:3]
            low = self.contributions_lower[group].to_dict()
            high = self.contributions_upper[group].to_dict()
            parts = ", ".join(
                f"{f} ({v:+.3g}" + self._interval(low[f], high[f]) + ")" for f, v in top.items()
            )
            sample = (
                f"on the {int(self.counts[group]) + int(self.counts[self.reference_group]):,} "
                f"explained rows {self.sample_gap[group]:+.3g}"
                + self._interval(self.sample_gap_lower[group], self.sample_gap_upper[group])
            )
            lines.append(
                f"Mean score {group} vs {self.reference_group}: gap {self.gap[group]:+.3g} over "
                f"all {int(self.group_sizes[group]) + int(self.group_sizes[self.reference_group]):,}"
                f" rows of both groups; {sample}, largest contributions {parts}."
            )
        overall = self.mean_abs.mean(axis=1).sort_values(ascending=False)
        lines.append(
            "Largest mean |SHAP| over groups: "
            + ", ".join(f"{f} ({v:.3g})" for f, v in overall[:3].items())
            + "."
        )
        if self.n_samples < self.n_rows:
            per_group = ", ".join(f"{g}: {int(c):,}" for g, c in self.counts.items())
            lines.append(
                f"SHAP explained {self.n_samples:,} of {self.n_rows:,} rows ({per_group}; seed "
                f"{self.seed}); intervals: {self.confidence:.0%} bootstrap over those rows."
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the common result keys.

        Returns
        -------
        dict
            ``kind`` (``"shap_by_group"``), ``schema_version``, ``title``, ``summary``,
            ``parameters``, ``table`` (records of :meth:`to_frame`), and ``gap`` ({group:
            value} on all rows), ``sample_gap`` and ``sample_gap_interval`` ({group: [lower,
            upper]}) on the explained rows, ``residual`` ({group: sample gap minus the sum of
            contributions}), ``mean_output``, ``counts`` (explained rows per group),
            ``group_sizes``, ``sampling`` (``n_rows``, ``n_samples``, ``rows_per_group``,
            ``seed``, ``n_boot``, ``confidence``), ``base_value``, ``reference_group``.
        """
        residual = self.sample_gap - self.contributions.sum(axis=0)
        return json_safe(
            {
                "kind": "shap_by_group",
                "schema_version": 2,
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
                    "n_boot": self.n_boot,
                    "confidence": self.confidence,
                    "seed": self.seed,
                    "random_state": self.random_state,
                },
                "table": self.to_frame().to_dict(orient="records"),
                "gap": self.gap.to_dict(),
                "sample_gap": self.sample_gap.to_dict(),
                "sample_gap_interval": {
                    g: [self.sample_gap_lower[g], self.sample_gap_upper[g]]
                    for g in self.sample_gap.index
                },
                "residual": residual.to_dict(),
                "mean_output": self.mean_output.to_dict(),
                "counts": self.counts.to_dict(),
                "group_sizes": self.group_sizes.to_dict(),
                "sampling": {
                    "n_rows": self.n_rows,
                    "n_samples": self.n_samples,
                    "rows_per_group": self.counts.to_dict(),
                    "min_per_group": _MIN_PER_GROUP,
                    "seed": self.seed,
                    "n_boot": self.n_boot,
                    "confidence": self.confidence,
                },
                "base_value": self.base_value,
                "reference_group": self.reference_group,
            }
        )

    def plot(self, ax: Any = None, *, group: Any = None) -> Any:
        """Bars of each feature's contribution to the gap between ``group`` and the reference.

        ``group`` defaults to the first non-reference group; the whiskers are the bootstrap
        intervals. Returns the matplotlib Axes.
        """
        ax = get_axes(ax)
        if group is None:
            group = self.contributions.columns[0]
        contrib = self.contributions[group].sort_values()
        lower = self.contributions_lower[group].reindex(contrib.index).to_numpy()
        upper = self.contributions_upper[group].reindex(contrib.index).to_numpy()
        colours = ["#d62728" if v < 0 else "#1f77b4" for v in contrib]
        values = contrib.to_numpy()
        xerr = None
        if np.isfinite(lower).all() and np.isfinite(upper).all():
            xerr = np.vstack([np.maximum(values - lower, 0), np.maximum(upper - values, 0)])
        ax.barh(np.arange(len(contrib)), values, color=colours, xerr=xerr)
        ax.set_yticks(np.arange(len(contrib)))
        ax.set_yticklabels([plot_text(i) for i in contrib.index])
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(
            f"contribution to the mean score gap ({self.sample_gap[group]:+.3g} on the explained "
            f"rows, {self.gap[group]:+.3g} on all rows)"
        )
        ax.set_title(plot_text(f"{group} vs {self.reference_group}"))
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
    target_class: Any = None,
    n_boot: int = 200,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> ShapByGroup:
    """Average SHAP attributions per group and split the gap in mean output by feature.

    The model's score (``predict_score`` of :func:`fairaudit.wrap`) is explained row by row
    with shap; the attributions are then averaged per group. Because each row's attributions
    sum to its score minus the background mean (SHAP's efficiency), the difference in mean
    score between a group and the reference group is exactly the sum over features of the
    difference in their mean attributions: ``contributions`` splits the gap by feature.

    The gap itself (``gap``) is computed on every row of X with one model call; when X has
    more than ``max_samples`` rows, the decomposition is computed on a sample, whose own gap
    (``sample_gap``) and contributions come with bootstrap intervals over the sampled rows.

    Parameters
    ----------
    model : estimator, pipeline or callable
        Anything :func:`fairaudit.wrap` accepts: binary or regression (one score per row), or
        multiclass with ``target_class``.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The inputs, as the model takes them; categorical columns are passed to shap as integer
        codes and decoded before each model call.
    sensitive_features : array-like of shape (n_samples,) or DataFrame
        Group of each row (several columns are combined, joined by ", "). They need not be
        columns of X. pandas inputs are paired with X on their index labels (an index with
        other labels is refused); arrays and lists pair by position.
    reference_group : object, optional
        The group the others are compared with. Default: the largest group.
    background : array-like or DataFrame, optional
        Background rows for shap's masker. Default: ``n_background`` rows drawn from X.
    n_background : int, default=100
        Size of the default background sample.
    max_samples : int, default=1000
        At most this many rows are explained: a sample proportional to the group sizes that
        keeps at least 30 rows of every group (all rows when X is smaller).
    algorithm : {"auto", "exact", "permutation"}, default="auto"
        The shap explainer. ``"exact"`` evaluates all ``2 ** n_features`` coalitions per row;
        ``"permutation"`` samples permutations (``max_evals`` bounds them). ``"auto"`` is
        Exact up to 10 features and Permutation beyond, or whenever ``max_evals`` is smaller
        than Exact's ``2 ** n_features``.
    max_evals : int, optional
        Model evaluations per explained row. Permutation: at least ``2 * n_features + 1``
        (one permutation; each permutation costs that many evaluations and one model call; a
        few per row are enough for group means, and each row's attributions still sum exactly
        to its score minus the base value). Exact: at least ``2 ** n_features``. Checked
        before any model call.
    target_class : object, optional
        For a multiclass model, the class whose probability is explained (required there; one
        of the model's ``classes_``). Binary models explain the positive class of
        :func:`fairaudit.wrap` (pass ``fa.wrap(model, pos_label=...)`` to choose it).
    n_boot : int, default=200
        Bootstrap replicates of the intervals (rows of the explained sample resampled within
        each group); 0 for none.
    confidence : float, default=0.95
        Level of the intervals.
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
        Mismatched lengths or indexes, an unknown reference group, a multiclass model without
        ``target_class``.
    ValueError
        An unknown ``algorithm``, a ``max_evals`` too small for it.

    Notes
    -----
    SHAP values here are interventional (shap's ``Independent`` masker): features are replaced
    by background values independently of each other. A feature correlated with the sensitive
    attribute thus gets credit for the gap it carries, which is what the decomposition is for;
    it does not say whether using that feature is justified.

    The intervals measure the sampling of the explained rows (and the explainer's per-row
    noise, which is independent across rows); they do not cover the choice of the background
    sample. With ``max_samples`` at least the number of rows, every row is explained and
    ``sample_gap`` equals ``gap``.

    References
    ----------
    .. [1] S. M. Lundberg and S.-I. Lee, "A unified approach to interpreting model
       predictions", NeurIPS 2017.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import fairaudit as fa
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 1.0, 0.0, 0.0]})
    >>> model = fa.wrap(lambda X: np.asarray(X) @ [1.0, 2.0], task="regression")
    >>> r = fa.importance.shap_by_group(model, X, sensitive_features=["f", "f", "m", "m"],
    ...                                 reference_group="m", random_state=0)
    >>> float(r.gap["f"]), r.contributions["f"].round(6).to_dict()
    (0.0, {'a': -2.0, 'b': 2.0})
    """
    shap = import_optional("shap", purpose="shap_by_group()")
    for arg, value in (("n_background", n_background), ("max_samples", max_samples)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{arg} must be a positive int, got {value!r}.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative int, got {n_boot!r}.")
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}.")
    aligned = align_on_index(X=X, sensitive_features=sensitive_features)
    X, sensitive_features = aligned["X"], aligned["sensitive_features"]
    enc = encode_frame(X)
    n = enc.Z.shape[0]
    algorithm = _resolve_algorithm(algorithm, max_evals, len(enc.columns))
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
    # an int random_state is the seed itself, so that random_state=result.seed repeats a run
    seed = (
        int(random_state)
        if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool)
        else int(as_generator(random_state).integers(2**31 - 1))
    )
    rng = np.random.default_rng(seed)
    wrapped = wrap(model)

    num_pos = {c: i for i, c in enumerate(enc.numeric)}
    cat_pos = {c: i for i, c in enumerate(enc.categorical)}
    matrix = np.empty((n, len(enc.columns)))
    for k, col in enumerate(enc.columns):
        matrix[:, k] = enc.Z[:, num_pos[col]] if col in num_pos else enc.codes[:, cat_pos[col]]
    num_idx = [enc.columns.index(c) for c in enc.numeric]
    cat_idx = [enc.columns.index(c) for c in enc.categorical]

    def raw_score(M: np.ndarray) -> np.ndarray:
        M = np.asarray(M, dtype=np.float64)
        codes = np.rint(M[:, cat_idx]).astype(np.int32)
        return np.asarray(wrapped.predict_score(enc.build(M[:, num_idx], codes)), dtype=float)

    # one call on every row: the gap to explain, and the task of a callable (its output width)
    all_scores = raw_score(matrix)
    column = _output_column(wrapped, all_scores, target_class)
    output = "score" if column is None else f"score[{target_class}]"
    if column is not None:
        all_scores = all_scores[:, column]

    def score(M: np.ndarray) -> np.ndarray:
        out = raw_score(M)
        return out if column is None else out[:, column]

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
    rows = _stratified_sample(group_codes, max_samples, rng, _MIN_PER_GROUP)
    masker = shap.maskers.Independent(bg, max_samples=bg.shape[0])
    explainer = shap.Explainer(
        score, masker, algorithm=algorithm, feature_names=enc.columns, seed=seed
    )
    call_kwargs: dict[str, Any] = {"silent": True}
    if max_evals is not None:
        call_kwargs["max_evals"] = int(max_evals)
    explanation = explainer(matrix[rows], **call_kwargs)
    values = np.asarray(explanation.values, dtype=float)
    base = float(np.mean(np.asarray(explanation.base_values, dtype=float)))
    outputs = all_scores[rows]

    codes = group_codes[rows]
    ref_code = int(list(groups).index(reference_group))
    group_list = list(groups)
    features = pd.Index(enc.columns, name="feature")
    mean_abs = pd.DataFrame(
        {g: np.abs(values[codes == i]).mean(axis=0) for i, g in enumerate(group_list)},
        index=features,
    )
    mean_shap = pd.DataFrame(
        {g: values[codes == i].mean(axis=0) for i, g in enumerate(group_list)}, index=features
    )
    mean_output = pd.Series(
        {g: float(all_scores[group_codes == i].mean()) for i, g in enumerate(group_list)},
        name="mean_output",
    )
    sample_output = pd.Series(
        {g: float(outputs[codes == i].mean()) for i, g in enumerate(group_list)}
    )
    others = [g for g in group_list if g != reference_group]
    other_codes = [group_list.index(g) for g in others]
    contributions = mean_shap[others].sub(mean_shap[reference_group], axis=0)
    gap = (mean_output[others] - mean_output.iloc[ref_code]).rename("gap")
    sample_gap = (sample_output[others] - sample_output.iloc[ref_code]).rename("sample_gap")

    nan_frame = pd.DataFrame(np.nan, index=features, columns=others)
    lower, upper = nan_frame, nan_frame.copy()
    gap_lower = pd.Series(np.nan, index=others, name="sample_gap_lower")
    gap_upper = pd.Series(np.nan, index=others, name="sample_gap_upper")
    if n_boot > 0:
        # resample the explained rows within each group: SHAP values and outputs together
        joint = np.column_stack([values, outputs])
        boot = _bootstrap_means(joint, codes, len(group_list), int(n_boot), rng)
        diffs = boot[:, other_codes, :] - boot[:, [ref_code], :]  # (n_boot, others, p + 1)
        tail = (1.0 - confidence) / 2.0
        lo, hi = np.quantile(diffs, [tail, 1.0 - tail], axis=0)
        lower = pd.DataFrame(lo[:, :-1].T, index=features, columns=others)
        upper = pd.DataFrame(hi[:, :-1].T, index=features, columns=others)
        gap_lower = pd.Series(lo[:, -1], index=others, name="sample_gap_lower")
        gap_upper = pd.Series(hi[:, -1], index=others, name="sample_gap_upper")
    counts = pd.Series({g: int((codes == i).sum()) for i, g in enumerate(group_list)}, name="count")
    sizes = pd.Series({g: int(counts_all[i]) for i, g in enumerate(group_list)}, name="rows")
    return ShapByGroup(
        mean_abs=mean_abs,
        mean_shap=mean_shap,
        contributions=contributions,
        contributions_lower=lower,
        contributions_upper=upper,
        gap=gap,
        sample_gap=sample_gap,
        sample_gap_lower=gap_lower,
        sample_gap_upper=gap_upper,
        mean_output=mean_output,
        counts=counts,
        group_sizes=sizes,
        base_value=base if math.isfinite(base) else float("nan"),
        reference_group=reference_group,
        sensitive_feature=name,
        output=output,
        algorithm=algorithm,
        max_evals=None if max_evals is None else int(max_evals),
        n_samples=int(rows.size),
        n_background=int(bg.shape[0]),
        n_rows=int(n),
        n_boot=int(n_boot),
        confidence=float(confidence),
        seed=seed,
        random_state=random_state if isinstance(random_state, int | np.integer) else None,
    )


def _output_column(wrapped: Any, scores: np.ndarray, target_class: Any) -> int | None:
    """Return the score column to explain: None for one score per row, else target_class's."""
    if scores.ndim == 1:
        if target_class is not None:
            raise ValueError(
                f"target_class={target_class!r} is for multiclass models; this model gives one "
                "score per row (for a binary model, choose the class with "
                "fa.wrap(model, pos_label=...))."
            )
        return None
    classes = list(np.asarray(wrapped.classes_).tolist()) if wrapped.classes_ is not None else []
    if target_class is None:
        raise DataError(
            f"the model is multiclass ({scores.shape[1]} classes "
            f"{format_values(classes)}) and shap_by_group explains one score per row; pass "
            "target_class= one of them to explain its probability."
        )
    if target_class not in classes:
        raise DataError(
            f"target_class={target_class!r} is not one of the model's classes "
            f"{format_values(classes)}."
        )
    return classes.index(target_class)
