"""``GroupMetrics`` and ``group_metrics``: metrics per group with intervals and tests."""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import as_1d, as_generator, check_consistent_length, format_values
from fairaudit._validation import check_sample_weight as _check_sample_weight
from fairaudit.exceptions import DataError, SmallGroupWarning, UndefinedMetricWarning
from fairaudit.metrics._compute import Column, table_values
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
from fairaudit.metrics._registry import DEFAULT_METRICS, METRIC_REGISTRY, get_metric
from fairaudit.metrics._uncertainty import (
    Replicates,
    benjamini_hochberg,
    bootstrap,
    effective_counts,
    percentile_interval,
    two_proportion_test,
    wilson_interval,
)

__all__ = ["GroupMetrics", "group_metrics"]

logger = logging.getLogger(__name__)

Method = Literal["between_groups", "to_overall"]

# cells x replicates drawn for the regression bootstrap, at most
_REGRESSION_BOOT_BUDGET = 10_000_000

EQUALIZED_ODDS = "equalized_odds"
_EO_PARTS = ("true_positive_rate", "false_positive_rate")
EQUALIZED_ODDS_INFO = {
    "label": "Equalized odds",
    "description": (
        "Aggregate of the true and false positive rates: the larger of their differences, "
        "the smaller of their ratios."
    ),
    "ideal": None,
    "direction": "none",
    "task": "binary",
    "formula": "difference: max(TPR difference, FPR difference); ratio: min(TPR ratio, FPR ratio)",
    "limitations": "Inherits the limits of TPR and FPR; treats y_true as ground truth.",
}


# ---------------------------------------------------------------------------------------------
# aggregates over groups, vectorized over leading (replicate) dimensions: values (..., G)


def _nan_reduce(values: np.ndarray, func: Any, min_count: int = 1) -> np.ndarray:
    finite = np.isfinite(values)
    enough = finite.sum(axis=-1) >= min_count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = func(np.where(finite, values, np.nan), axis=-1)
    return np.where(enough, out, np.nan)


def _agg_difference(
    values: np.ndarray, overall: np.ndarray, method: str, ref: int | None
) -> np.ndarray:
    if method == "reference":
        assert ref is not None
        others = np.delete(values, ref, axis=-1)
        return _nan_reduce(np.abs(others - values[..., ref : ref + 1]), np.nanmax)
    if method == "to_overall":
        return _nan_reduce(np.abs(values - overall[..., None]), np.nanmax)
    return _nan_reduce(values, np.nanmax, 2) - _nan_reduce(values, np.nanmin, 2)


