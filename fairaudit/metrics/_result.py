"""``GroupMetrics``: metrics per group with intervals, comparisons and tests (the result)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text
from fairaudit._validation import format_values
from fairaudit.exceptions import DataError
from fairaudit.metrics._aggregate import (
    COMPOSITES,
    EQUALIZED_ODDS,
    EQUALIZED_ODDS_INFO,
    aggregate,
    composites_of,
)
from fairaudit.metrics._assemble import _build
from fairaudit.metrics._assemble import _label_text as _label_text
from fairaudit.metrics._compute import Column
from fairaudit.metrics._counts import CountTable
from fairaudit.metrics._intervals import COVERAGE_NOTE, ENVELOPE, GroupIntervals
from fairaudit.metrics._registry import METRIC_REGISTRY
from fairaudit.metrics._uncertainty import (
    benjamini_hochberg,
    effective_counts,
    two_proportion_tests,
)

__all__ = ["GroupMetrics", "Method"]

# order of the headline findings: 0 selection and error rates (and regression errors),
# 1 ranking quality, 2 small probability-error metrics, 3 the data's base rate
_SUMMARY_TIER = {
    "roc_auc": 1,
    "brier_score": 2,
    "calibration_error": 2,
    "base_rate": 3,
    "count": 3,
}

Method = Literal["between_groups", "to_overall"]


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
        Groups with fewer rows raised a ``SmallGroupWarning`` and are left out of
        ``difference()``, ``ratio()``, ``disparities()`` and the summary unless
        ``include_small=True`` (``excluded_groups`` lists them).
    provenance : dict
        Parameters, library versions and, when ``fingerprint=True``, SHA-256 digests of the
        inputs (see :func:`group_metrics`).
    ci_method : {"bootstrap", "jeffreys", "wilson"} or None
        How ``ci`` was computed (``interval_methods`` says it per column).
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
    _intervals: GroupIntervals | None = field(default=None, repr=False, compare=False)

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

    def _subset(self, groups: Any, include_small: bool = False) -> np.ndarray:
        if groups is None:
            if include_small:
                return np.arange(len(self.by_group))
            return np.flatnonzero(self.by_group["count"].to_numpy() >= self.min_group_size)
        if isinstance(groups, str) or not hasattr(groups, "__iter__"):
            raise TypeError(f"groups must be a list of group labels, got {groups!r}.")
        groups = list(groups)
        if not groups:
            raise DataError(
                "groups is empty; pass at least two group labels, or None for every group "
                f"with at least min_group_size={self.min_group_size} rows."
            )
        return np.array([self._group_position(g, argument="groups") for g in groups])

    @property
    def excluded_groups(self) -> pd.DataFrame:
        """Groups left out of comparisons by default: fewer rows than ``min_group_size``.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``by_group``, one column ``count`` (rows in the group); empty when
            every group is large enough.

        Examples
        --------
        >>> import warnings
        >>> import fairaudit as fa
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")  # the SmallGroupWarning about group c
        ...     gm = fa.group_metrics([1, 0] * 5, [1, 1, 0, 0, 1] * 2,
        ...                           sensitive_features=list("aaaabbbbbc"),
        ...                           metrics=["selection_rate"], min_group_size=2)
        >>> gm.excluded_groups
                             count
        sensitive_feature_0
        c                        1
        >>> gm.difference().tolist() == gm.difference(include_small=False).tolist()
        True
        """
        small = self.by_group["count"].to_numpy() < self.min_group_size
        return self.by_group.loc[small, ["count"]].copy()

    @property
    def interval_methods(self) -> dict[str, str]:
        """How the interval of each column, and of each comparison, was computed.

        Returns
        -------
        dict
            ``{column: method}`` with methods ``"jeffreys"`` or ``"wilson"`` (rates, closed
            form), ``"bootstrap-percentile"`` (score and regression metrics) or ``"none"``,
            plus ``"comparisons": "bonferroni-envelope"``. Empty without intervals.
        """
        if self._intervals is None:
            return {}
        out = dict(zip(self.metrics, self._intervals.methods, strict=True))
        out["comparisons"] = ENVELOPE
        return out

    def _values(self) -> tuple[np.ndarray, np.ndarray]:
        cols = list(self.metrics)
        return self.by_group[cols].to_numpy(dtype=np.float64), self.overall[cols].to_numpy(
            dtype=np.float64
        )

    def _has_eo(self) -> bool:
        return EQUALIZED_ODDS in composites_of(self.metrics)

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
        return aggregate(self.metrics, compare, method, ref, subset, values, overall)

    def _names(self) -> list[str]:
        return [*self.metrics, *composites_of(self.metrics)]

    def _compare(
        self,
        compare: str,
        method: str,
        reference_group: Any,
        groups: Any = None,
        include_small: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, Any]:
        reference = self._resolve_reference(reference_group)
        if method not in ("between_groups", "to_overall"):
            raise ValueError(f"method must be 'between_groups' or 'to_overall', got {method!r}.")
        subset = self._subset(groups, include_small)
        ref = None
        if reference is not None:
            ref = self._group_position(reference)
            if ref not in subset:
                subset = np.append(subset, ref)
            method = "reference"
        values, overall = self._values()
        if subset.size == 0 or (ref is not None and subset.size < 2):
            # every group is below min_group_size, or nothing to compare with the reference
            nan = np.full(len(self._names()), np.nan)
            return nan, nan.copy(), nan.copy(), method, reference
        point = self._aggregate(compare, method, ref, subset, values, overall)
        lower = upper = np.full(point.shape, np.nan)
        if self._intervals is not None:
            pairs = [
                tuple(self.metrics.index(m) for m in COMPOSITES[name].parts)
                for name in composites_of(self.metrics)
            ]
            lower, upper = self._intervals.comparison(
                compare,
                method,
                ref,
                subset,
                values,
                overall,
                point,
                self.confidence,
                pairs,  # type: ignore[arg-type]
            )
        return point, lower, upper, method, reference

    # -- contract ----------------------------------------------------------------------------

    def difference(
        self,
        *,
        method: Method = "between_groups",
        reference_group: Any = None,
        include_small: bool = False,
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
        include_small : bool, default False
            Also compare the groups with fewer than ``min_group_size`` rows (left out by
            default; ``excluded_groups`` lists them).

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
        point, *_ = self._compare_raw("difference", method, reference_group, None, include_small)
        return pd.Series(point, index=pd.Index(self._names(), name="metric"), name="difference")

    def ratio(
        self,
        *,
        method: Method = "between_groups",
        reference_group: Any = None,
        include_small: bool = False,
    ) -> pd.Series:
        """Smallest ratio per metric: min / max, min(g/o, o/g), or min group / reference.

        Parameters
        ----------
        method : {"between_groups", "to_overall"}, default "between_groups"
            ``"between_groups"``: min / max over groups; ``"to_overall"``: the smallest of
            min(group / overall, overall / group).
        reference_group : label, optional
            When given, the smallest group / reference over the other groups (this one may
            exceed 1).
        include_small : bool, default False
            Also compare the groups with fewer than ``min_group_size`` rows.

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
        point, *_ = self._compare_raw("ratio", method, reference_group, None, include_small)
        return pd.Series(point, index=pd.Index(self._names(), name="metric"), name="ratio")

    def disparities(
        self, *, reference_group: Any = None, groups: Any = None, include_small: bool = False
    ) -> pd.DataFrame:
        """Every difference and ratio in one long table, with intervals.

        Parameters
        ----------
        reference_group : label, optional
            Adds rows comparing every group with this one (method ``"reference"``); defaults to
            the object's ``reference_group``.
        groups : list of labels, optional
            Restrict the comparison to these groups (used as given); the overall value stays
            the one of all rows. Default: every group with at least ``min_group_size`` rows.
        include_small : bool, default False
            With ``groups=None``, also compare the groups below ``min_group_size``.

        Returns
        -------
        pandas.DataFrame
            Columns ``metric``, ``compare`` ("difference" or "ratio"), ``method``
            ("between_groups", "to_overall" or "reference"), ``reference`` (the reference
            label or None), ``value``, ``lower``, ``upper`` (NaN without intervals),
            ``interval_method`` (``"bonferroni-envelope"``, or None without intervals).

        Notes
        -----
        The interval of a comparison is a *Bonferroni envelope*: each of the k values that
        take part (the groups, plus the overall value for ``"to_overall"``; both rates of
        every group for equalized odds) gets its interval at level ``1 - (1 - confidence) /
        k``, and the comparison's interval is its range over that box of values. It covers
        the true comparison at least as often as the box covers the true values, also when
        every group is equal (where the percentile bootstrap of max - min almost never
        covers 0); it is conservative, the more so the more groups. Measured coverage:
        ``docs/group_metrics.md``.

        Examples
        --------
        >>> import fairaudit as fa
        >>> gm = fa.group_metrics([1, 0] * 40, [1, 0, 0, 0] * 20,
        ...                       sensitive_features=["a"] * 40 + ["b"] * 40,
        ...                       metrics=["selection_rate"], ci_method="jeffreys")
        >>> d = gm.disparities()
        >>> row = d.iloc[0]
        >>> row["metric"], row["compare"], float(row["value"]), row["interval_method"]
        ('selection_rate', 'difference', 0.0, 'bonferroni-envelope')
        """
        reference = self._resolve_reference(reference_group)
        rows: list[dict[str, Any]] = []
        for compare in ("difference", "ratio"):
            plans: list[tuple[str, Any]] = [("between_groups", None), ("to_overall", None)]
            if reference is not None:
                plans.append(("reference", reference))
            for method, ref in plans:
                m = "between_groups" if method == "reference" else method
                point, lower, upper, _, _ = self._compare_raw(
                    compare, m, ref, groups, include_small
                )
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
                            "interval_method": None if self._intervals is None else ENVELOPE,
                        }
                    )
        out = pd.DataFrame(
            rows,
            columns=[
                "metric",
                "compare",
                "method",
                "reference",
                "value",
                "lower",
                "upper",
                "interval_method",
            ],
        )
        # object dtype, so that "no reference" stays None (a string column would make it NaN)
        out["reference"] = pd.Series([r["reference"] for r in rows], dtype=object)
        return out

    def _compare_raw(
        self, compare: str, method: str, ref_label: Any, groups: Any, include_small: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, Any]:
        # like _compare, but with an explicit reference (None means no reference at all)
        obj = replace(self, reference_group=None) if ref_label is None else self
        return obj._compare(compare, method, ref_label, groups, include_small)

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
        labels = np.empty(table.n_groups, dtype=object)
        labels[:] = list(self.by_group.index)
        others = np.delete(np.arange(table.n_groups), ref)
        parts: list[pd.DataFrame] = []
        for col in self._columns:
            if not METRIC_REGISTRY[col.metric].is_rate:
                continue
            x, n = effective_counts(table, col.metric, col.class_index)
            stat, p, test = two_proportion_tests(
                x[others], n[others], np.full(others.size, x[ref]), np.full(others.size, n[ref])
            )
            values = self.by_group[col.name].to_numpy(dtype=float)
            parts.append(
                pd.DataFrame(
                    {
                        "metric": col.name,
                        "group": labels[others],
                        "reference": [labels[ref]] * others.size,
                        "value": values[others],
                        "reference_value": values[ref],
                        "statistic": stat,
                        "p_value": p,
                        "test": test,
                    }
                )
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
        if parts:
            out = pd.concat(parts, ignore_index=True)
        else:
            out = pd.DataFrame(columns=[c for c in columns if c != "p_value_adjusted"])
        out["reference"] = out["reference"].astype(object)
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
        fields = _build(
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
        return GroupMetrics(**fields)

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
            ``value``, ``lower``, ``upper`` (NaN without intervals), ``interval_method``
            (``"jeffreys"``, ``"wilson"``, ``"bootstrap-percentile"``, ``"none"``, or None
            without intervals), ``count`` (rows in the group).
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
            part["interval_method"] = self.interval_methods.get(metric)
            part["count"] = self.by_group["count"].to_numpy()
            parts.append(part)
        if not parts:
            return pd.DataFrame(
                columns=[*names, "metric", "value", "lower", "upper", "interval_method", "count"]
            )
        return pd.concat(parts, ignore_index=True)

    def _title(self) -> str:
        return "Group metrics by " + ", ".join(self.sensitive_feature_names)

    def _summary(self) -> list[str]:
        # Headline findings, most important first: gaps in selection and error rates (and
        # regression errors) between groups with enough rows, ranked by how large the gap
        # surely is (the lower bound of its interval, else the gap itself); then ranking
        # quality (ROC AUC); then Brier score and calibration error, whose small values and
        # ratios say little (a Brier ratio mostly reflects base rates); the base rate last, as
        # a property of the data. Ratios are shown for rates, never used to rank.
        supported = self._subset(None)
        labels = [_label_text(g) for g in self.by_group.index]
        table = (
            self.disparities(groups=list(self.by_group.index[supported]))
            if (supported.size >= 2)
            else None
        )
        lines: list[tuple[int, float, str]] = []
        for metric in self.metrics:
            values = self.by_group[metric].to_numpy(dtype=float)[supported]
            if table is None or np.isfinite(values).sum() < 2:
                continue
            base = METRIC_REGISTRY.get(metric.split("[")[0])
            name = base.name if base is not None else metric
            label = base.label if base is not None else metric
            tier = _SUMMARY_TIER.get(name, 0)
            lo_i, hi_i = int(np.nanargmin(values)), int(np.nanargmax(values))
            lo_label, hi_label = labels[supported[lo_i]], labels[supported[hi_i]]
            rows = table[(table["metric"] == metric) & (table["method"] == "between_groups")]
            diff = rows[rows["compare"] == "difference"].iloc[0]
            ratio = rows[rows["compare"] == "ratio"].iloc[0]
            gap = float(diff["value"])
            text = f"{label}: {lo_label} {values[lo_i]:.3g} vs {hi_label} {values[hi_i]:.3g}"
            extra = f"difference {gap:.3g}"
            sure = gap
            if np.isfinite(diff["lower"]):
                extra += f", {self.confidence:.0%} CI {diff['lower']:.3g}-{diff['upper']:.3g}"
                sure = float(diff["lower"])
            if tier == 0 and base is not None and base.is_rate and np.isfinite(ratio["value"]):
                extra += f"; ratio {ratio['value']:.2f}"
            text += f" ({extra})"
            if name in ("brier_score", "calibration_error"):
                text += " - small values; depends on each group's base rate and score spread"
            if name == "base_rate":
                text += " - a property of the data, not of the model"
            lines.append((tier, -sure, text))
        lines.sort(key=lambda t: (t[0], t[1]))
        out = [t for _, _, t in lines]
        single = self._single_class_note()
        if single:
            out.insert(0, single)
        excluded = self.excluded_groups
        if len(excluded):
            shown = [f"{_label_text(g)} ({int(c)})" for g, c in excluded["count"].items()]
            out.append(
                f"{len(excluded)} group(s) have fewer than {self.min_group_size} rows and are "
                f"left out of the comparisons: {format_values(shown)}."
            )
        return out

    def _single_class_note(self) -> str | None:
        """One sentence when every true label is the same class (binary task)."""
        table = self._table
        if table is None or self.task != "binary":
            return None
        cells = table.cell_n.reshape(table.n_groups, -1)  # per group: TN, FP, FN, TP
        positives = int(cells[:, 2:].sum())
        negatives = int(cells[:, :2].sum())
        if positives and negatives:
            return None
        which = "positive" if positives else "negative"
        undefined = "negatives" if positives else "positives"
        return (
            f"Every true label is {which} (pos_label={self.pos_label!r}): rates among actual "
            f"{undefined} are undefined, and the others compare only how often each group's "
            "predictions agree with that single class."
        )

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
            ``interval_methods`` (see the property), ``interval_coverage`` (what simulations
            measured of the comparison intervals; None without intervals),
            ``excluded_groups`` ([{"group": {feature: label}, "count"}]: below
            ``min_group_size``, left out of comparisons and the summary), ``provenance``.
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
                "interval_methods": self.interval_methods,
                "interval_coverage": None if self._intervals is None else COVERAGE_NOTE,
                "excluded_groups": [
                    {
                        "group": dict(zip(names, g if isinstance(g, tuple) else (g,), strict=True)),
                        "count": int(c),
                    }
                    for g, c in self.excluded_groups["count"].items()
                ],
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
        labels = [plot_text(_label_text(g)) for g in self.by_group.index]
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
        ax.set_ylabel(plot_text(base.label if base is not None else metric))
        title = plot_text(self._title())
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
