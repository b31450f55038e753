"""Bias in the data before any model: SageMaker Clarify's pre-training measures, with intervals.

One pass counts the rows of each (group, stratum, label) cell. Every measure compares a
group's label distribution with a comparator's (the rest of the data, or a named reference
group) and is a function of that small table; so is every bootstrap replicate, drawn as a
multinomial over the cells (rows resampled jointly, not per group, so that group sizes vary
as they do between samples: class imbalance needs it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._provenance import core_versions, sha256_array
from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import (
    _from_foreign,
    align_on_index,
    as_generator,
    check_consistent_length,
    check_sample_weight,
    format_values,
)
from fairaudit.exceptions import DataError, SmallGroupWarning, UndefinedMetricWarning
from fairaudit.metrics._bias_measures import BIAS_MEASURES, resolve_measure
from fairaudit.metrics._encode import as_values, encode_groups

__all__ = [
    "ConditionalDemographicDisparity",
    "DataBias",
    "conditional_demographic_disparity",
    "data_bias",
]

_LABEL_MEASURES = (
    "class_imbalance",
    "label_proportion_difference",
    "kl_divergence",
    "js_divergence",
    "lp_norm",
    "total_variation_distance",
    "ks_distance",
)
_CDD = "conditional_demographic_disparity"
_NEEDS_POSITIVE = ("label_proportion_difference", _CDD)
REST = "rest"
_COLUMNS = ["sensitive_feature", "group", "reference", "measure", "value", "lower", "upper"]
# bootstrap replicates x cells drawn at once
_CHUNK_CELLS = 4_000_000
_MAX_BOOT = 100_000
_BIG = 1e300  # stands for +inf inside quantiles (inf - inf would give NaN)


# ----------------------------------------------------------------------------- inputs


def _columns_from_data(data: Any, **columns: Any) -> dict[str, Any]:
    """Look up the named columns of ``data`` (pandas, polars or pyarrow table)."""
    frame = _from_foreign(data)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"data must be a pandas, polars or pyarrow table when given, got {type(data).__name__}."
        )
    out: dict[str, Any] = {}
    for arg, names in columns.items():
        if names is None:
            out[arg] = None
            continue
        many = isinstance(names, list | tuple)
        wanted = list(names) if many else [names]
        for name in wanted:
            if not isinstance(name, str):
                raise TypeError(
                    f"with data= given, {arg} must name columns of data (str), got "
                    f"{type(name).__name__}; pass the column name, or leave data=None to pass "
                    "arrays."
                )
            if name not in frame.columns:
                import difflib

                close = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=3)
                hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                raise DataError(
                    f"{arg}={name!r} is not a column of data.{hint} Columns: "
                    f"{format_values([str(c) for c in frame.columns])}."
                )
        out[arg] = frame[wanted] if many else frame[names]
    return out


def _in_memory(data: Any) -> bool:
    module = type(data).__module__
    return module.startswith(("pandas", "polars", "pyarrow"))


def _aggregate_source(
    data: Any,
    *,
    y: Any,
    y_name: str,
    sensitive: Any,
    strata: Any,
    weight: Any,
    memory_limit: str | None,
    threads: int | None,
) -> tuple[Any, Any, Any, Any, np.ndarray]:
    """Count rows per (label, groups, strata) in DuckDB: files, globs, relations, queries.

    Only the aggregated rows come back (one per distinct combination), each with its number
    of samples and, with weights, its sum of weights.
    """
    from fairaudit.metrics._engines._duckdb import open_source, q

    def names(value: Any, arg: str, *, many: bool) -> list[str]:
        if value is None:
            return []
        items = list(value) if many and isinstance(value, list | tuple) else [value]
        for item in items:
            if not isinstance(item, str):
                raise TypeError(
                    f"with data= given, {arg} must name columns of data (str), got "
                    f"{type(item).__name__}; pass the column name, or leave data=None to pass "
                    "arrays."
                )
        return items

    y_col = names(y, y_name, many=False)[0] if y is not None else None
    if y_col is None:
        raise TypeError(f"{y_name} is required: the name of the label column of data.")
    s_cols = names(sensitive, "sensitive_features", many=True)
    t_cols = names(strata, "strata", many=True)
    w_cols = names(weight, "sample_weight", many=False)
    if not s_cols:
        raise TypeError("sensitive_features must name at least one column of data.")
    with open_source(
        data, None, memory_limit=memory_limit, threads=threads, varchar=[*s_cols, *t_cols]
    ) as (_, rel, described, _files):
        available = [str(c) for c in rel.columns]
        for arg, cols in (
            (y_name, [y_col]),
            ("sensitive_features", s_cols),
            ("strata", t_cols),
            ("sample_weight", w_cols),
        ):
            for c in cols:
                if c not in available:
                    import difflib

                    close = difflib.get_close_matches(c, available, n=3)
                    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
                    raise DataError(
                        f"{arg}={c!r} is not a column of {described}.{hint} Columns: "
                        f"{format_values(available)}."
                    )
        keys = list(dict.fromkeys([y_col, *s_cols, *t_cols]))
        key_sql = ", ".join(q(k) for k in keys)
        w_sql = ""
        if w_cols:
            w = q(w_cols[0])
            w_sql = (
                f", sum({w}) AS __w, min({w}) AS __wmin, "
                f"count(*) FILTER (WHERE {w} IS NULL) AS __wnull"
            )
        agg = rel.query(
            "source", f"SELECT {key_sql}, count(*) AS __n{w_sql} FROM source GROUP BY ALL"
        ).df()
    missing_y = int(agg.loc[agg[y_col].isna(), "__n"].sum())
    if missing_y:
        raise DataError(
            f"{y_name} column {y_col!r} has {missing_y} missing value(s); remove or impute "
            "those rows."
        )
    if w_cols:
        if int(agg["__wnull"].sum()):
            raise DataError(
                f"sample_weight column {w_cols[0]!r} has {int(agg['__wnull'].sum())} missing "
                "value(s); remove or impute those rows."
            )
        if (agg["__wmin"] < 0).any():
            raise DataError(f"sample_weight column {w_cols[0]!r} has negative weights.")
    counts = agg["__n"].to_numpy(dtype=np.float64)
    weights = agg["__w"].to_numpy(dtype=np.float64) if w_cols else None
    return (
        agg[y_col].reset_index(drop=True),
        agg[s_cols].reset_index(drop=True),
        agg[t_cols].reset_index(drop=True) if t_cols else None,
        weights,
        counts,
    )


def _refuse_names(**arrays: Any) -> None:
    for arg, value in arrays.items():
        if isinstance(value, str):
            raise TypeError(
                f"{arg} is a column name ({value!r}) but data= is not given; pass "
                "data=your_table to use column names, or pass the values themselves."
            )


def _positive_mask(classes: list[Any], pos_label: Any, needed: bool) -> np.ndarray | None:
    """Boolean mask over ``classes`` of the labels counted positive (None when not needed)."""
    if pos_label is None:
        if set(classes) <= {0, 1} and len(classes) >= 1:
            return np.array([c == 1 for c in classes])
        if not needed:
            return None
        raise DataError(
            f"the labels are {format_values(classes)}; pass pos_label= the positive label "
            "(or a list of labels counted positive) for label_proportion_difference and "
            "conditional_demographic_disparity, or leave those measures out."
        )
    wanted = (
        list(pos_label) if isinstance(pos_label, list | tuple | set | frozenset) else [pos_label]
    )
    absent = [v for v in wanted if v not in classes]
    if absent:
        raise DataError(
            f"pos_label {format_values(absent)} does not occur in y_true, whose labels are "
            f"{format_values(classes)}; pass pos_label= one of them."
        )
    return np.array([c in wanted for c in classes])


def _label_codes(y: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    try:
        codes, uniques = pd.factorize(y, sort=True)
    except TypeError as exc:
        raise DataError(
            "y_true mixes label types that cannot be ordered (e.g. numbers and text); "
            "cast it to one type."
        ) from exc
    classes = [v.item() if isinstance(v, np.generic) else v for v in uniques]
    if (len(classes) > 1 and all(isinstance(c, bool) for c in classes)) or set(
        map(type, classes)
    ) == {bool}:
        classes = [int(c) for c in classes]
    return np.asarray(codes, dtype=np.intp), classes


def _check_scalar_args(n_boot: Any, confidence: Any, min_group_size: Any) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer):
        raise TypeError(f"n_boot must be an int, got {type(n_boot).__name__} ({n_boot!r}).")
    if not 0 <= n_boot <= _MAX_BOOT:
        raise ValueError(
            f"n_boot must be between 0 and {_MAX_BOOT:,}, got {n_boot}; 1,000 replicates give "
            "intervals accurate to about 0.01 of their level."
        )
    if isinstance(confidence, bool) or not isinstance(confidence, float | int | np.floating):
        raise TypeError(f"confidence must be a float, got {type(confidence).__name__}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}; e.g. 0.95.")
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer):
        raise TypeError(f"min_group_size must be an int, got {type(min_group_size).__name__}.")
    if min_group_size < 0:
        raise ValueError(f"min_group_size must be >= 0, got {min_group_size}.")


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class _View:
    """Groups of one sensitive feature (or of the intersection) as sums of combined groups."""

    name: str
    index: pd.Index  # group labels
    matrix: np.ndarray  # (n_view_groups, n_combined_groups) 0/1
    reference: int | None  # position of the reference group, None for the rest


@dataclass(frozen=True)
class _Table:
    cells: np.ndarray  # (G, S, K) weighted
    cell_n: np.ndarray  # (G, S, K) rows
    views: tuple[_View, ...]
    classes: list[Any]
    strata: pd.Index | None
    fingerprints: dict[str, Any]


def _build_table(
    y: Any,
    sensitive_features: Any,
    strata: Any,
    sample_weight: Any,
    reference_group: Any,
    missing_groups: str,
    row_counts: np.ndarray | None = None,
) -> _Table:
    values = as_values(y, name="y_true")
    n = len(values)
    label_code, classes = _label_codes(values)
    enc = encode_groups(sensitive_features, n_rows=n, missing_groups=missing_groups)  # type: ignore[arg-type]
    check_consistent_length(y_true=values, sensitive_features=enc.codes)
    weight = check_sample_weight(sample_weight, n)
    if strata is not None:
        s_enc = encode_groups(strata, n_rows=n, missing_groups=missing_groups)  # type: ignore[arg-type]
        check_consistent_length(y_true=values, strata=s_enc.codes)
        s_used = np.unique(s_enc.codes)
        s_index, _ = s_enc.labels(s_used)
        s_code = np.searchsorted(s_used, s_enc.codes)
        if len(s_used) < 2:
            raise DataError(
                f"strata has a single level {format_values(list(s_index))}; conditioning on "
                "it changes nothing: pass a variable with at least two levels, or strata=None."
            )
        n_strata = len(s_used)
    else:
        s_code = np.zeros(n, dtype=np.intp)
        s_index = None
        n_strata = 1
    k = len(classes)
    used = np.unique(enc.codes)
    g_code = np.searchsorted(used, enc.codes)
    n_groups = len(used)
    code = (g_code * n_strata + s_code) * k + label_code
    size = n_groups * n_strata * k
    if row_counts is None:  # one row per sample
        cell_n = np.bincount(code, minlength=size).reshape(n_groups, n_strata, k)
    else:  # rows already aggregated by an engine: each carries its number of samples
        cell_n = (
            np.bincount(code, weights=row_counts, minlength=size)
            .round()
            .astype(np.int64)
            .reshape(n_groups, n_strata, k)
        )
    cells: np.ndarray = (
        cell_n.astype(np.float64)
        if weight is None
        else np.bincount(code, weights=weight, minlength=size).reshape(n_groups, n_strata, k)
    )
    index, feature_codes = enc.labels(used)
    views = _views(index, feature_codes, enc.feature_names, reference_group)
    per_row = enc.feature_codes_of(enc.codes)
    fingerprints = {
        "algorithm": "sha256",
        "y_true": sha256_array(values),
        "sensitive_features": {
            name: sha256_array(np.asarray(enc.feature_levels[j], dtype=object).take(per_row[:, j]))
            for j, name in enumerate(enc.feature_names)
        },
        "strata": None if strata is None else sha256_array(s_code),
        "sample_weight": None if weight is None else sha256_array(weight),
    }
    return _Table(cells, cell_n, views, classes, s_index, fingerprints)


def _views(
    index: pd.Index, feature_codes: np.ndarray, names: tuple[str, ...], reference_group: Any
) -> tuple[_View, ...]:
    n_comb = len(index)
    if (
        len(names) > 1
        and reference_group is not None
        and (not isinstance(reference_group, Mapping) or set(reference_group) != set(names))
    ):
        raise TypeError(
            f"with several sensitive features {list(names)}, reference_group must be a dict "
            "naming the reference value of each, e.g. "
            f"{{{', '.join(repr(n) + ': ...' for n in names)}}}."
        )
    out = []
    specs: list[tuple[str, list[int]]] = [(name, [j]) for j, name in enumerate(names)]
    if len(names) > 1:
        specs.append((" & ".join(names), list(range(len(names)))))
    for name, cols in specs:
        keys = [tuple(row) for row in feature_codes[:, cols]]
        uniq = sorted(set(keys))
        pos = {key: i for i, key in enumerate(uniq)}
        matrix = np.zeros((len(uniq), n_comb))
        for g, key in enumerate(keys):
            matrix[pos[key], g] = 1.0
        if len(cols) == 1:
            level = index.levels[cols[0]] if isinstance(index, pd.MultiIndex) else None
            labels = (
                [level[key[0]] for key in uniq]
                if level is not None
                else [index[keys.index(key)] for key in uniq]
            )
            view_index = pd.Index(labels, dtype=object, name=name)
        else:
            assert isinstance(index, pd.MultiIndex)  # several features
            levels = index.levels
            view_index = pd.MultiIndex.from_tuples(
                [tuple(levels[j][c] for j, c in enumerate(key)) for key in uniq],
                names=list(names),
            )
        ref = None
        if reference_group is not None:
            wanted = (
                reference_group
                if len(names) == 1
                else (
                    reference_group[name]
                    if len(cols) == 1
                    else tuple(reference_group[names[j]] for j in cols)
                )
            )
            matches = [i for i, v in enumerate(view_index) if v == wanted]
            if not matches:
                raise DataError(
                    f"reference_group {wanted!r} is not a group of {name!r}, whose groups are "
                    f"{format_values(list(view_index))}; pass one of them."
                )
            ref = matches[0]
        out.append(_View(name, view_index, matrix, ref))
    return tuple(out)


# ----------------------------------------------------------------------------- the maths


def _measures(
    table: np.ndarray,
    reference: int | None,
    positive: np.ndarray | None,
    measures: Sequence[str],
    has_strata: bool,
) -> dict[str, np.ndarray]:
    """Every measure for every group, on a (B, G, S, K) stack of weighted tables -> (B, G)."""
    lab_d = table.sum(axis=2)  # (B, G, K)
    n_d = lab_d.sum(axis=-1)
    if reference is None:
        lab_a = lab_d.sum(axis=1, keepdims=True) - lab_d
    else:
        lab_a = np.broadcast_to(lab_d[:, reference : reference + 1], lab_d.shape)
    n_a = lab_a.sum(axis=-1)
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        p_d = lab_d / n_d[..., None]
        p_a = lab_a / n_a[..., None]
        diff = p_a - p_d
        if "class_imbalance" in measures:
            out["class_imbalance"] = (n_a - n_d) / (n_a + n_d)
        if "label_proportion_difference" in measures:
            assert positive is not None
            out["label_proportion_difference"] = diff[..., positive].sum(axis=-1)
        if "kl_divergence" in measures:
            terms = np.where(p_a > 0, p_a * np.log(p_a / p_d), 0.0)
            out["kl_divergence"] = terms.sum(axis=-1)
        if "js_divergence" in measures:
            m = (p_a + p_d) / 2
            ta = np.where(p_a > 0, p_a * np.log(p_a / m), 0.0)
            td = np.where(p_d > 0, p_d * np.log(p_d / m), 0.0)
            out["js_divergence"] = (ta.sum(axis=-1) + td.sum(axis=-1)) / 2
        if "lp_norm" in measures:
            out["lp_norm"] = np.sqrt((diff * diff).sum(axis=-1))
        if "total_variation_distance" in measures:
            out["total_variation_distance"] = np.abs(diff).sum(axis=-1) / 2
        if "ks_distance" in measures:
            out["ks_distance"] = np.abs(diff).max(axis=-1)
        undefined = (n_d == 0) | (n_a == 0)
        for key in out:
            out[key] = np.where(undefined, np.nan, out[key])
        if _CDD in measures and has_strata:
            assert positive is not None
            pos = table[..., positive].sum(axis=-1)  # (B, G, S)
            neg = table.sum(axis=-1) - pos
            if reference is None:
                pop_pos = pos.sum(axis=1, keepdims=True)
                pop_neg = neg.sum(axis=1, keepdims=True)
            else:
                pop_pos = pos + pos[:, reference : reference + 1]
                pop_neg = neg + neg[:, reference : reference + 1]
                # the reference's own row compares it with itself
                pop_pos[:, reference] = pos[:, reference]
                pop_neg[:, reference] = neg[:, reference]
            pop_pos = np.broadcast_to(pop_pos, pos.shape)
            pop_neg = np.broadcast_to(pop_neg, neg.shape)
            share_acc = np.where(pop_pos > 0, pos / np.where(pop_pos > 0, pop_pos, 1), 0.0)
            share_rej = np.where(pop_neg > 0, neg / np.where(pop_neg > 0, pop_neg, 1), 0.0)
            n_s = pop_pos + pop_neg
            cdd = (n_s * (share_rej - share_acc)).sum(axis=-1) / n_s.sum(axis=-1)
            degenerate = (pop_pos.sum(axis=-1) == 0) | (pop_neg.sum(axis=-1) == 0) | (n_d == 0)
            out[_CDD] = np.where(degenerate, np.nan, cdd)
    return out


def _replicates(table: _Table, n_boot: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Bootstrap tables (chunks of (b, G, S, K)), rows resampled jointly over all cells."""
    flat_n = table.cell_n.reshape(-1)
    total = int(flat_n.sum())
    p = flat_n / total
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_w = np.where(flat_n > 0, table.cells.reshape(-1) / flat_n, 0.0)
    per_chunk = max(1, _CHUNK_CELLS // max(flat_n.size, 1))
    chunks = []
    done = 0
    while done < n_boot:
        b = min(per_chunk, n_boot - done)
        draws = rng.multinomial(total, p, size=b).astype(np.float64)
        chunks.append((draws * mean_w).reshape(b, *table.cells.shape))
        done += b
    return chunks


def _interval(values: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Percentile bounds over axis 0; NaN where the measure is undefined too often."""
    alpha = (1 - confidence) / 2
    undefined = np.isnan(values).mean(axis=0)
    finite = np.where(np.isposinf(values), _BIG, np.where(np.isneginf(values), -_BIG, values))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        lo, hi = np.nanquantile(finite, [alpha, 1 - alpha], axis=0)
    lo = np.where(lo >= _BIG / 10, np.inf, np.where(lo <= -_BIG / 10, -np.inf, lo))
    hi = np.where(hi >= _BIG / 10, np.inf, np.where(hi <= -_BIG / 10, -np.inf, hi))
    bad = undefined > alpha
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi), undefined


# ----------------------------------------------------------------------------- results


def _label(group: Any) -> str:
    """Return a group label as text; intersections joined with " & "."""
    return " & ".join(map(str, group)) if isinstance(group, tuple) else str(group)


def _ci(row: Any) -> str:
    lo, hi = row["lower"], row["upper"]
    if not (isinstance(lo, float) and math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f" [{lo:.3f}, {hi:.3f}]"


@dataclass(frozen=True, eq=False)
class _BiasResult(ResultMixin):
    table: pd.DataFrame
    measures: tuple[str, ...]
    sensitive_features: tuple[str, ...]
    classes: tuple[Any, ...]
    pos_label: tuple[Any, ...] | None
    comparison: str
    reference_group: Any
    strata: tuple[str, ...] | None
    label_distribution: pd.DataFrame
    n_samples: int
    n_boot: int
    confidence: float
    random_state: int | None
    interval_method: str
    notes: tuple[str, ...]
    parameters: dict[str, Any]
    provenance: dict[str, Any]

    _kind = "data_bias"

    def to_frame(self) -> pd.DataFrame:
        """Return the long table, one row per (sensitive_feature, group, measure).

        Returns
        -------
        pandas.DataFrame
            Columns ``sensitive_feature``, ``group``, ``reference`` (the comparator: ``"rest"``
            or the reference group), ``measure``, ``value``, ``lower``, ``upper`` (NaN without
            a bootstrap), ``count`` and ``reference_count`` (weighted rows).
        """
        return self.table.copy()

    def value(self, measure: str, group: Any, *, sensitive_feature: str | None = None) -> float:
        """Return one value, by measure name (or Clarify code) and group.

        Parameters
        ----------
        measure : str
            A measure name or Clarify code.
        group : object
            A group label (a tuple for the intersection of several features).
        sensitive_feature : str, optional
            The feature the group belongs to; needed only when several features share labels.

        Returns
        -------
        float
        """
        name = resolve_measure(measure, argument="measure")
        t = self.table
        rows = t[(t["measure"] == name) & t["group"].map(lambda g: g == group)]
        if sensitive_feature is not None:
            rows = rows[rows["sensitive_feature"] == sensitive_feature]
        if len(rows) != 1:
            raise KeyError(
                f"no single row for measure {name!r} and group {group!r}"
                + (f" of {sensitive_feature!r}" if sensitive_feature else "")
                + f"; groups: {format_values(t['group'].unique().tolist())}."
            )
        return float(rows["value"].iloc[0])

    def _summary(self) -> list[str]:
        """One sentence per sensitive feature: the largest label gap and the smallest group."""
        t = self.table
        out = []
        for feature in dict.fromkeys(t["sensitive_feature"]):
            rows = t[t["sensitive_feature"] == feature]
            vs = "the rest" if self.comparison == REST else "the reference group"
            parts = []
            dpl = rows[rows["measure"] == "label_proportion_difference"].dropna(subset=["value"])
            if len(dpl):
                top = dpl.loc[dpl["value"].idxmax()]
                share = "fewer" if top["value"] > 0 else "more"
                parts.append(
                    f"{_label(top['group'])} has the lowest share of positive labels, "
                    f"{abs(top['value']):.3f} {share} than {vs} (DPL {top['value']:.3f}{_ci(top)})"
                )
            ci = rows[rows["measure"] == "class_imbalance"].dropna(subset=["value"])
            if len(ci):
                top = ci.loc[ci["value"].idxmax()]
                parts.append(
                    f"the least represented group is {_label(top['group'])} "
                    f"({int(top['count']):,} rows; CI {top['value']:.3f})"
                )
            tvd = rows[rows["measure"] == "total_variation_distance"].dropna(subset=["value"])
            if len(tvd) and not len(dpl):
                top = tvd.loc[tvd["value"].idxmax()]
                parts.append(
                    f"the label distribution of {_label(top['group'])} differs most from {vs} "
                    f"(TVD {top['value']:.3f}{_ci(top)})"
                )
            cdd = rows[rows["measure"] == _CDD].dropna(subset=["value"])
            if len(cdd):
                top = cdd.loc[cdd["value"].idxmax()]
                parts.append(
                    f"within strata, {_label(top['group'])} is the most over-represented among "
                    f"negative labels (CDDL {top['value']:.3f}{_ci(top)})"
                )
            if parts:
                out.append(f"{feature}: " + "; ".join(parts) + ".")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the common result keys of fairaudit.

        Returns
        -------
        dict
            ``kind``, ``schema_version``, ``title``, ``summary`` (sentences), ``parameters``,
            ``table`` (the long table as records; groups as text, intersections joined with
            ``" & "``), ``provenance`` (versions and SHA-256 fingerprints of the inputs), and
            ``measures``, ``sensitive_features``, ``classes``, ``pos_label``, ``comparison``,
            ``strata``, ``n_samples``, ``n_boot``, ``confidence``, ``interval_method``,
            ``notes``, ``measure_info`` (formula, ideal, range, direction, limitations).
        """
        rows = []
        for rec in self.table.to_dict("records"):
            rec["group"] = _label(rec["group"])
            rec["reference"] = _label(rec["reference"])
            rows.append(rec)
        title = (
            "Data bias (labels, before any model)"
            if self._kind == "data_bias"
            else "Conditional demographic disparity"
        )
        return json_safe(
            {
                "kind": self._kind,
                "schema_version": 1,
                "title": title,
                "summary": self._summary() + list(self.notes),
                "parameters": self.parameters,
                "table": rows,
                "provenance": self.provenance,
                "measures": list(self.measures),
                "sensitive_features": list(self.sensitive_features),
                "classes": list(self.classes),
                "pos_label": None if self.pos_label is None else list(self.pos_label),
                "comparison": self.comparison,
                "strata": None if self.strata is None else list(self.strata),
                "n_samples": self.n_samples,
                "n_boot": self.n_boot,
                "confidence": self.confidence,
                "interval_method": self.interval_method,
                "notes": list(self.notes),
                "measure_info": {m: BIAS_MEASURES[m].to_dict() for m in self.measures},
            }
        )

    def plot(
        self, ax: Any = None, *, measure: str | None = None, sensitive_feature: str | None = None
    ) -> Any:
        """Bar chart of one measure per group, with its interval.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.
        measure : str, optional
            Measure name or Clarify code; default: the first measure.
        sensitive_feature : str, optional
            Default: the first sensitive feature.

        Returns
        -------
        matplotlib Axes
        """
        name = self.measures[0] if measure is None else resolve_measure(measure, argument="measure")
        feature = self.sensitive_features[0] if sensitive_feature is None else sensitive_feature
        t = self.table[
            (self.table["measure"] == name) & (self.table["sensitive_feature"] == feature)
        ]
        if t.empty:
            raise ValueError(
                f"no rows for measure {name!r} and sensitive_feature {feature!r}; measures: "
                f"{list(self.measures)}, features: {sorted(set(self.table['sensitive_feature']))}."
            )
        ax = get_axes(ax)
        labels = [_label(g) for g in t["group"]]
        # plain text: a group name must never be read as mathtext
        labels = [s.replace("$", r"\$") for s in labels]
        y = np.arange(len(t))
        values = t["value"].to_numpy(dtype=float)
        err = None
        if t["lower"].notna().any():
            err = np.vstack(
                [
                    values - t["lower"].to_numpy(dtype=float),
                    t["upper"].to_numpy(dtype=float) - values,
                ]
            )
            err = np.where(np.isfinite(err), np.maximum(err, 0), 0)
        ax.barh(y, values, xerr=err, color="#4c72b0")
        ax.set_yticks(y, labels)
        ax.axvline(BIAS_MEASURES[name].ideal, color="black", linewidth=0.8)
        ax.set_xlabel(BIAS_MEASURES[name].label.replace("$", r"\$"))
        ax.set_title(
            f"{feature} vs {'rest' if self.comparison == REST else 'reference'}".replace("$", r"\$")
        )
        return ax

    def __repr__(self) -> str:
        groups = self.table.groupby("sensitive_feature", sort=False)["group"].nunique()
        shown = ", ".join(f"{k}: {v} groups" for k, v in groups.items())
        return (
            f"{type(self).__name__}(n_samples={self.n_samples}, {shown}, "
            f"measures={len(self.measures)}, vs={self.comparison}, n_boot={self.n_boot})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class DataBias(_BiasResult):
    """Bias measures of the labels, before any model (SageMaker Clarify's pre-training set).

    Attributes
    ----------
    table : pandas.DataFrame
        The long format of :meth:`to_frame`.
    measures : tuple of str
        The measures computed (snake_case names).
    sensitive_features : tuple of str
        The features compared, each alone and, when several, their intersection
        (named ``"a & b"``; its groups are tuples).
    classes : tuple
        The labels of ``y_true``, sorted.
    pos_label : tuple or None
        The labels counted positive (None when no measure needs one).
    comparison : {"rest", "reference"}
        Whether each group is compared with all other rows or with ``reference_group``.
    reference_group : object
        As given.
    strata : tuple of str or None
        The strata of conditional demographic disparity.
    label_distribution : pandas.DataFrame
        Weighted share of each label per group: columns ``sensitive_feature``, ``group``,
        ``count``, then one column per label.
    n_samples, n_boot : int
        Rows counted; bootstrap replicates.
    confidence : float
        Level of the intervals.
    random_state : int or None
        The seed, when an int was given.
    interval_method : str
        How the intervals were computed.
    notes : tuple of str
        What to know when reading the numbers.

    Examples
    --------
    >>> import fairaudit as fa
    >>> db = fa.data_bias([1, 0, 1, 1, 0, 0, 0, 0], sensitive_features=list("aaaabbbb"),
    ...                   min_group_size=0)
    >>> db.value("DPL", "a")  # rest (b) has 0/4 positives, a has 3/4: 0 - 0.75
    -0.75
    """


@dataclass(frozen=True, eq=False, repr=False)
class ConditionalDemographicDisparity(_BiasResult):
    """Conditional demographic disparity of predicted (CDDPL) or observed (CDDL) labels.

    Attributes
    ----------
    table : pandas.DataFrame
        The long format of :meth:`to_frame` (one row per group).
    by_group : pandas.DataFrame
        Indexed by (sensitive_feature, group): ``value``, ``lower``, ``upper``, ``count``.
    Other attributes are those of :class:`DataBias`.

    Examples
    --------
    >>> import fairaudit as fa
    >>> cdd = fa.metrics.conditional_demographic_disparity(
    ...     [1, 0, 1, 0, 1, 1, 0, 0], sensitive_features=list("abababab"),
    ...     strata=[0, 0, 0, 0, 1, 1, 1, 1], min_group_size=0)
    >>> cdd.to_frame()[["group", "value"]]
      group  value
    0     a   -0.5
    1     b    0.5
    """

    _kind = "conditional_demographic_disparity"

    @property
    def by_group(self) -> pd.DataFrame:
        """Value, interval and count per group, indexed by (sensitive_feature, group)."""
        return self.table.set_index(["sensitive_feature", "group"])[
            ["value", "lower", "upper", "count"]
        ]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per group.

        Returns
        -------
        pandas.DataFrame
            Columns ``sensitive_feature``, ``group``, ``reference``, ``value``, ``lower``,
            ``upper``, ``count``, ``reference_count``.
        """
        return self.table.drop(columns="measure").reset_index(drop=True)


# ----------------------------------------------------------------------------- functions


def _compute(
    y: Any,
    *,
    sensitive_features: Any,
    strata: Any,
    sample_weight: Any,
    reference_group: Any,
    pos_label: Any,
    measures: Sequence[str] | None,
    n_boot: int,
    confidence: float,
    random_state: Any,
    min_group_size: int,
    missing_groups: str,
    data: Any,
    y_name: str,
    cls: type[_BiasResult],
    memory_limit: str | None = None,
    threads: int | None = None,
) -> _BiasResult:
    _check_scalar_args(n_boot, confidence, min_group_size)
    row_counts = None
    if data is not None and _in_memory(data):
        cols = _columns_from_data(
            data,
            **{y_name: y},
            sensitive_features=sensitive_features,
            strata=strata,
            sample_weight=sample_weight,
        )
        y, sensitive_features = cols[y_name], cols["sensitive_features"]
        strata, sample_weight = cols["strata"], cols["sample_weight"]
    elif data is not None:
        y, sensitive_features, strata, sample_weight, row_counts = _aggregate_source(
            data,
            y=y,
            y_name=y_name,
            sensitive=sensitive_features,
            strata=strata,
            weight=sample_weight,
            memory_limit=memory_limit,
            threads=threads,
        )
    else:
        _refuse_names(**{y_name: y}, sample_weight=sample_weight)
        # pandas inputs are paired on their index labels, arrays by position
        aligned = align_on_index(
            **{y_name: y},
            sensitive_features=sensitive_features,
            strata=strata,
            sample_weight=sample_weight,
        )
        y, sensitive_features = aligned[y_name], aligned["sensitive_features"]
        strata, sample_weight = aligned["strata"], aligned["sample_weight"]
    if measures is None:
        chosen = list(_LABEL_MEASURES) + ([_CDD] if strata is not None else [])
    else:
        if isinstance(measures, str):
            measures = [measures]
        chosen = list(dict.fromkeys(resolve_measure(m) for m in measures))
        if not chosen:
            raise ValueError("measures is empty; pass at least one measure, or None for all.")
    if _CDD in chosen and strata is None:
        raise ValueError(
            "conditional_demographic_disparity needs strata=: the variable(s) to condition on "
            "(e.g. the department applied to); pass strata=, or leave the measure out."
        )
    rng = as_generator(random_state)
    table = _build_table(
        y, sensitive_features, strata, sample_weight, reference_group, missing_groups, row_counts
    )
    positive = _positive_mask(table.classes, pos_label, any(m in _NEEDS_POSITIVE for m in chosen))
    has_strata = table.strata is not None
    reps = _replicates(table, n_boot, rng) if n_boot else []

    records: list[dict[str, Any]] = []
    dist_rows: list[dict[str, Any]] = []
    small: list[str] = []
    undefined_notes: list[str] = []
    for view in table.views:
        point_tab = np.einsum("vg,gsk->vsk", view.matrix, table.cells)[None]
        point = _measures(point_tab, view.reference, positive, chosen, has_strata)
        if reps:
            stacks: dict[str, list[np.ndarray]] = {m: [] for m in chosen}
            for chunk in reps:
                r = _measures(
                    np.einsum("vg,bgsk->bvsk", view.matrix, chunk),
                    view.reference,
                    positive,
                    chosen,
                    has_strata,
                )
                for m in chosen:
                    stacks[m].append(r[m])
            bounds = {m: _interval(np.concatenate(stacks[m]), confidence) for m in chosen}
        counts = point_tab[0].sum(axis=(1, 2))
        rows_n = np.einsum("vg,gsk->v", view.matrix, table.cell_n.astype(np.float64))
        lab = point_tab[0].sum(axis=1)
        for i, group in enumerate(view.index):
            if view.reference is not None and i == view.reference:
                dist_rows.append(_dist_row(view.name, group, counts[i], lab[i], table.classes))
                continue
            if rows_n[i] < min_group_size:
                small.append(f"{view.name}={group!r} ({int(rows_n[i])} rows)")
            ref_label: Any = REST if view.reference is None else view.index[view.reference]
            ref_count = (
                counts.sum() - counts[i] if view.reference is None else counts[view.reference]
            )
            for m in chosen:
                value = float(point[m][0, i])
                lo = hi = float("nan")
                if reps:
                    lo, hi = float(bounds[m][0][i]), float(bounds[m][1][i])
                    if math.isnan(lo) and not math.isnan(value):
                        undefined_notes.append(f"{m} of {view.name}={group!r}")
                records.append(
                    {
                        "sensitive_feature": view.name,
                        "group": group,
                        "reference": ref_label,
                        "measure": m,
                        "value": value,
                        "lower": lo,
                        "upper": hi,
                        "count": float(counts[i]),
                        "reference_count": float(ref_count),
                    }
                )
            dist_rows.append(_dist_row(view.name, group, counts[i], lab[i], table.classes))
    frame = pd.DataFrame.from_records(records, columns=[*_COLUMNS, "count", "reference_count"])
    notes: list[str] = []
    if small:
        msg = (
            f"{len(small)} group(s) have fewer than min_group_size={min_group_size} rows: "
            f"{format_values(small)}; their measures are noisy."
        )
        warnings.warn(msg, SmallGroupWarning, stacklevel=3)
        notes.append(msg)
    undefined = frame.loc[frame["value"].isna(), ["measure", "sensitive_feature", "group"]]
    if len(undefined):
        msg = (
            f"{len(undefined)} value(s) are undefined (NaN): a group or its comparator has no "
            "rows, or (CDD) there is no accepted or no rejected row: "
            + format_values(
                [
                    f"{r.measure} of {r.sensitive_feature}={r.group!r}"
                    for r in undefined.itertuples()
                ]
            )
        )
        warnings.warn(msg, UndefinedMetricWarning, stacklevel=3)
        notes.append(msg)
    if undefined_notes:
        notes.append(
            "no interval where the measure was undefined in more than "
            f"{(1 - confidence) / 2:.1%} of the replicates (a group too small to be drawn): "
            + format_values(undefined_notes)
        )
    if (
        "kl_divergence" in chosen
        and np.isinf(frame.loc[frame["measure"] == "kl_divergence", "value"]).any()
    ):
        notes.append(
            "kl_divergence is infinite where a group lacks a label its comparator has "
            "(SageMaker Clarify drops such labels instead)."
        )
    names = enc_names(table)
    parameters = {
        "measures": list(chosen),
        "pos_label": pos_label,
        "reference_group": reference_group,
        "n_boot": int(n_boot),
        "confidence": float(confidence),
        "random_state": random_state if isinstance(random_state, int) else None,
        "min_group_size": int(min_group_size),
        "missing_groups": missing_groups,
        "weighted": sample_weight is not None,
        "n_samples": int(table.cell_n.sum()),
    }
    provenance = {
        "parameters": parameters,
        "versions": core_versions(),
        "fingerprints": table.fingerprints,
    }
    return cls(
        table=frame,
        measures=tuple(chosen),
        sensitive_features=names,
        classes=tuple(table.classes),
        pos_label=None
        if positive is None
        else tuple(c for c, p in zip(table.classes, positive, strict=True) if p),
        comparison=REST if reference_group is None else "reference",
        reference_group=reference_group,
        strata=None if table.strata is None else _strata_names(table.strata),
        label_distribution=pd.DataFrame.from_records(dist_rows),
        n_samples=int(table.cell_n.sum()),
        n_boot=int(n_boot),
        confidence=float(confidence),
        random_state=random_state if isinstance(random_state, int) else None,
        interval_method=(
            "percentile bootstrap: rows resampled jointly (multinomial over the "
            "(group, stratum, label) cells)"
            if n_boot
            else "none"
        ),
        notes=tuple(notes),
        parameters=parameters,
        provenance=provenance,
    )


def enc_names(table: _Table) -> tuple[str, ...]:
    """Names of the views: each feature, then their intersection."""
    return tuple(v.name for v in table.views)


def _strata_names(index: pd.Index) -> tuple[str, ...]:
    if isinstance(index, pd.MultiIndex):
        return tuple(str(n) for n in index.names)
    return (str(index.name),)


def _dist_row(
    feature: str, group: Any, count: float, lab: np.ndarray, classes: list[Any]
) -> dict[str, Any]:
    row: dict[str, Any] = {"sensitive_feature": feature, "group": group, "count": float(count)}
    for c, v in zip(classes, lab, strict=True):
        row[c] = float(v / count) if count else float("nan")
    return row


def data_bias(
    y_true: Any,
    *,
    sensitive_features: Any,
    reference_group: Any = None,
    strata: Any = None,
    sample_weight: Any = None,
    pos_label: Any = None,
    measures: Sequence[str] | str | None = None,
    n_boot: int = 0,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    min_group_size: int = 30,
    missing_groups: str = "error",
    data: Any = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> DataBias:
    """Measure bias in the labels before any model exists (Clarify's pre-training measures).

    Each group ``d`` of each sensitive feature (and of their intersection, when several) is
    compared with a comparator ``a``: all other rows (the default, as SageMaker Clarify does),
    or ``reference_group``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,), or a column name with ``data=``
        The labels, binary or multiclass.
    sensitive_features : array-like, DataFrame or dict of columns (names with ``data=``)
        One or several sensitive features.
    reference_group : object or dict, optional
        Compare with this group instead of the rest (with several features, a dict naming
        the reference value of each). Its own rows are left out of the table.
    strata : array-like or DataFrame, optional
        The variable(s) to condition on for ``conditional_demographic_disparity``.
    sample_weight : array-like of shape (n_samples,), optional
        Weights; every count becomes a weighted count.
    pos_label : object or list, optional
        The label (or labels) counted positive, for ``label_proportion_difference`` and
        ``conditional_demographic_disparity``; default 1 for 0/1 or boolean labels.
    measures : list of str, optional
        Names or Clarify codes (``CI, DPL, KL, JS, LP, TVD, KS, CDDL``); default all (CDDL
        only with ``strata``).
    n_boot : int, default=0
        Bootstrap replicates for the intervals (0: none).
    confidence : float, default=0.95
        Level of the intervals.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    min_group_size : int, default=30
        Groups with fewer rows are named in a ``SmallGroupWarning``.
    missing_groups : {"error", "separate"}, default="error"
        What to do with missing values in a sensitive feature or stratum.
    data : table, path, glob, list of files, DuckDB relation or (connection, query), optional
        With ``data``, ``y_true``, ``sensitive_features``, ``strata`` and ``sample_weight``
        are column names. pandas, polars and pyarrow tables are read in memory; files
        (CSV, TSV, Parquet, gzip; globs) and DuckDB sources are counted by DuckDB out of core
        (sensitive and strata columns read as the text in the file), and only the counts
        come back.
    memory_limit, threads : optional
        DuckDB's settings for file and DuckDB sources (e.g. ``"2GB"``, 2).

    Returns
    -------
    DataBias
        ``to_frame()`` has one row per (sensitive_feature, group, measure) with columns
        ``sensitive_feature, group, reference, measure, value, lower, upper, count,
        reference_count``.

    Raises
    ------
    ValueError
        For an unknown measure, a reference group absent from the data, strata with a single
        level, CDDL without strata, or labels with no positive label to pick.

    Notes
    -----
    Signs follow Clarify: class imbalance and DPL are (comparator - group), so a positive
    value means the group is smaller / has fewer positive labels. The distribution measures
    use every label observed in the data; Clarify drops the labels absent from either side
    before computing them, which understates the distance and hides an infinite KL. KS is
    Clarify's: the largest difference of label shares, not a distance between cumulative
    distributions. Intervals are percentile bootstrap intervals with rows resampled jointly
    (group sizes vary, as they do between samples); an interval is NaN when the measure is
    undefined in too many replicates (a group that a resample can miss entirely).

    References
    ----------
    Amazon SageMaker Clarify, "Pre-training bias metrics" (2020); Hardt, Chen, Cheng et al.,
    "Amazon SageMaker Clarify: Machine Learning Bias Detection and Explainability in the
    Cloud", KDD 2021.

    Examples
    --------
    >>> import fairaudit as fa
    >>> db = fa.data_bias([1, 1, 0, 0, 1, 0, 0, 0], sensitive_features=list("aabbbbbb"),
    ...                   measures=["CI", "DPL"], min_group_size=0)
    >>> db.to_frame()[["group", "measure", "value"]]
      group                      measure     value
    0     a              class_imbalance  0.500000
    1     a  label_proportion_difference -0.833333
    2     b              class_imbalance -0.500000
    3     b  label_proportion_difference  0.833333
    """
    out = _compute(
        y_true,
        sensitive_features=sensitive_features,
        strata=strata,
        sample_weight=sample_weight,
        reference_group=reference_group,
        pos_label=pos_label,
        measures=measures,
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state,
        min_group_size=min_group_size,
        missing_groups=missing_groups,
        data=data,
        y_name="y_true",
        cls=DataBias,
        memory_limit=memory_limit,
        threads=threads,
    )
    assert isinstance(out, DataBias)
    return out


def conditional_demographic_disparity(
    y_pred: Any,
    *,
    sensitive_features: Any,
    strata: Any,
    pos_label: Any = None,
    reference_group: Any = None,
    sample_weight: Any = None,
    n_boot: int = 0,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
    min_group_size: int = 30,
    missing_groups: str = "error",
    data: Any = None,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> ConditionalDemographicDisparity:
    """Conditional demographic disparity of decisions (CDDPL), or of labels (CDDL).

    For each group: its share among the rejected minus its share among the accepted, within
    each stratum, averaged over strata weighted by their size (Clarify's definition). Passed
    predicted labels it is Clarify's CDDPL; passed observed labels, CDDL.

    Parameters
    ----------
    y_pred : array-like of shape (n_samples,), or a column name with ``data=``
        Decisions (or labels).
    sensitive_features : array-like, DataFrame or dict of columns
        One or several sensitive features.
    strata : array-like or DataFrame
        The variable(s) to condition on (at least two levels).
    pos_label : object or list, optional
        The accepted label(s); default 1 for 0/1 or boolean values.
    reference_group : object or dict, optional
        Restrict each comparison to the group and this reference group (default: everyone).
    sample_weight : array-like, optional
        Row weights.
    n_boot : int, default=0
        Bootstrap replicates (0: no interval).
    confidence : float, default=0.95
        Level of the intervals.
    random_state : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    min_group_size : int, default=30
        Groups with fewer rows are named in a ``SmallGroupWarning``.
    missing_groups : {"error", "separate"}, default="error"
        What to do with missing values in a sensitive feature or stratum.
    data : table, path, glob, list of files, DuckDB relation or (connection, query), optional
        With ``data``, the arguments above name its columns (as in :func:`data_bias`).
    memory_limit, threads : optional
        DuckDB's settings for file and DuckDB sources.

    Returns
    -------
    ConditionalDemographicDisparity
        ``to_frame()`` has one row per group with ``value``, ``lower``, ``upper``.

    Notes
    -----
    A positive value means the group is over-represented among the rejected within strata.
    A stratum with no accepted (no rejected) rows contributes 0 to that share, as in Clarify.

    Examples
    --------
    >>> import fairaudit as fa
    >>> cdd = fa.metrics.conditional_demographic_disparity(
    ...     [1, 1, 0, 0], sensitive_features=["a", "b", "a", "b"], strata=["x", "x", "y", "y"],
    ...     min_group_size=0)
    >>> cdd.by_group["value"].tolist()
    [0.0, 0.0]
    """
    out = _compute(
        y_pred,
        sensitive_features=sensitive_features,
        strata=strata,
        sample_weight=sample_weight,
        reference_group=reference_group,
        pos_label=pos_label,
        measures=[_CDD],
        n_boot=n_boot,
        confidence=confidence,
        random_state=random_state,
        min_group_size=min_group_size,
        missing_groups=missing_groups,
        data=data,
        y_name="y_pred",
        cls=ConditionalDemographicDisparity,
        memory_limit=memory_limit,
        threads=threads,
    )
    assert isinstance(out, ConditionalDemographicDisparity)
    return out
