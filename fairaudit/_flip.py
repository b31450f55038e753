"""``flip_test``: ask the model itself what it would have decided had a person's group differed.

Every row is sent again with the sensitive feature (and, if given, its proxies) switched, and
the decisions are compared row by row: flips per group, in which direction, the mean change of
the score, with exact intervals and an exact McNemar test. Unlike Clarify's FlipTest (a kNN
stand-in), no model is imitated: the counterfactual rows go to the real model, local or behind
an endpoint (with ``Endpoint(cache=...)`` the original rows are not sent twice).
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import align_on_index, as_generator, format_values
from fairaudit.exceptions import DataError
from fairaudit.metrics._paired import clopper_pearson, mcnemar_exact
from fairaudit.metrics._uncertainty import benjamini_hochberg, percentile_interval

__all__ = ["FlipTestResult", "flip_test"]

STATISTICS = ("flip_rate", "to_positive", "to_negative", "mean_score_change")


def _label_text(key: Any) -> str:
    if isinstance(key, tuple):
        return " & ".join(str(k) for k in key)
    return str(key)


@dataclass(frozen=True, eq=False)
class FlipTestResult(ResultMixin):
    """Result of :func:`flip_test`: how often the model's decision flips when the group does.

    Attributes
    ----------
    feature : tuple of str
        The column(s) switched together.
    mapping : tuple of (original, counterfactual) pairs
        The switches made (one entry per pair of values; all other observed values when no
        mapping was given).
    by_group : DataFrame
        Indexed by the original group (the feature's original value, or the groups of
        ``sensitive_features``); columns ``count`` (rows x switches), ``flip_rate``,
        ``to_positive`` (share of pairs whose label became ``pos_label``), ``to_negative``
        (share whose label stopped being ``pos_label``), ``mean_score_change``
        (counterfactual minus original score; NaN for label-only models), each with
        ``_lower`` and ``_upper`` bounds, ``p_value`` (exact McNemar test of
        to_positive = to_negative) and ``p_value_adjusted`` (Benjamini-Hochberg over groups).
    overall : Series
        The same statistics over all pairs.
    n_rows, n_pairs : int
        Rows of X, and (row, switch) pairs sent to the model.
    pos_label : object
        The positive class.
    output_kind : {"score", "label"}
        Whether scores were available.
    confidence : float
    n_boot : int
        0: exact Clopper-Pearson intervals for the rates and a t interval for the mean score
        change; otherwise percentile bootstrap over pairs within each group.
    random_state : int or None
    model : dict
        The wrapped model's description (an endpoint's without headers).
    """

    feature: tuple[str, ...]
    mapping: tuple[tuple[Any, Any], ...]
    by_group: pd.DataFrame
    overall: pd.Series
    n_rows: int
    n_pairs: int
    pos_label: Any
    output_kind: str
    confidence: float
    n_boot: int
    random_state: Any = None
    model: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"FlipTestResult(feature={list(self.feature)}, n_pairs={self.n_pairs}, "
            f"flip_rate={self.overall['flip_rate']:.4f}, groups={len(self.by_group)})"
        )

    def to_frame(self) -> pd.DataFrame:
        """Return the long format: one row per group and statistic.

        Returns
        -------
        DataFrame
            Columns ``group`` (label text), ``statistic`` (flip_rate, to_positive,
            to_negative, mean_score_change), ``value``, ``lower``, ``upper``, ``count``,
            ``p_value``, ``p_value_adjusted``.
        """
        rows = []
        for key, row in self.by_group.iterrows():
            for stat in STATISTICS:
                rows.append(
                    {
                        "group": _label_text(key),
                        "statistic": stat,
                        "value": row[stat],
                        "lower": row[f"{stat}_lower"],
                        "upper": row[f"{stat}_upper"],
                        "count": int(row["count"]),
                        "p_value": row["p_value"],
                        "p_value_adjusted": row["p_value_adjusted"],
                    }
                )
        return pd.DataFrame(rows)

    def _summary(self) -> list[str]:
        lines = []
        names = " & ".join(self.feature)
        lines.append(
            f"Switching {names} changed the decision for {self.overall['flip_rate']:.1%} of "
            f"{self.n_pairs:,} counterfactual rows."
        )
        for key, row in self.by_group.iterrows():
            lines.append(
                f"{_label_text(key)}: {row['flip_rate']:.1%} flipped "
                f"({row['to_positive']:.1%} to {self.pos_label!r}, {row['to_negative']:.1%} "
                f"away from it; exact McNemar p = {row['p_value']:.3g})."
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the common result keys.

        Returns
        -------
        dict
            ``kind`` ("flip_test"), ``schema_version``, ``title``, ``summary``,
            ``parameters``, ``table`` (records of :meth:`to_frame`), ``overall``,
            ``n_rows``, ``n_pairs``, ``model``.
        """
        return json_safe(
            {
                "kind": "flip_test",
                "schema_version": 1,
                "title": f"Counterfactual flip test of {' & '.join(self.feature)}",
                "summary": self._summary(),
                "parameters": {
                    "feature": list(self.feature),
                    "mapping": [[a, b] for a, b in self.mapping],
                    "pos_label": self.pos_label,
                    "confidence": self.confidence,
                    "n_boot": self.n_boot,
                    "random_state": self.random_state,
                },
                "table": self.to_frame().to_dict(orient="records"),
                "overall": self.overall.to_dict(),
                "n_rows": self.n_rows,
                "n_pairs": self.n_pairs,
                "model": self.model,
            }
        )

    def plot(self, ax: Any = None, *, statistic: str = "flip_rate") -> Any:
        """Bars of a statistic per group with its interval; returns the matplotlib Axes.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        statistic : {"flip_rate", "to_positive", "to_negative", "mean_score_change"}
        """
        if statistic not in STATISTICS:
            raise ValueError(
                f"statistic must be one of {format_values(STATISTICS)}, got {statistic!r}."
            )
        ax = get_axes(ax)
        frame = self.by_group
        labels = [_label_text(k) for k in frame.index]
        value = frame[statistic].to_numpy(dtype=float)
        err = np.vstack(
            [
                value - frame[f"{statistic}_lower"].to_numpy(dtype=float),
                frame[f"{statistic}_upper"].to_numpy(dtype=float) - value,
            ]
        )
        y = np.arange(len(labels))
        ax.barh(y, value, xerr=np.nan_to_num(np.abs(err)), color="#1f77b4")
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlabel(statistic.replace("_", " "))
        ax.set_title(f"Flip test: switching {' & '.join(self.feature)}")
        return ax


