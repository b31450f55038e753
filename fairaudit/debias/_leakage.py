"""Post-hoc leakage probe: how well z can still be recovered from a model's outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._results import ResultMixin, get_axes, json_safe
from fairaudit._validation import (
    align_on_index,
    as_1d,
    as_generator,
    check_confidence,
    check_consistent_length,
    check_n_boot,
    check_no_missing,
    check_one_label_type,
    check_random_state,
    format_values,
)
from fairaudit.exceptions import DataError

__all__ = ["LeakageResult", "leakage"]

# y with at most this many levels is one-hot encoded for the floor's probe
_MAX_ONE_HOT_LEVELS = 20


@dataclass(frozen=True)
class LeakageResult(ResultMixin):
    """How well a fresh probe recovers z from a model's outputs on held-out rows.

    Attributes
    ----------
    auc : float
        ROC AUC of the probe on the held-out rows (macro one-vs-rest for a multi-class z).
        0.5 means the outputs reveal nothing a logistic probe can use; 1.0 means z is fully
        recoverable.
    lower, upper : float
        Percentile bootstrap interval of ``auc`` over held-out rows (NaN when ``n_boot=0``).
    chance : float
        The AUC of a probe that knows nothing (0.5).
    floor, floor_lower, floor_upper : float
        What the probe reaches without the model: ``chance`` (0.5, no interval) without ``y``;
        with ``y``, the held-out AUC of the same probe fitted on y alone (its levels one-hot
        encoded), with its bootstrap interval. Leakage is judged against this floor: with y
        given, the outputs of a perfectly debiased model still reveal what y reveals about z.
    excess, excess_lower, excess_upper : float
        ``auc - floor``, with a paired bootstrap interval (the same resampled held-out rows
        for both probes): how much the model's outputs reveal beyond the floor.
    n_train, n_test : int
        Rows used to fit the probe and to score it.
    levels : list
        The levels of z.
    conditioned_on_y : bool
        Whether the probe also saw y (the equalized-odds question: is z recoverable beyond
        what y tells?).
    n_boot : int
        Bootstrap replicates.
    confidence : float
        Level of the interval.
    parameters : dict
        Everything needed to reproduce the probe (``test_size``, ``random_state``...).
    """

    auc: float
    lower: float
    upper: float
    chance: float
    floor: float
    floor_lower: float
    floor_upper: float
    excess: float
    excess_lower: float
    excess_upper: float
    n_train: int
    n_test: int
    levels: list[Any]
    conditioned_on_y: bool
    n_boot: int
    confidence: float
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic.

        Returns
        -------
        pandas.DataFrame
            One row per statistic: ``metric`` (``"auc"``: the probe on the model's outputs;
            ``"floor"``: the probe without them, see :class:`LeakageResult`; ``"excess"``:
            their difference), ``value``, ``lower``, ``upper``, ``chance``, ``n_test``.
        """
        return pd.DataFrame(
            {
                "metric": ["auc", "floor", "excess"],
                "value": [self.auc, self.floor, self.excess],
                "lower": [self.lower, self.floor_lower, self.excess_lower],
                "upper": [self.upper, self.floor_upper, self.excess_upper],
                "chance": [self.chance] * 3,
                "n_test": [self.n_test] * 3,
            }
        )

    def _ci(self, lower: float, upper: float, *, signed: bool = False) -> str:
        if not (np.isfinite(lower) and np.isfinite(upper)):
            return ""
        fmt = "+.3f" if signed else ".3f"
        return f" ({self.confidence:.0%} CI {lower:{fmt}} to {upper:{fmt}})"

    def summary(self) -> list[str]:
        """Plain-language findings."""
        given = " and y" if self.conditioned_on_y else ""
        first = (
            f"A fresh logistic probe recovers the sensitive feature from the model's outputs"
            f"{given} with AUC {self.auc:.3f}{self._ci(self.lower, self.upper)}, "
            f"n={self.n_test:,} held-out rows"
        )
        if not self.conditioned_on_y:
            return [f"{first}; {self.chance:.1f} means no leakage."]
        floor = (
            f"From y alone the same probe reaches AUC {self.floor:.3f}"
            f"{self._ci(self.floor_lower, self.floor_upper)}: that, not {self.chance:.1f}, is the "
            "floor of a model that leaks nothing beyond y."
        )
        excess = f"The outputs add {self.excess:+.3f}"
        excess += self._ci(self.excess_lower, self.excess_upper, signed=True)
        if np.isfinite(self.excess_lower) and self.excess_lower > 0:
            excess += " beyond y: z leaks through the model's outputs."
        elif np.isfinite(self.excess_lower):
            excess += " beyond y: no leakage beyond y is detected by this probe."
        else:
            excess += " beyond y (no interval: n_boot=0)."
        return [f"{first}.", floor, excess]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dictionary with the common result keys and the statistics.

        ``auc``/``lower``/``upper``, ``chance``, ``floor``/``floor_lower``/``floor_upper``,
        ``excess``/``excess_lower``/``excess_upper``, ``levels``, ``conditioned_on_y``.
        """
        return json_safe(
            {
                "kind": "leakage",
                "schema_version": 1,
                "title": "Leakage of the sensitive feature through the model's outputs",
                "summary": self.summary(),
                "parameters": self.parameters,
                "table": self.to_frame().to_dict(orient="records"),
                "auc": self.auc,
                "lower": self.lower,
                "upper": self.upper,
                "chance": self.chance,
                "floor": self.floor,
                "floor_lower": self.floor_lower,
                "floor_upper": self.floor_upper,
                "excess": self.excess,
                "excess_lower": self.excess_lower,
                "excess_upper": self.excess_upper,
                "levels": self.levels,
                "conditioned_on_y": self.conditioned_on_y,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """Point and interval of the probe's AUC against the chance level.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new one by default.

        Returns
        -------
        matplotlib Axes
            The axes drawn on.
        """
        ax = get_axes(ax)
        err = None
        if np.isfinite(self.lower):
            err = [[self.auc - self.lower], [self.upper - self.auc]]
        ax.errorbar([self.auc], [0], xerr=err, fmt="o", capsize=4)
        ax.axvline(self.chance, linestyle="--", color="grey", label="chance")
        if self.conditioned_on_y:
            ax.axvline(self.floor, linestyle=":", color="black", label="floor (y alone)")
        ax.set_xlim(min(0.4, self.lower if np.isfinite(self.lower) else 0.4), 1.0)
        ax.set_yticks([])
        ax.set_xlabel("probe AUC for the sensitive feature")
        ax.legend()
        return ax


def _auc(z_codes: np.ndarray, proba: np.ndarray, n_levels: int) -> float:
    from sklearn.metrics import roc_auc_score

    if len(np.unique(z_codes)) < n_levels:
        return float("nan")
    if n_levels == 2:
        return float(roc_auc_score(z_codes, proba[:, 1]))
    return float(roc_auc_score(z_codes, proba, multi_class="ovr", average="macro"))


def leakage(
    scores: Any,
    z: Any,
    y: Any = None,
    *,
    test_size: float = 0.5,
    n_boot: int = 200,
    confidence: float = 0.95,
    random_state: int | np.random.Generator | None = None,
) -> LeakageResult:
    """Probe how well the sensitive feature z can be recovered from a model's outputs.

    A fresh logistic regression learns z from the scores (and y, with interactions, when
    ``y`` is given) on one part of the rows and is scored by ROC AUC on the other part. This
    is the check that adversarial debiasing removed the dependence, measured by a model the
    training never saw.

    Parameters
    ----------
    scores : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The model's outputs (logits or probabilities; the probe standardizes them).
    z : array-like of shape (n_samples,)
        Sensitive feature, categorical (two or more levels).
    y : array-like of shape (n_samples,), optional
        True labels. When given, the probe reads ``[scores, y, scores * y]``: the leakage
        beyond what y explains (the equalized-odds question). A second probe, fitted on y
        alone on the same rows, gives the ``floor`` this AUC is judged against (y itself
        reveals z when base rates differ), and ``excess`` is the difference.
    test_size : float, default=0.5
        Share of rows held out to score the probe (split stratified by z).
    n_boot : int, default=200
        Bootstrap replicates of the held-out rows for the interval; 0 for none.
    confidence : float, default=0.95
        Level of the interval.
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the split and the bootstrap.

    Returns
    -------
    LeakageResult
        ``auc`` with ``lower``/``upper``, the ``floor`` it is judged against and the ``excess``
        over it (each with an interval), ``n_train``, ``n_test`` and the parameters.

    Notes
    -----
    A logistic probe detects monotone dependence. An AUC near 0.5 says that this probe
    cannot recover z, not that no model could. With ``y`` given, 0.5 is not the baseline: on
    Adult, y alone recovers sex with AUC about 0.6, so a debiased model's outputs plus y
    reaching 0.6 leak nothing beyond y. The result reports that floor (same split, same
    probe, y alone) and judges ``excess = auc - floor`` with a paired bootstrap interval.

    pandas inputs (``scores``, ``z``, ``y``) are paired on their index labels (an index with
    other labels is refused); arrays and lists pair by position.

    Examples
    --------
    >>> import numpy as np
    >>> from fairaudit.debias import leakage
    >>> rng = np.random.default_rng(0)
    >>> z = rng.integers(0, 2, 2000)
    >>> leaky = leakage(z + rng.normal(size=2000), z, random_state=0)
    >>> leaky.auc > 0.7
    True
    >>> clean = leakage(rng.normal(size=2000), z, random_state=0)
    >>> abs(clean.auc - 0.5) < 0.05
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    aligned = align_on_index(scores=scores, z=z, y=y)
    scores, z, y = aligned["scores"], aligned["z"], aligned["y"]
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    random_state = check_random_state(random_state)
    if (
        isinstance(test_size, bool)
        or not isinstance(test_size, float | int)
        or not 0 < test_size < 1
    ):
        raise ValueError(f"test_size must be a share in (0, 1), got {test_size!r}; e.g. 0.5.")
    s = (
        np.asarray(scores, dtype=np.float64)
        if not isinstance(scores, pd.DataFrame)
        else (scores.to_numpy(dtype=np.float64))
    )
    if s.ndim == 1:
        s = s[:, None]
    if s.ndim != 2:
        raise DataError(f"scores must be 1- or 2-dimensional, got shape {s.shape}.")
    if not np.isfinite(s).all():
        bad = np.flatnonzero(~np.isfinite(s).all(axis=1))
        raise DataError(
            f"scores has missing or infinite values at rows {format_values(bad)}; "
            "remove those rows."
        )
    zs = as_1d(z, name="z")
    check_consistent_length(scores=s, z=zs, y=None if y is None else as_1d(y, name="y"))
    check_no_missing(zs, name="z")
    check_one_label_type(zs, name="z")
    if pd.api.types.is_float_dtype(zs.dtype):
        values = zs.to_numpy(dtype=np.float64)
        if not np.all(values == np.round(values)):
            raise DataError(
                "z must be categorical, got floats with non-integer values; bin a continuous "
                "z first, e.g. pd.qcut(z, 4, labels=False)."
            )
    levels, codes = np.unique(zs.to_numpy(dtype=object).astype(str), return_inverse=True)
    if len(levels) < 2:
        raise DataError(f"z has a single level {format_values(levels)}; it needs two or more.")
    features = s
    y_alone = None
    if y is not None:
        ys = as_1d(y, name="y")
        check_no_missing(ys, name="y")
        yv = pd.to_numeric(ys, errors="raise").to_numpy(dtype=np.float64)
        features = np.column_stack([s, yv, s * yv[:, None]])
        y_levels, y_codes = np.unique(yv, return_inverse=True)
        # the floor's probe sees y alone: P(z | y) per level when y has few levels
        y_alone = (
            np.eye(len(y_levels))[y_codes][:, 1:]
            if len(y_levels) <= _MAX_ONE_HOT_LEVELS
            else yv[:, None]
        )
        features = np.column_stack([features, y_alone])
    rng = as_generator(random_state)
    seed = int(rng.integers(2**31 - 1))
    try:
        f_tr, f_te, z_tr, z_te = train_test_split(
            features, codes, test_size=test_size, stratify=codes, random_state=seed
        )
    except ValueError as exc:
        raise DataError(
            f"z needs at least two rows per level to hold some out; got counts "
            f"{format_values(np.bincount(codes).tolist())}."
        ) from exc
    n_model = features.shape[1] - (0 if y_alone is None else y_alone.shape[1])
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probe.fit(f_tr[:, :n_model], z_tr)
    proba = probe.predict_proba(f_te[:, :n_model])
    n_levels = len(levels)
    auc = _auc(z_te, proba, n_levels)
    floor_proba = None
    floor = 0.5
    if y_alone is not None:
        floor_probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        floor_probe.fit(f_tr[:, n_model:], z_tr)
        floor_proba = floor_probe.predict_proba(f_te[:, n_model:])
        floor = _auc(z_te, floor_proba, n_levels)
    nan = float("nan")
    lower = upper = floor_lower = floor_upper = excess_lower = excess_upper = nan
    if n_boot:
        reps = []
        n_te = len(z_te)
        for _ in range(int(n_boot)):
            idx = rng.integers(0, n_te, n_te)
            value = _auc(z_te[idx], proba[idx], n_levels)
            base = 0.5 if floor_proba is None else _auc(z_te[idx], floor_proba[idx], n_levels)
            if np.isfinite(value) and np.isfinite(base):
                reps.append((value, base, value - base))
        if reps:
            tail = (1.0 - confidence) / 2.0
            q = np.quantile(np.asarray(reps), [tail, 1.0 - tail], axis=0)
            lower, upper = float(q[0, 0]), float(q[1, 0])
            excess_lower, excess_upper = float(q[0, 2]), float(q[1, 2])
            if floor_proba is not None:
                floor_lower, floor_upper = float(q[0, 1]), float(q[1, 1])
    original = {str(v): v for v in pd.unique(zs)}
    return LeakageResult(
        auc=auc,
        lower=lower,
        upper=upper,
        chance=0.5,
        floor=floor,
        floor_lower=floor_lower,
        floor_upper=floor_upper,
        excess=auc - floor,
        excess_lower=excess_lower,
        excess_upper=excess_upper,
        n_train=len(z_tr),
        n_test=len(z_te),
        levels=[original[lv] for lv in levels],
        conditioned_on_y=y is not None,
        n_boot=int(n_boot),
        confidence=float(confidence),
        parameters={
            "test_size": test_size,
            "n_boot": int(n_boot),
            "confidence": confidence,
            "random_state": random_state if isinstance(random_state, int | None) else "generator",
            "probe": "StandardScaler + LogisticRegression",
        },
    )
