"""The result of :func:`fairaudit.orthogonal_importance`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe, plot_text

__all__ = ["OrthogonalImportance"]


def _fmt(value: float) -> str:
    return "nan" if not math.isfinite(value) else f"{value:.3g}"


@dataclass(frozen=True)
class OrthogonalImportance(ResultMixin):
    """Direct and total dependence of a model's output on each input.

    Attributes
    ----------
    total : pandas.Series
        Total dependence per feature (index named ``"feature"``): the output change when the
        feature is perturbed and every other numeric input is orthogonalized to it, times the
        sign of the effect where the feature has a direction (see ``table["sign"]``).
    direct : pandas.Series
        Direct dependence per feature: the output change when only the feature is perturbed
        (non-negative).
    table : pandas.DataFrame
        The long format of :meth:`to_frame`.
    repeats : pandas.DataFrame
        One row per feature, dependence and repeat: ``feature, dependence, repeat, value``.
    features : mapping of str to tuple of str
        Each audited feature and the input columns it stands for (several for a group).
    strategy, output : str
        The perturbation strategy and the compared output (``"score"`` or ``"label"``).
    n_repeats, n_boot : int
        Repeats asked for, and bootstrap replicates used (0 when none).
    confidence : float
        Level of the intervals.
    fairml_compat : bool
        Whether the fairml package's arithmetic was reproduced.
    random_state : int or None
        The seed, when an int was given.
    n_samples, n_model_calls, n_rows_predicted : int
        Rows of X; calls made to the model and rows scored in all (baseline included).
    notes : tuple of str
        Things to know when reading the numbers (constant columns, categorical columns).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import fairaudit as fa
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    >>> model = fa.wrap(lambda X: np.asarray(X)[:, 0], task="regression")
    >>> imp = fa.orthogonal_importance(model, X, n_boot=0)
    >>> imp.to_frame()[["feature", "dependence", "value", "sign"]]
      feature dependence  value  sign
    0       a      total   1.25   1.0
    1       a     direct   1.25   1.0
    2       b      total   0.25  -1.0
    3       b     direct   0.00   1.0
    """

    total: pd.Series
    direct: pd.Series
    table: pd.DataFrame
    repeats: pd.DataFrame
    features: Mapping[str, tuple[str, ...]]
    strategy: str
    output: str
    n_repeats: int
    n_boot: int
    confidence: float
    fairml_compat: bool
    random_state: int | None
    n_samples: int
    n_model_calls: int
    n_rows_predicted: int
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Return the long table, two rows per feature.

        Returns
        -------
        pandas.DataFrame
            Columns: ``feature``; ``dependence`` (``"total"`` or ``"direct"``); ``value`` (the
            dependence, non-negative: mean over repeats of the mean squared output change, or
            of the share of flipped labels); ``lower``, ``upper`` (percentile interval at
            ``confidence``; NaN when none was computed); ``sign`` (+1.0 if the output rises
            with the feature, -1.0 if it falls, NaN when the feature has no single direction);
            ``columns`` (the input columns of the feature, comma-separated).
        """
        return self.table.copy()

    def indirect_ratio(self) -> pd.Series:
        """Total over direct dependence per feature (inf when the direct one is zero).

        Returns
        -------
        pandas.Series
            ``|total| / direct``, indexed by feature. Large values mean the model depends on
            the feature mostly through correlated inputs.
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.total.abs() / self.direct
        return ratio.rename("indirect_ratio")

    def _summary(self) -> list[str]:
        pct = f"{round(self.confidence * 100):g}%"
        tot = self.table[self.table["dependence"] == "total"].set_index("feature")
        direct = self.table[self.table["dependence"] == "direct"].set_index("feature")
        order = tot["value"].sort_values(ascending=False, kind="stable").index
        unit = "mean squared score change" if self.output == "score" else "share of flipped labels"
        lines: list[str] = []
        parts = []
        for name in order[:3]:
            row = tot.loc[name]
            ci = (
                f", {pct} CI {_fmt(row['lower'])}-{_fmt(row['upper'])}"
                if math.isfinite(row["lower"])
                else ""
            )
            arrow = {1.0: ", output rises with it", -1.0: ", output falls with it"}.get(
                row["sign"], ""
            )
            parts.append(f"{name} ({_fmt(row['value'])}{ci}{arrow})")
        if parts:
            lines.append(f"Largest total dependence ({unit}): " + "; ".join(parts) + ".")
        top = float(tot["value"].max()) if len(tot) else 0.0
        for name in order:
            t, d = float(tot.loc[name, "value"]), float(direct.loc[name, "value"])
            if top > 0 and t >= 0.05 * top and t > 2 * d:
                lines.append(
                    f"{name}: total dependence {_fmt(t)} is "
                    + (f"{t / d:.1f} times" if d > 0 else "far above")
                    + f" its direct dependence {_fmt(d)}: the model depends on it mostly "
                    "through correlated inputs."
                )
        lines.extend(self.notes)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict with the common result keys.

        Returns
        -------
        dict
            ``kind`` (``"orthogonal_importance"``), ``schema_version``, ``title``, ``summary``,
            ``parameters``, ``table`` (records of :meth:`to_frame`), and ``total``, ``direct``
            ({feature: value}), ``features`` ({feature: [columns]}), ``notes``,
            ``n_samples``, ``n_model_calls``, ``n_rows_predicted``.
        """
        return json_safe(
            {
                "kind": "orthogonal_importance",
                "schema_version": 1,
                "title": "Orthogonal dependence of the model output on its inputs"
                + (" (fairml arithmetic)" if self.fairml_compat else ""),
                "summary": self._summary(),
                "parameters": {
                    "strategy": self.strategy,
                    "output": self.output,
                    "n_repeats": self.n_repeats,
                    "n_boot": self.n_boot,
                    "confidence": self.confidence,
                    "fairml_compat": self.fairml_compat,
                    "random_state": self.random_state,
                },
                "table": self.table.to_dict(orient="records"),
                "total": self.total.to_dict(),
                "direct": self.direct.to_dict(),
                "features": {k: list(v) for k, v in self.features.items()},
                "notes": list(self.notes),
                "n_samples": self.n_samples,
                "n_model_calls": self.n_model_calls,
                "n_rows_predicted": self.n_rows_predicted,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Horizontal bars of total and direct dependence per feature, with intervals.

        Total dependence is drawn with its sign (left: the output falls as the feature grows);
        direct dependence is drawn on the same side. Returns the matplotlib Axes.
        """
        ax = get_axes(ax)
        tot = self.table[self.table["dependence"] == "total"].set_index("feature")
        direct = self.table[self.table["dependence"] == "direct"].set_index("feature")
        order = list(tot["value"].sort_values(kind="stable").index)
        y = np.arange(len(order))
        sign = tot.loc[order, "sign"].fillna(1.0).to_numpy()
        height = 0.4
        for offset, frame, label, colour in (
            (height / 2, tot, "total", "#1f77b4"),
            (-height / 2, direct, "direct", "#ff7f0e"),
        ):
            value = frame.loc[order, "value"].to_numpy() * sign
            lower = frame.loc[order, "lower"].to_numpy() * sign
            upper = frame.loc[order, "upper"].to_numpy() * sign
            err = np.vstack([np.abs(value - lower), np.abs(upper - value)])
            xerr = None if np.isnan(err).all() else np.nan_to_num(err)
            ax.barh(y + offset, value, height=height, xerr=xerr, label=label, color=colour)
        ax.set_yticks(y)
        ax.set_yticklabels([plot_text(f) for f in order])
        ax.axvline(0.0, color="black", linewidth=0.8)
        unit = "mean squared score change" if self.output == "score" else "share of flipped labels"
        ax.set_xlabel(f"dependence ({unit}); sign = direction of the effect")
        ax.set_title(
            "Orthogonal dependence" + (" (fairml arithmetic)" if self.fairml_compat else "")
        )
        ax.legend(loc="lower right")
        return ax