def _as_key(values: Any, n_cols: int) -> Any:
    if n_cols == 1:
        return values
    if not isinstance(values, tuple) or len(values) != n_cols:
        raise TypeError(
            f"mapping keys and values must be tuples of {n_cols} values (one per column of "
            f"feature) when feature names {n_cols} columns, got {values!r}."
        )
    return values


def _group_codes(groups: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    if groups.isna().to_numpy().any():
        raise DataError(
            "sensitive_features has missing values; fill them (e.g. with 'unknown') first."
        )
    codes, uniques = pd.MultiIndex.from_frame(groups.astype(object)).factorize(sort=True)
    tuples = [tuple(u) for u in uniques]
    if groups.shape[1] == 1:
        index: pd.Index = pd.Index([t[0] for t in tuples], name=groups.columns[0])
    else:
        index = pd.MultiIndex.from_tuples(tuples, names=list(groups.columns))
    return np.asarray(codes, dtype=np.int64), index


def flip_test(
    model: Any,
    X: Any,
    *,
    feature: str | Sequence[str],
    mapping: Mapping[Any, Any] | None = None,
    sensitive_features: Any = None,
    n_boot: int = 0,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> FlipTestResult:
    """Send every row again with ``feature`` switched, and count the decisions that flip.

    Parameters
    ----------
    model : object
        Anything :func:`fairaudit.wrap` accepts, an :class:`~fairaudit.models.Endpoint` too.
    X : DataFrame of shape (n_samples, n_features)
        The rows, as the model takes them (``feature`` is one of its columns).
    feature : str or list of str
        The column to switch, or several switched together (a sensitive feature and its
        proxies, e.g. ``["sex", "relationship"]``; then ``mapping`` keys and values are
        tuples).
    mapping : mapping, optional
        ``{original: counterfactual}``, e.g. ``{"Female": "Male"}``; rows whose value is not a
        key are not switched. Default: every row is switched to each other observed value.
        Every key and value must occur in ``X``.
    sensitive_features : str, list of str or array-like, optional
        Groups to report by (columns of ``X`` or values, one per row). Default: the original
        value of ``feature``. A pandas Series or DataFrame is paired with ``X`` on its index
        labels (reordered to ``X``'s rows; other labels are refused); arrays by position.
    n_boot : int, default 0
        Bootstrap replicates for the intervals (0: exact intervals, see Notes).
    confidence : float, default 0.95
    random_state : int or Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    FlipTestResult
        ``by_group`` (indexed by the original group), ``overall``, ``to_frame()``,
        ``to_dict()``, ``plot()``.

    Notes
    -----
    A pair is (row, switch). ``to_positive`` counts pairs whose label was not ``pos_label``
    and became it, ``to_negative`` the reverse; under the null that the switch does not move
    decisions in either direction, ``to_positive ~ Binomial(to_positive + to_negative, 1/2)``:
    the exact McNemar test. With ``n_boot=0`` the rates have Clopper-Pearson intervals and the
    mean score change a t interval. The model is called twice: on ``X``, and on all
    counterfactual rows at once (batched as the model's wrapper batches).

    Examples
    --------
    >>> import pandas as pd
    >>> import fairaudit as fa
    >>> X = pd.DataFrame({"sex": ["F", "M", "F", "M"], "income": [30, 30, 60, 60]})
    >>> model = fa.wrap(lambda X: ((X["income"] > 40) | (X["sex"] == "M")).astype(int))
    >>> ft = fa.flip_test(model, X, feature="sex")
    >>> ft.by_group[["count", "flip_rate", "to_positive", "to_negative"]]
         count  flip_rate  to_positive  to_negative
    sex
    F        2        0.5          0.5          0.0
    M        2        0.5          0.0          0.5
    """
    from fairaudit.models import wrap

    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"X must be a DataFrame for flip_test (feature names a column), got {type(X).__name__}."
        )
    if len(X) == 0:
        raise DataError("X has no rows; pass at least one sample.")
    columns = [feature] if isinstance(feature, str) else list(feature)
    if not columns or not all(isinstance(c, str) for c in columns):
        raise TypeError(f"feature must be a column name or a list of them, got {feature!r}.")
    for c in columns:
        if c not in X.columns:
            close = difflib.get_close_matches(c, [str(x) for x in X.columns], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(f"feature names the column {c!r}, which X does not have.{hint}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise ValueError(f"n_boot must be an int >= 0, got {n_boot!r}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}.")
    n_cols = len(columns)
    names_given = isinstance(sensitive_features, str) or (
        isinstance(sensitive_features, list)
        and bool(sensitive_features)
        and all(isinstance(c, str) for c in sensitive_features)
    )
    if sensitive_features is not None and not names_given:
        # pandas values pair with X's rows on their index labels (arrays by position)
        sensitive_features = align_on_index(X=X, sensitive_features=sensitive_features)[
            "sensitive_features"
        ]
    X = X.reset_index(drop=True)
    sub = X[columns]
    if sub.isna().to_numpy().any():
        raise DataError(f"feature column(s) {columns} have missing values; fill them first.")
    keys: list[Hashable] = (
        sub.iloc[:, 0].tolist() if n_cols == 1 else list(sub.itertuples(index=False, name=None))
    )
    observed = list(dict.fromkeys(keys))
    if mapping is None:
        switches: list[tuple[Any, Any]] = [(a, b) for a in observed for b in observed if a != b]
    else:
        if not isinstance(mapping, Mapping) or not mapping:
            raise TypeError(f"mapping must be a non-empty dict, got {mapping!r}.")
        switches = [(_as_key(a, n_cols), _as_key(b, n_cols)) for a, b in mapping.items()]
        seen = set(observed)
        absent = [v for pair in switches for v in pair if v not in seen]
        if absent:
            raise ValueError(
                f"mapping names {format_values(list(dict.fromkeys(absent)))}, absent from "
                f"feature {columns if n_cols > 1 else columns[0]!r}; its values are "
                f"{format_values(observed)}."
            )
    if not switches:
        raise DataError(
            f"feature {columns[0]!r} has a single value {observed[0]!r}; there is nothing to "
            "switch it to (pass mapping=)."
        )

    # counterfactual rows: for each switch, the rows holding the original value
    key_codes = pd.Index(observed).get_indexer(pd.Index(keys, tupleize_cols=False))
    position = {k: i for i, k in enumerate(observed)}
    row_parts, target_parts = [], []
    for a, b in switches:
        rows = np.flatnonzero(key_codes == position[a])
        row_parts.append(rows)
        target_parts.append(np.full(rows.size, position[b]))
    rows_cf = np.concatenate(row_parts)
    targets = np.concatenate(target_parts)
    if rows_cf.size == 0:
        raise DataError("no row of X holds a value that mapping switches; nothing to send.")
    X_cf = X.iloc[rows_cf].reset_index(drop=True)
    for j, c in enumerate(columns):
        target_values = [observed[t] if n_cols == 1 else observed[t][j] for t in targets]
        column = X_cf[c]
        if isinstance(column.dtype, pd.CategoricalDtype):
            X_cf[c] = pd.Categorical(target_values, dtype=column.dtype)
        else:
            X_cf[c] = (
                pd.array(target_values, dtype=column.dtype)
                if column.dtype != object
                else (pd.Series(target_values, dtype=object))
            )

    wrapped = wrap(model)
    labels = wrapped.predict(X)
    scores = wrapped.predict_score(X) if wrapped.output_kind == "score" else None
    labels_cf = wrapped.predict(X_cf)
    scores_cf = wrapped.predict_score(X_cf) if scores is not None else None
    pos = wrapped.pos_label if wrapped.pos_label is not None else 1

    if sensitive_features is None:
        groups = sub.copy()
    elif isinstance(sensitive_features, str) or (
        isinstance(sensitive_features, list)
        and sensitive_features
        and all(isinstance(c, str) for c in sensitive_features)
    ):
        names = [sensitive_features] if isinstance(sensitive_features, str) else sensitive_features
        absent_cols = [c for c in names if c not in X.columns]
        if absent_cols:
            raise DataError(f"sensitive_features names columns {absent_cols} that X lacks.")
        groups = X[names]
    else:
        groups = pd.DataFrame(sensitive_features).reset_index(drop=True)
        if len(groups) != len(X):
            raise DataError(
                f"sensitive_features has {len(groups)} rows but X has {len(X)}; pass one row "
                "per sample."
            )
        groups.columns = [str(c) for c in groups.columns]
    codes, index = _group_codes(groups)
    pair_codes = codes[rows_cf]
    before = labels[rows_cf] == pos
    after = labels_cf == pos
    flipped = labels[rows_cf] != labels_cf
    up = ~before & after
    down = before & ~after
    change = (
        np.asarray(scores_cf, dtype=float) - np.asarray(scores, dtype=float)[rows_cf]
        if scores is not None and scores_cf is not None and np.ndim(scores_cf) == 1
        else None
    )
    rng = as_generator(random_state)

    def stats(mask: np.ndarray) -> dict[str, float]:
        n = int(mask.sum())
        f, u, d = (float(v[mask].sum()) for v in (flipped, up, down))
        out: dict[str, float] = {"count": n}
        for name, k in (("flip_rate", f), ("to_positive", u), ("to_negative", d)):
            out[name] = k / n if n else np.nan
        delta = change[mask] if change is not None else None
        out["mean_score_change"] = float(delta.mean()) if delta is not None and n else np.nan
        if n_boot:
            idx_values = np.column_stack(
                [flipped[mask], up[mask], down[mask]]
                + ([delta] if delta is not None else [np.zeros(n)])
            ).astype(float)
            reps = np.empty((n_boot, 4))
            step = max(1, 2_000_000 // max(n, 1))
            for s in range(0, n_boot, step):
                m = min(step, n_boot - s)
                draw = rng.integers(0, n, size=(m, n))
                reps[s : s + m] = idx_values[draw].mean(axis=1)
            lo, hi = percentile_interval(reps, confidence)
            for j, name in enumerate(STATISTICS):
                out[f"{name}_lower"], out[f"{name}_upper"] = float(lo[j]), float(hi[j])
            if delta is None:
                out["mean_score_change_lower"] = out["mean_score_change_upper"] = np.nan
        else:
            for name, k in (("flip_rate", f), ("to_positive", u), ("to_negative", d)):
                lo_, hi_ = clopper_pearson(np.array([k]), np.array([float(n)]), confidence)
                out[f"{name}_lower"], out[f"{name}_upper"] = float(lo_[0]), float(hi_[0])
            if delta is not None and n > 1:
                from scipy.stats import t

                se = float(delta.std(ddof=1)) / np.sqrt(n)
                half = float(t.ppf(0.5 + confidence / 2, n - 1)) * se
                out["mean_score_change_lower"] = out["mean_score_change"] - half
                out["mean_score_change_upper"] = out["mean_score_change"] + half
            else:
                out["mean_score_change_lower"] = out["mean_score_change_upper"] = np.nan
        out["p_value"] = mcnemar_exact(u, d)
        return out

    records = [stats(pair_codes == g) for g in range(len(index))]
    order = ["count"]
    for name in STATISTICS:
        order += [name, f"{name}_lower", f"{name}_upper"]
    order.append("p_value")
    by_group = pd.DataFrame(records, index=index)[order]
    by_group["count"] = by_group["count"].astype(np.int64)
    keep = by_group["count"] > 0
    by_group = by_group[keep]
    by_group["p_value_adjusted"] = benjamini_hochberg(by_group["p_value"].to_numpy())
    overall = pd.Series(stats(np.ones(rows_cf.size, dtype=bool)))[order]
    return FlipTestResult(
        feature=tuple(columns),
        mapping=tuple(
            (a if n_cols == 1 else list(a), b if n_cols == 1 else list(b)) for a, b in switches
        ),
        by_group=by_group,
        overall=overall,
        n_rows=len(X),
        n_pairs=int(rows_cf.size),
        pos_label=pos,
        output_kind=wrapped.output_kind if scores is not None else "label",
        confidence=float(confidence),
        n_boot=int(n_boot),
        random_state=random_state if isinstance(random_state, int | None) else None,
        model=wrapped.describe(),
    )