def _agg_ratio(values: np.ndarray, overall: np.ndarray, method: str, ref: int | None) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = (values < 0).any(axis=-1)
        if method == "reference":
            assert ref is not None
            others = np.delete(values, ref, axis=-1)
            out = _nan_reduce(others / values[..., ref : ref + 1], np.nanmin)
        elif method == "to_overall":
            o = overall[..., None]
            both = np.minimum(values / o, o / values)
            both = np.where((values == 0) & (o == 0), 1.0, both)
            out = _nan_reduce(both, np.nanmin)
            negative = negative | (overall < 0)
        else:
            hi = _nan_reduce(values, np.nanmax, 2)
            lo = _nan_reduce(values, np.nanmin, 2)
            out = np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), np.nan)
    return np.where(negative, np.nan, out)


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupMetrics(ResultMixin):
    """Metrics per group (one sensitive feature or their intersection), with uncertainty.

    Build it with :func:`fairaudit.group_metrics` or :func:`fairaudit.audit`.

    Attributes
    ----------
    by_group : pandas.DataFrame
        One row per group, indexed by the group label (a MultiIndex named after the sensitive
        columns when there are several), one column per metric plus ``"count"`` (rows in the
        group, unweighted). Multiclass metrics are named ``"metric[class]"``.
    overall : pandas.Series
        Each metric on all rows pooled, plus ``"count"``.
    ci : pandas.DataFrame or None
        Indexed like ``by_group``; columns a MultiIndex (metric, "lower"/"upper"). ``None``
        when no interval was asked for (``n_boot=0`` and ``ci_method=None``).
    metrics : tuple of str
        The metric columns, in order.
    sensitive_feature_names : tuple of str
        Names of the sensitive columns.
    pos_label : object
        The positive label (``None`` for one-vs-rest multiclass and for regression).
    n_boot : int
        Bootstrap replicates (0: none).
    confidence : float
        Confidence level of the intervals.
    random_state : int or None
        Seed of the bootstrap, as given (a Generator is recorded as ``None``).
    reference_group : object or None
        Default reference group of ``difference``/``ratio``/``disparities``/``tests``.
    min_group_size : int
        Groups with fewer rows raised a ``SmallGroupWarning``.
    provenance : dict
        Parameters, library versions and, when ``fingerprint=True``, SHA-256 digests of the
        inputs (see :func:`group_metrics`).
    ci_method : {"bootstrap", "wilson"} or None
        How ``ci`` was computed.
    task : {"binary", "multiclass", "regression"}
        The kind of predictions.

    Examples
    --------
    >>> import fairaudit as fa
    >>> gm = fa.group_metrics([1, 0, 1, 1, 0, 0], [1, 0, 0, 1, 1, 0],
    ...                       sensitive_features=["a", "a", "a", "b", "b", "b"],
    ...                       metrics=["selection_rate"], min_group_size=1)
    >>> gm.by_group
                         selection_rate  count
    sensitive_feature_0
    a                          0.333333      3
    b                          0.666667      3
    >>> float(gm.difference()["selection_rate"])
    0.333...
    """

    by_group: pd.DataFrame
    overall: pd.Series
    ci: pd.DataFrame | None
    metrics: tuple[str, ...]
    sensitive_feature_names: tuple[str, ...]
    pos_label: Any
    n_boot: int
    confidence: float
    random_state: int | None
    reference_group: Any
    min_group_size: int
    provenance: dict[str, Any]
    ci_method: str | None = None
    task: str = "binary"
    _table: CountTable | None = field(default=None, repr=False, compare=False)
    _columns: tuple[Column, ...] = field(default=(), repr=False, compare=False)
    _replicates: Replicates | None = field(default=None, repr=False, compare=False)

    # -- helpers -----------------------------------------------------------------------------

    def _group_position(self, group: Any, *, argument: str = "reference_group") -> int:
        index = self.by_group.index
        key = tuple(group) if isinstance(group, list) else group
        if isinstance(index, pd.MultiIndex) and not isinstance(key, tuple):
            key = (key,)
        try:
            pos = index.get_loc(key)
        except (KeyError, TypeError):
            pos = None
        if not isinstance(pos, int | np.integer):
            raise DataError(
                f"{argument}={group!r} is not one of the groups; the groups are "
                f"{format_values(list(index))}."
            )
        return int(pos)

    def _resolve_reference(self, reference_group: Any) -> Any:
        return self.reference_group if reference_group is None else reference_group

    def _subset(self, groups: Any) -> np.ndarray:
        if groups is None:
            return np.arange(len(self.by_group))
        return np.array([self._group_position(g, argument="groups") for g in groups])

    def _values(self) -> tuple[np.ndarray, np.ndarray]:
        cols = list(self.metrics)
        return self.by_group[cols].to_numpy(dtype=np.float64), self.overall[cols].to_numpy(
            dtype=np.float64
        )

    def _has_eo(self) -> bool:
        return all(m in self.metrics for m in _EO_PARTS)

    def _aggregate(
        self,
        compare: str,
        method: str,
        ref: int | None,
        subset: np.ndarray,
        values: np.ndarray,
        overall: np.ndarray,
    ) -> np.ndarray:
        """(..., M') aggregate per metric (+ equalized odds) from values (..., G, M)."""
        vals = np.moveaxis(values[..., subset, :], -1, -2)  # (..., M, G)
        if ref is not None:
            ref = int(np.flatnonzero(subset == ref)[0])
        func = _agg_difference if compare == "difference" else _agg_ratio
        out = func(vals, overall, method, ref)
        if self._has_eo():
            i, j = (self.metrics.index(m) for m in _EO_PARTS)
            combine = np.fmax if compare == "difference" else np.fmin
            eo = combine(out[..., i], out[..., j])
            eo = np.where(np.isnan(out[..., i]) | np.isnan(out[..., j]), np.nan, eo)
            out = np.concatenate([out, eo[..., None]], axis=-1)
        return out

    def _names(self) -> list[str]:
        return [*self.metrics, EQUALIZED_ODDS] if self._has_eo() else list(self.metrics)

    def _compare(
        self, compare: str, method: str, reference_group: Any, groups: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, Any]:
        reference = self._resolve_reference(reference_group)
        if method not in ("between_groups", "to_overall"):
            raise ValueError(f"method must be 'between_groups' or 'to_overall', got {method!r}.")
        subset = self._subset(groups)
        ref = None
        if reference is not None:
            ref = self._group_position(reference)
            if ref not in subset:
                subset = np.append(subset, ref)
            method = "reference"
        values, overall = self._values()
        point = self._aggregate(compare, method, ref, subset, values, overall)
        lower = upper = np.full(point.shape, np.nan)
        if self._replicates is not None:
            reps = self._aggregate(
                compare,
                method,
                ref,
                subset,
                self._replicates.groups,
                self._replicates.overall,
            )
            lower, upper = percentile_interval(reps, self.confidence)
        return point, lower, upper, method, reference

    # -- contract ----------------------------------------------------------------------------

    def difference(
        self, *, method: Method = "between_groups", reference_group: Any = None
    ) -> pd.Series:
        """Largest difference per metric: max - min, max |group - overall|, or vs a reference.

        Parameters
        ----------
        method : {"between_groups", "to_overall"}, default "between_groups"
            ``"between_groups"``: max - min over groups (fairlearn's default);
            ``"to_overall"``: max over groups of |group - overall|.
        reference_group : label, optional
            When given, the largest |group - reference| over the other groups, whatever
            ``method`` says. (The object's own ``reference_group`` is used by
            ``disparities()`` and ``tests()``, not here: ``difference()`` keeps fairlearn's
            meaning.)

        Returns
        -------
        pandas.Series
            Indexed by metric, plus ``"equalized_odds"`` (the larger of the TPR and FPR
            differences) when both rates were computed. NaN when fewer than two groups have a
            value.

        Examples
        --------
        >>> import fairaudit as fa
        >>> gm = fa.group_metrics([1, 0, 1, 1], [1, 0, 0, 1], sensitive_features=list("aabb"),
        ...                       metrics=["selection_rate"], min_group_size=1)
        >>> gm.difference().tolist()
        [0.0]
        """
        point, *_ = self._compare_raw("difference", method, reference_group, None)
        return pd.Series(point, index=pd.Index(self._names(), name="metric"), name="difference")

    def ratio(self, *, method: Method = "between_groups", reference_group: Any = None) -> pd.Series:
        """Smallest ratio per metric: min / max, min(g/o, o/g), or min group / reference.

        Parameters
        ----------
        method : {"between_groups", "to_overall"}, default "between_groups"
            ``"between_groups"``: min / max over groups; ``"to_overall"``: the smallest of
            min(group / overall, overall / group).
        reference_group : label, optional
            When given, the smallest group / reference over the other groups (this one may
            exceed 1).

        Returns
        -------
        pandas.Series
            Indexed by metric (plus ``"equalized_odds"``: the smaller of the TPR and FPR
            ratios). NaN when undefined (a zero maximum, negative values as in
            ``mean_error``, fewer than two groups).

        Examples
        --------
        >>> import fairaudit as fa
        >>> gm = fa.group_metrics([1, 0, 1, 1], [1, 0, 1, 1], sensitive_features=list("aabb"),
        ...                       metrics=["selection_rate"], min_group_size=1)
        >>> gm.ratio().tolist()
        [0.5]
        """
        point, *_ = self._compare_raw("ratio", method, reference_group, None)
        return pd.Series(point, index=pd.Index(self._names(), name="metric"), name="ratio")

    def disparities(self, *, reference_group: Any = None, groups: Any = None) -> pd.DataFrame:
        """Every difference and ratio in one long table, with bootstrap intervals.

        Parameters
        ----------
        reference_group : label, optional
            Adds rows comparing every group with this one (method ``"reference"``); defaults to
            the object's ``reference_group``.
        groups : list of labels, optional
            Restrict the comparison to these groups (e.g. the large ones); the overall value
            stays the one of all rows.

        Returns
        -------
        pandas.DataFrame
            Columns ``metric``, ``compare`` ("difference" or "ratio"), ``method``
            ("between_groups", "to_overall" or "reference"), ``reference`` (the reference
            label or None), ``value``, ``lower``, ``upper`` (percentile bootstrap bounds from
            the same replicates as ``ci``; NaN when ``n_boot=0``).
        """
        reference = self._resolve_reference(reference_group)
        rows: list[dict[str, Any]] = []
        for compare in ("difference", "ratio"):
            plans: list[tuple[str, Any]] = [("between_groups", None), ("to_overall", None)]
            if reference is not None:
                plans.append(("reference", reference))
            for method, ref in plans:
                m = "between_groups" if method == "reference" else method
                point, lower, upper, _, _ = self._compare_raw(compare, m, ref, groups)
                for name, v, lo, hi in zip(self._names(), point, lower, upper, strict=True):
                    rows.append(
                        {
                            "metric": name,
                            "compare": compare,
                            "method": method,
                            "reference": ref,
                            "value": float(v),
                            "lower": float(lo),
                            "upper": float(hi),
                        }
                    )
        out = pd.DataFrame(
            rows, columns=["metric", "compare", "method", "reference", "value", "lower", "upper"]
        )
        # object dtype, so that "no reference" stays None (a string column would make it NaN)
        out["reference"] = pd.Series([r["reference"] for r in rows], dtype=object)
        return out

    def _compare_raw(
        self, compare: str, method: str, ref_label: Any, groups: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, Any]:
        # like _compare, but with an explicit reference (None means no reference at all)
        obj = replace(self, reference_group=None) if ref_label is None else self
        return obj._compare(compare, method, ref_label, groups)

    def tests(self, *, reference_group: Any = None) -> pd.DataFrame:
        """Test each group against the reference group, per rate metric, with BH adjustment.

        Two-sided two-proportion z-test, or Fisher's exact test when an expected cell of the
        2x2 table (group/reference x success/failure) is under 5. With sample weights the
        counts are Kish effective sizes ``(sum w)^2 / sum w^2`` (rounded for Fisher's test).

        Parameters
        ----------
        reference_group : label, optional
            Defaults to the object's ``reference_group``, else the largest group (most rows);
            the ``reference`` column names it.

        Returns
        -------
        pandas.DataFrame
            One row per rate metric and non-reference group. Columns ``metric``, ``group``,
            ``reference``, ``value``, ``reference_value``, ``statistic`` (z, or the odds ratio
            for Fisher's test), ``p_value``, ``p_value_adjusted`` (Benjamini-Hochberg over all
            rows of the table), ``test`` ("z", "fisher_exact", or "none" when undefined).
        """
        table = self._require_table()
        reference = self._resolve_reference(reference_group)
        if reference is None:
            reference = self.by_group.index[int(np.argmax(self.by_group["count"].to_numpy()))]
        ref = self._group_position(reference)
        rows: list[dict[str, Any]] = []
        labels = list(self.by_group.index)
        for col in self._columns:
            if not METRIC_REGISTRY[col.metric].is_rate:
                continue
            x, n = effective_counts(table, col.metric, col.class_index)
            for g in range(table.n_groups):
                if g == ref:
                    continue
                stat, p, test = two_proportion_test(x[g], n[g], x[ref], n[ref])
                rows.append(
                    {
                        "metric": col.name,
                        "group": labels[g],
                        "reference": labels[ref],
                        "value": float(self.by_group[col.name].iloc[g]),
                        "reference_value": float(self.by_group[col.name].iloc[ref]),
                        "statistic": stat,
                        "p_value": p,
                        "test": test,
                    }
                )
        columns = [
            "metric",
            "group",
            "reference",
            "value",
            "reference_value",
            "statistic",
            "p_value",
            "p_value_adjusted",
            "test",
        ]
        out = pd.DataFrame(rows, columns=[c for c in columns if c != "p_value_adjusted"])
        out["p_value_adjusted"] = benjamini_hochberg(out["p_value"].to_numpy(dtype=float))
        return out[columns]

    def marginal(self, feature: str) -> GroupMetrics:
        """Re-aggregate the count table over one sensitive column (no pass over the data).

        Parameters
        ----------
        feature : str
            One of ``sensitive_feature_names``.

        Returns
        -------
        GroupMetrics
            Same metrics, intervals (re-drawn with the same ``random_state``) and options.
        """
        table = self._require_table()
        if feature not in self.sensitive_feature_names:
            raise DataError(
                f"feature={feature!r} is not a sensitive feature; choose one of "
                f"{list(self.sensitive_feature_names)}."
            )
        j = self.sensitive_feature_names.index(feature)
        codes = table.feature_codes[:, j]
        used = np.unique(codes)
        mapping = np.searchsorted(used, codes)
        levels = table.feature_levels[j]
        index = pd.Index(levels.take(used), dtype=object, name=feature)
        new_table = table.regroup(
            mapping, index, used.reshape(-1, 1), (levels,), feature_names=(feature,)
        )
        reference = self.reference_group
        if reference is not None and reference not in set(index):
            reference = None
        return _build(
            new_table,
            list(self._columns),
            pos_label=self.pos_label,
            n_boot=self.n_boot,
            confidence=self.confidence,
            random_state=self.random_state,
            reference_group=reference,
            min_group_size=self.min_group_size,
            ci_method=self.ci_method,
            provenance={**self.provenance, "marginal_of": list(self.sensitive_feature_names)},
            stratify=self.provenance.get("parameters", {}).get("stratify", True),
        )

    def counts(self) -> pd.DataFrame:
        """Return the count table behind every value: weighted cells per group.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``by_group``. Binary: columns ``tn``, ``fp``, ``fn``, ``tp``
            (weighted counts; cell = (y_true == pos_label, y_pred == pos_label)) and ``rows``
            (unweighted). Multiclass: one column ``"true -> pred"`` per pair of classes, plus
            ``rows``. Regression: ``weight``, ``sum_prediction``, ``sum_error``,
            ``sum_absolute_error``, ``sum_squared_error`` (weighted sums, error =
            y_pred - y_true), plus ``rows``.

        Examples
        --------
        >>> import fairaudit as fa
        >>> gm = fa.group_metrics([1, 0, 1, 1], [1, 1, 0, 1], sensitive_features=list("aabb"),
        ...                       metrics=["accuracy"], min_group_size=1)
        >>> gm.counts()
                              tn   fp   fn   tp  rows
        sensitive_feature_0
        a                    0.0  1.0  0.0  1.0     2
        b                    0.0  0.0  1.0  1.0     2
        """
        table = self._require_table()
        if table.task == "multiclass":
            assert table.classes is not None
            names = [f"{t} -> {p}" for t in table.classes for p in table.classes]
        elif table.task == "regression":
            names = [
                "weight",
                "sum_prediction",
                "sum_error",
                "sum_absolute_error",
                "sum_squared_error",
            ]
        else:
            names = ["tn", "fp", "fn", "tp"]
        out = pd.DataFrame(
            table.cells.reshape(table.n_groups, -1), index=self.by_group.index.copy(), columns=names
        )
        out["rows"] = table.group_rows
        return out

    def _require_table(self) -> CountTable:
        if self._table is None:
            raise DataError("this GroupMetrics holds no count table (it was built by hand).")
        return self._table

    # -- output ------------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per group and metric.

        Returns
        -------
        pandas.DataFrame
            Columns: one per sensitive feature (the group's label on it), ``metric``,
            ``value``, ``lower``, ``upper`` (NaN without intervals), ``count`` (rows in the
            group).
        """
        names = list(self.sensitive_feature_names)
        groups = self.by_group.index.to_frame(index=False)
        groups.columns = names
        n_groups = len(groups)
        parts = []
        for metric in self.metrics:
            part = groups.copy()
            part["metric"] = metric
            part["value"] = self.by_group[metric].to_numpy(dtype=float)
            if self.ci is not None:
                part["lower"] = self.ci[(metric, "lower")].to_numpy(dtype=float)
                part["upper"] = self.ci[(metric, "upper")].to_numpy(dtype=float)
            else:
                part["lower"] = np.full(n_groups, np.nan)
                part["upper"] = np.full(n_groups, np.nan)
            part["count"] = self.by_group["count"].to_numpy()
            parts.append(part)
        if not parts:
            return pd.DataFrame(columns=[*names, "metric", "value", "lower", "upper", "count"])
        return pd.concat(parts, ignore_index=True)

    def _title(self) -> str:
        return "Group metrics by " + ", ".join(self.sensitive_feature_names)

    def _summary(self) -> list[str]:
        # Model disparities first, worst ratio first; the base rate describes the data, not the
        # model, so it comes after them and says so.
        lines: list[tuple[bool, float, str]] = []
        ratios = self.disparities()
        between = ratios[(ratios["compare"] == "ratio") & (ratios["method"] == "between_groups")]
        labels = [_label_text(g) for g in self.by_group.index]
        for metric in self.metrics:
            values = self.by_group[metric].to_numpy(dtype=float)
            if np.isfinite(values).sum() < 2:
                continue
            lo_i, hi_i = int(np.nanargmin(values)), int(np.nanargmax(values))
            base = METRIC_REGISTRY.get(metric.split("[")[0])
            label = base.label if base is not None else metric
            text = (
                f"{label}: {labels[lo_i]} {values[lo_i]:.3g} vs {labels[hi_i]} {values[hi_i]:.3g}"
            )
            row = between[between["metric"] == metric]
            ratio = float(row["value"].iloc[0]) if len(row) else np.nan
            if np.isfinite(ratio):
                extra = f"ratio {ratio:.2f}"
                lo, hi = float(row["lower"].iloc[0]), float(row["upper"].iloc[0])
                if np.isfinite(lo):
                    extra += f", {self.confidence:.0%} CI {lo:.2f}-{hi:.2f}"
                text += f" ({extra})"
            else:
                diff = values[hi_i] - values[lo_i]
                text += f" (difference {diff:.3g})"
            data_only = metric == "base_rate"
            if data_only:
                text += " - a property of the data, not of the model"
            lines.append((data_only, ratio if np.isfinite(ratio) else 1.0, text))
        lines.sort(key=lambda t: (t[0], t[1]))
        small = self.by_group.index[self.by_group["count"].to_numpy() < self.min_group_size]
        out = [t for _, _, t in lines]
        if len(small):
            out.append(
                f"{len(small)} group(s) have fewer than {self.min_group_size} rows: "
                f"{format_values([_label_text(g) for g in small])}; their estimates are unreliable."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dictionary (the contract's common keys plus group-metric fields).

        Returns
        -------
        dict
            ``kind`` ("group_metrics"), ``schema_version`` (1), ``title``, ``summary``
            (findings, most disparate first), ``parameters``, ``table`` (records of
            ``to_frame()``), ``sensitive_features``, ``metrics``, ``overall``
            ({metric: value}), ``groups`` ([{"group": {feature: label}, "count", "values",
            "lower", "upper"}]), ``disparities`` (records of ``disparities()``),
            ``metric_info`` ({metric: {"label", "description", "ideal", "direction", ...}}),
            ``provenance``.
        """
        groups = []
        names = list(self.sensitive_feature_names)
        for pos, label in enumerate(self.by_group.index):
            values = label if isinstance(label, tuple) else (label,)
            entry: dict[str, Any] = {
                "group": dict(zip(names, values, strict=True)),
                "count": int(self.by_group["count"].iloc[pos]),
                "values": {m: self.by_group[m].iloc[pos] for m in self.metrics},
                "lower": None,
                "upper": None,
            }
            if self.ci is not None:
                entry["lower"] = {m: self.ci[(m, "lower")].iloc[pos] for m in self.metrics}
                entry["upper"] = {m: self.ci[(m, "upper")].iloc[pos] for m in self.metrics}
            groups.append(entry)
        info: dict[str, Any] = {}
        for m in self.metrics:
            base = m.split("[")[0]
            info[m] = METRIC_REGISTRY[base].to_dict() if base in METRIC_REGISTRY else {}
        if self._has_eo():
            info[EQUALIZED_ODDS] = dict(EQUALIZED_ODDS_INFO)
        return json_safe(
            {
                "kind": "group_metrics",
                "schema_version": 1,
                "title": self._title(),
                "summary": self._summary(),
                "parameters": self.provenance.get("parameters", {}),
                "table": self.to_frame().to_dict(orient="records"),
                "sensitive_features": names,
                "metrics": list(self.metrics),
                "overall": {m: self.overall[m] for m in [*self.metrics, "count"]},
                "groups": groups,
                "disparities": self.disparities().to_dict(orient="records"),
                "metric_info": info,
                "provenance": self.provenance,
            }
        )

    def plot(self, metric: str | None = None, *, ax: Any = None) -> Any:
        """Bar per group for one metric, with interval whiskers and the overall value.

        Parameters
        ----------
        metric : str, optional
            Column of ``by_group``; defaults to the first metric.
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        matplotlib.axes.Axes
            The Axes drawn on.
        """
        metric = self.metrics[0] if metric is None else metric
        if metric not in self.metrics:
            raise ValueError(
                f"metric={metric!r} was not computed; choose one of {list(self.metrics)}."
            )
        ax = get_axes(ax)
        values = self.by_group[metric].to_numpy(dtype=float)
        labels = [_label_text(g) for g in self.by_group.index]
        x = np.arange(len(values))
        yerr = None
        if self.ci is not None:
            lo = self.ci[(metric, "lower")].to_numpy(dtype=float)
            hi = self.ci[(metric, "upper")].to_numpy(dtype=float)
            yerr = np.vstack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)])
            yerr = np.nan_to_num(yerr)
        ax.bar(x, np.nan_to_num(values), yerr=yerr, capsize=3, color="#4C72B0")
        ax.axhline(
            float(self.overall[metric]), color="0.3", linestyle="--", linewidth=1, label="overall"
        )
        ax.set_xticks(x)
        ax.set_xticklabels(
            labels,
            rotation=45 if len(labels) > 4 else 0,
            ha="right" if len(labels) > 4 else "center",
        )
        base = METRIC_REGISTRY.get(metric.split("[")[0])
        ax.set_ylabel(base.label if base is not None else metric)
        title = self._title()
        if self.ci is not None:
            title += f" ({self.confidence:.0%} {self.ci_method} intervals)"
        ax.set_title(title)
        ax.legend(loc="best")
        return ax

    def _repr_html_(self) -> str:
        from html import escape

        table = self.by_group.to_html(float_format=lambda v: f"{v:.4g}", max_rows=60)
        summary = "".join(f"<li>{escape(s)}</li>" for s in self._summary()[:5])
        return f"<div><strong>{escape(self._title())}</strong><ul>{summary}</ul>{table}</div>"


def _label_text(label: Any) -> str:
    if isinstance(label, tuple):
        return " & ".join(str(v) for v in label)
    return str(label)


# ---------------------------------------------------------------------------------------------


def _resolve_columns(
    metrics: Any, task: str, has_scores: bool, classes: list[Any] | None, scores_01: bool
) -> list[Column]:
    if metrics is None:
        names = list(DEFAULT_METRICS["regression" if task == "regression" else "binary"])
        if has_scores:
            names += ["roc_auc"] + (["brier_score", "calibration_error"] if scores_01 else [])
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        names = list(metrics)
        if not names:
            raise DataError("metrics is empty; pass None for the defaults or a list of names.")
    defs = [get_metric(n) for n in names]
    if len(set(names)) != len(names):
        raise DataError(f"metrics has duplicates: {names}.")
    names = [n for n in names if n != "count"]  # "count" is always a column
    for d in defs:
        if d.name == "count":
            continue
        if task == "regression" and d.task != "regression":
            raise DataError(
                f"metric {d.name!r} needs class labels, but the predictions are continuous "
                "(regression); choose from mean_prediction, mean_error, mean_absolute_error, "
                "root_mean_squared_error."
            )
        if task != "regression" and d.task == "regression":
            raise DataError(
                f"metric {d.name!r} is a regression metric, but the predictions are class "
                "labels; pass task='regression' if they are numbers."
            )
        if d.task == "score" and not has_scores:
            raise DataError(f"metric {d.name!r} needs y_score; pass the model's scores.")
        if d.task == "score" and task == "multiclass":
            raise DataError(f"metric {d.name!r} is only available for binary labels.")
        if d.name in ("brier_score", "calibration_error") and not scores_01:
            raise DataError(
                f"metric {d.name!r} needs y_score to be probabilities in [0, 1]; "
                "pass predict_proba scores, or ask for roc_auc only."
            )
    if task == "multiclass":
        assert classes is not None
        return [Column(f"{n}[{c}]", n, k) for n in names for k, c in enumerate(classes)]
    return [Column(n, n) for n in names]


def _warn_undefined(values: np.ndarray, columns: list[Column], index: pd.Index) -> None:
    for j, col in enumerate(columns):
        bad = np.flatnonzero(np.isnan(values[:, j]))
        if bad.size:
            labels = [_label_text(index[b]) for b in bad[:6]]
            warnings.warn(
                f"{col.name} is undefined (zero denominator) for {bad.size} group(s) "
                f"{format_values(labels + [''] * (bad.size - len(labels)))}; its value there "
                "is NaN.",
                UndefinedMetricWarning,
                stacklevel=4,
            )


def _build(
    table: CountTable,
    columns: list[Column],
    *,
    pos_label: Any,
    n_boot: int,
    confidence: float,
    random_state: Any,
    reference_group: Any,
    min_group_size: int,
    ci_method: str | None,
    provenance: dict[str, Any],
    stratify: bool,
) -> GroupMetrics:
    names = [c.name for c in columns]
    values = table_values(table, columns)
    pooled = table.pooled()
    overall_values = table_values(pooled, columns)[0]
    rows = table.group_rows
    by_group = pd.DataFrame(values, index=table.index.copy(), columns=names)
    by_group["count"] = rows
    overall = pd.Series([*overall_values, int(rows.sum())], index=[*names, "count"], dtype=object)
    overall = overall.astype(float)
    small = np.flatnonzero(rows < min_group_size)
    if small.size:
        shown = [f"{_label_text(table.index[i])} ({rows[i]})" for i in small[:6]]
        warnings.warn(
            f"{small.size} group(s) have fewer than min_group_size={min_group_size} rows: "
            f"{format_values(shown + [''] * (small.size - len(shown)))}; their estimates "
            "and intervals are unreliable (merge groups, or lower min_group_size to silence).",
            SmallGroupWarning,
            stacklevel=3,
        )
    _warn_undefined(values, columns, table.index)
    if table.n_groups < 2:
        warnings.warn(
            "there is a single group; per-group values are reported, but differences and "
            "ratios between groups are undefined (NaN).",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    replicates = None
    ci = None
    if ci_method == "bootstrap":
        rng = as_generator(random_state)
        replicates = bootstrap(table, pooled, columns, n_boot=n_boot, rng=rng, stratify=stratify)
        lower, upper = percentile_interval(replicates.groups, confidence)
        ci = _ci_frame(by_group.index, names, lower, upper)
        if replicates.notes:
            provenance = {**provenance, "notes": list(replicates.notes)}
    elif ci_method == "wilson":
        lower = np.full(values.shape, np.nan)
        upper = np.full(values.shape, np.nan)
        for j, col in enumerate(columns):
            if METRIC_REGISTRY[col.metric].is_rate:
                x, n = effective_counts(table, col.metric, col.class_index)
                lower[:, j], upper[:, j] = wilson_interval(x, n, confidence)
        ci = _ci_frame(by_group.index, names, lower, upper)
    return GroupMetrics(
        by_group=by_group,
        overall=overall,
        ci=ci,
        metrics=tuple(names),
        sensitive_feature_names=table.feature_names,
        pos_label=pos_label,
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state if isinstance(random_state, int | None) else None,
        reference_group=reference_group,
        min_group_size=min_group_size,
        provenance=provenance,
        ci_method=ci_method,
        task=table.task,
        _table=table,
        _columns=tuple(columns),
        _replicates=replicates,
    )


def _ci_frame(
    index: pd.Index, names: list[str], lower: np.ndarray, upper: np.ndarray
) -> pd.DataFrame:
    m = len(names)
    data = np.empty((lower.shape[0], 2 * m))
    data[:, 0::2] = lower
    data[:, 1::2] = upper
    columns = pd.MultiIndex(
        levels=[pd.Index(names, dtype=object), pd.Index(["lower", "upper"], dtype=object)],  # type: ignore[list-item]
        codes=[list(np.repeat(np.arange(m), 2)), [0, 1] * m],
        names=["metric", "bound"],
    )
    return pd.DataFrame(data, index=index.copy(), columns=columns)


def _sha256(values: Any) -> str:
    """SHA-256 of an array's canonical bytes: dtype name, then values (text for objects)."""
    arr = np.asarray(values)
    digest = hashlib.sha256()
    if arr.dtype.kind in "biuf":
        arr = np.ascontiguousarray(arr)
        digest.update(arr.dtype.str.encode())
        digest.update(arr.tobytes())
    else:
        digest.update(b"text")
        digest.update("\x1f".join(map(str, arr.tolist())).encode("utf-8"))
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    import scipy

    import fairaudit

    return {
        "fairaudit": fairaudit.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
    }


def _infer_task(
    y_true: np.ndarray, y_pred: np.ndarray, metrics: Any, pos_label: Any, task: str
) -> str:
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
            return "regression"  # whole-number values, but more than two: not labels
    return "multiclass" if pos_label is None else "binary"


def group_metrics(
    y_true: Any,
    y_pred: Any = None,
    *,
    sensitive_features: Any = None,
    y_score: Any = None,
    metrics: list[str] | str | None = None,
    sample_weight: Any = None,
    pos_label: Any = 1,
    n_boot: int = 0,
    confidence: float = 0.95,
    ci_method: Literal["bootstrap", "wilson"] | None = None,
    stratify: bool = True,
    reference_group: Any = None,
    min_group_size: int = 30,
    missing_groups: Literal["error", "separate"] = "error",
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto",
    fingerprint: bool = False,
    random_state: int | np.random.Generator | None = None,
    data: Any = None,
    engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto",
    memory_limit: str | None = None,
    threads: int | None = None,
    progress: bool | None = None,
) -> GroupMetrics:
    """Compute metrics per group from one pass over the data, with intervals and tests.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (or values, for regression). Lists, numpy arrays, pandas Series
        (categorical, nullable Int64/boolean/string), polars and pyarrow arrays.
    y_pred : array-like of shape (n_samples,)
        Predicted labels (or values).
    sensitive_features : array-like of shape (n_samples,) or (n_samples, n_features)
        Group membership: a 1-D array-like, a DataFrame (several columns give intersectional
        groups), a dict of columns, or a 2-D array. Column names become the index names.
    y_score : array-like of shape (n_samples,), optional
        Score of the positive class, for ``roc_auc``, ``brier_score`` (probabilities) and
        ``calibration_error`` (probabilities).
    metrics : list of str, optional
        Names from :data:`fairaudit.metrics.METRIC_REGISTRY`. Default: the eight main binary
        rates (plus score metrics when ``y_score`` is given), or the regression metrics.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative, finite weights. Metrics use weighted counts; ``count`` stays the number of
        rows.
    pos_label : object, default 1
        The positive label. ``None`` computes one-vs-rest metrics for every class
        (multiclass); columns are then named ``"metric[class]"``.
    n_boot : int, default 0
        Bootstrap replicates. With ``n_boot > 0`` and ``ci_method=None``, intervals are
        bootstrap intervals.
    confidence : float, default 0.95
        Confidence level of the intervals.
    ci_method : {"bootstrap", "wilson"}, optional
        ``"wilson"``: analytic Wilson intervals for rate metrics (NaN for the others).
    stratify : bool, default True
        Resample within each group (group sizes fixed), or the whole table.
    reference_group : label, optional
        Default reference for ``difference``/``ratio``/``disparities``/``tests``; a tuple of
        labels for intersectional groups. Must be an observed group.
    min_group_size : int, default 30
        Groups with fewer rows raise a ``SmallGroupWarning``.
    missing_groups : {"error", "separate"}, default "error"
        Missing sensitive values are refused, or made an explicit ``"missing"`` group.
    task : {"auto", "binary", "multiclass", "regression"}, default "auto"
        Inferred: regression when a regression metric is asked for, or when ``y_pred`` is
        float with non-integer values (or, with ``metrics=None``, more than two distinct
        values); multiclass when ``pos_label=None``; binary otherwise.
    fingerprint : bool, default False
        Record SHA-256 digests of the inputs in ``provenance["fingerprints"]``.
    random_state : int, numpy.random.Generator or None
        Seed of the bootstrap.
    data : optional
        With ``data``, ``y_true``, ``y_pred``, ``y_score``, ``sample_weight`` and
        ``sensitive_features`` are column names in it: a pandas, polars or pyarrow table, a
        path, glob or list of Parquet/CSV files, a DuckDB relation or ``(connection, query)``,
        or a Spark DataFrame (see :func:`fairaudit.metrics.count_table` and
        ``docs/scale.md``). ``y_true`` may also be a :class:`fairaudit.metrics.CountTable`.
    engine, memory_limit, threads, progress
        Which engine scans ``data`` and its settings; see
        :func:`fairaudit.metrics.count_table`.

    Returns
    -------
    GroupMetrics
        See :class:`fairaudit.metrics.GroupMetrics`.

    Notes
    -----
    One ``np.bincount`` over ``4 * group + 2 * (y_true == pos_label) + (y_pred ==
    pos_label)`` gives every group's confusion cells; all metrics, intervals and tests derive
    from that table. The bootstrap draws each group's cells from a multinomial with the
    observed cell shares, which is the row bootstrap, at a cost independent of the number of
    rows. With sample weights, the unweighted counts are resampled and each resampled row
    carries its cell's mean weight: the variation of weights within a cell is not resampled.
    ROC AUC, Brier score and calibration error are computed exactly from the distinct
    (group, score) values; their bootstrap resamples those values (binned first when there are
    too many to resample within budget; ``provenance["notes"]`` says so). Regression metrics
    are bootstrapped by resampling rows within each group (groups of more than a budget of
    rows are cut into equal-size chunks of neighbouring values first).

    Examples
    --------
    >>> import fairaudit as fa
    >>> y_true = [0, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    >>> y_pred = [0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0]
    >>> sf = ['b', 'b', 'a', 'b', 'b', 'c', 'c', 'c', 'a',
    ...       'a', 'c', 'a', 'b', 'c', 'c', 'b', 'c', 'c']
    >>> gm = fa.group_metrics(y_true, y_pred, sensitive_features=sf,
    ...                       metrics=["selection_rate", "true_positive_rate"],
    ...                       min_group_size=1)
    >>> gm.by_group.round(3)
                         selection_rate  true_positive_rate  count
    sensitive_feature_0
    a                              0.75                 0.5      4
    b                              0.50                 0.6      6
    c                              0.50                 0.5      8
    >>> round(float(gm.difference()["selection_rate"]), 4)
    0.25
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise TypeError(f"n_boot must be a non-negative int, got {n_boot!r}.")
    if not (isinstance(confidence, float | int) and 0 < confidence < 1):
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}.")
    if ci_method is None:
        ci_method = "bootstrap" if n_boot > 0 else None
    if ci_method not in (None, "bootstrap", "wilson"):
        raise ValueError(f"ci_method must be 'bootstrap', 'wilson' or None, got {ci_method!r}.")
    if ci_method == "bootstrap" and n_boot < 1:
        raise ValueError("ci_method='bootstrap' needs n_boot > 0 (e.g. n_boot=1000).")
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer):
        raise TypeError(f"min_group_size must be an int, got {min_group_size!r}.")
    if random_state is not None:
        as_generator(random_state)  # type check now, not after the pass over the data
    if data is not None or isinstance(y_true, CountTable | str) or isinstance(y_pred, str):
        from fairaudit.metrics._count_table import group_metrics_from_source

        return group_metrics_from_source(
            y_true, y_pred, sensitive_features=sensitive_features, y_score=y_score,
            metrics=metrics, sample_weight=sample_weight, pos_label=pos_label, n_boot=n_boot,
            confidence=confidence, ci_method=ci_method, stratify=stratify,
            reference_group=reference_group, min_group_size=min_group_size,
            missing_groups=missing_groups, task=task, fingerprint=fingerprint,
            random_state=random_state, data=data, engine=engine, memory_limit=memory_limit,
            threads=threads, progress=progress,
        )  # fmt: skip
    if y_pred is None:
        raise TypeError("y_pred is required (or pass a CountTable as the first argument).")

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
        score = as_values(score_s, name="y_score").astype(np.float64)
    weight = _check_sample_weight(sample_weight, n)
    if reference_group is not None:
        pass  # validated on the built object (it needs the group labels)

    resolved = _infer_task(t_values, p_values, metrics, pos_label, task)
    classes: list[Any] | None = None
    reg_atoms = None
    codes = encoding.codes
    g = encoding.n_codes
    if resolved == "regression":
        for arr, name in ((t_values, "y_true"), (p_values, "y_pred")):
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"{name} must be numeric for regression metrics, got {arr.dtype}.")
        t_float, p_float = t_values.astype(np.float64), p_values.astype(np.float64)
        cells, cell_n, w2 = regression_sums(codes, t_float, p_float, weight, g)
        pos_label_out = None
    elif resolved == "multiclass":
        t_code, p_code, classes = multiclass_labels(t_values, p_values)
        cells, cell_n, w2 = multiclass_cells(codes, t_code, p_code, weight, g, len(classes))
        pos_label_out = None
    else:
        if pos_label is None:
            raise DataError("task='binary' needs a pos_label; pass the positive class.")
        t_pos, p_pos = binary_labels(t_values, p_values, pos_label=pos_label)
        cells, cell_n, w2 = binary_cells(codes, t_pos, p_pos, weight, g)
        pos_label_out = pos_label
    # drop the combinations of sensitive values that no row has
    rows = cell_n.reshape(g, -1).sum(axis=1)
    keep = np.flatnonzero(rows)
    lookup = np.full(g, -1, dtype=np.intp)
    lookup[keep] = np.arange(keep.size)
    if keep.size < g:
        cells, cell_n = cells[keep], cell_n[keep]
        w2 = None if w2 is None else w2[keep]
    index, feature_codes = encoding.labels(keep)
    if resolved == "regression" and ci_method == "bootstrap":
        per_group = max(_REGRESSION_BOOT_BUDGET // (int(n_boot) * keep.size), 50)
        reg_atoms = regression_atoms(codes, t_float, p_float, weight, g, per_group)
        for a in reg_atoms.values():
            a[:, 0] = lookup[a[:, 0].astype(np.intp)]
    atoms = None
    scores_01 = False
    if score is not None:
        if resolved != "binary":
            raise DataError(f"y_score is only supported for binary labels, not {resolved}.")
        atoms = ScoreAtoms.from_rows(codes, score, t_pos, weight, g)
        atoms = replace(atoms, group=lookup[atoms.group])
        scores_01 = bool(score.min() >= 0.0 and score.max() <= 1.0)
    columns = _resolve_columns(metrics, resolved, score is not None, classes, scores_01)

    table = CountTable(
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
    )
    parameters = {
        "metrics": [c.name for c in columns],
        "pos_label": pos_label_out,
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "ci_method": ci_method,
        "stratify": bool(stratify),
        "reference_group": reference_group,
        "min_group_size": int(min_group_size),
        "missing_groups": missing_groups,
        "task": resolved,
        "random_state": random_state if isinstance(random_state, int | None) else None,
        "weighted": weight is not None,
        "n_samples": int(n),
    }
    provenance: dict[str, Any] = {"parameters": parameters, "versions": _versions()}
    if fingerprint:
        provenance["fingerprints"] = _fingerprints(
            t_values, p_values, score, sensitive_features, encoding, weight
        )
    gm = _build(
        table,
        columns,
        pos_label=pos_label_out,
        n_boot=int(n_boot),
        confidence=float(confidence),
        random_state=random_state,
        reference_group=reference_group,
        min_group_size=int(min_group_size),
        ci_method=ci_method,
        provenance=provenance,
        stratify=stratify,
    )
    if reference_group is not None:
        gm._group_position(reference_group)
    return gm


def _fingerprints(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None,
    sensitive_features: Any,
    encoding: GroupEncoding,
    weight: np.ndarray | None,
) -> dict[str, Any]:
    del sensitive_features
    per_row = encoding.feature_codes_of(encoding.codes)
    per_feature = {
        name: _sha256(np.asarray(encoding.feature_levels[j], dtype=object).take(per_row[:, j]))
        for j, name in enumerate(encoding.feature_names)
    }
    return {
        "algorithm": "sha256",
        "y_true": _sha256(y_true),
        "y_pred": _sha256(y_pred),
        "y_score": None if y_score is None else _sha256(y_score),
        "sensitive_features": per_feature,
        "sample_weight": None if weight is None else _sha256(weight),
    }
