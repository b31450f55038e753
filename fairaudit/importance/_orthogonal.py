"""FairML-style orthogonal dependence audit (Adebayo & Kagal 2016), computed in batches.

For each input unit u (a column, a categorical column, or a block of columns given in
``groups``) and each repeat, two perturbed copies of X are scored by the model:

- *direct*: u's columns replaced by the perturbation, everything else unchanged;
- *total*: the same, and every other numeric column z_k replaced by
  ``z_k - (B_u - mean(B_u)) @ beta_k`` where ``beta_k`` is the least-squares coefficient of z_k
  on u's basis ``B_u`` (its numeric columns and the one-hot block of its categorical columns).
  The other columns then carry no linear information about u, and keep their means.

Only rows that a perturbation actually changes are sent to the model (unchanged rows have the
baseline output), and the perturbed rows of many copies are stacked into batches bounded by a
memory budget, so the model is called a few times per feature instead of row by row.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairaudit._validation import (
    MAX_ARRAY_BYTES,
    as_generator,
    check_confidence,
    check_count,
    check_memory,
    check_n_boot,
    check_random_state,
    format_values,
)
from fairaudit.exceptions import DataError, ModelError
from fairaudit.importance._encoding import EncodedFrame, encode_frame
from fairaudit.importance._result import OrthogonalImportance
from fairaudit.models import wrap

__all__ = ["STRATEGIES", "orthogonal_importance"]

logger = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = ("constant-median", "constant-zero", "random-sample", "permutation")
_RANDOM_STRATEGIES = frozenset({"random-sample", "permutation"})
_DEFAULT_MAX_BATCH_BYTES = 64 * 2**20


@dataclass
class _Unit:
    name: str
    columns: tuple[str, ...]
    num: np.ndarray  # positions in EncodedFrame.Z
    cat: np.ndarray  # positions in EncodedFrame.codes
    constant: bool = False


@dataclass
class _Task:
    unit: int
    kind: str  # "direct" | "total" | "sign"
    repeat: int
    rows: np.ndarray
    num_const: np.ndarray | None = None
    cat_const: np.ndarray | None = None
    src: np.ndarray | None = None  # row permutation giving the unit's new values
    basis: np.ndarray | None = None  # (n, k) centred (or, in compat mode, raw) basis
    coef: np.ndarray | None = None  # (k, n_numeric) projection coefficients
    shift: float = 0.0  # compat sign: added to the unit's column


@dataclass
class _Accumulator:
    n_samples: int
    n_boot: int
    n_eval: int
    sum_d: dict[tuple[int, str, int], float] = field(default_factory=dict)
    boot: dict[tuple[int, str], np.ndarray] = field(default_factory=dict)
    direction: dict[tuple[int, str], float] = field(default_factory=dict)


def _check_strategy(strategy: str | None, fairml_compat: bool) -> str:
    if strategy is None:
        return "constant-zero" if fairml_compat else "constant-median"
    if not isinstance(strategy, str):
        raise TypeError(f"strategy must be a str, got {type(strategy).__name__}.")
    if strategy not in STRATEGIES:
        raise ValueError(
            f"strategy must be one of {', '.join(repr(s) for s in STRATEGIES)}, got {strategy!r}."
        )
    if fairml_compat and strategy != "constant-zero":
        raise ValueError(
            f"fairml_compat=True reproduces the fairml package, which always replaces the column "
            f"by zero whatever strategy it is given; got strategy={strategy!r}. Leave strategy "
            "unset (or 'constant-zero') with fairml_compat=True."
        )
    return strategy


def _build_units(
    enc: EncodedFrame, groups: Mapping[str, Sequence[str]] | None, fairml_compat: bool
) -> list[_Unit]:
    num_pos = {c: i for i, c in enumerate(enc.numeric)}
    cat_pos = {c: i for i, c in enumerate(enc.categorical)}
    grouped: dict[str, str] = {}
    group_units: dict[str, _Unit] = {}
    if groups is not None:
        if not isinstance(groups, Mapping):
            raise TypeError(
                f"groups must be a mapping {{name: [columns]}}, got {type(groups).__name__}."
            )
        if fairml_compat and groups:
            raise ValueError(
                "groups cannot be combined with fairml_compat=True: the fairml package audits "
                "single columns only. Drop groups or fairml_compat."
            )
        for name, cols in groups.items():
            if isinstance(cols, str) or not isinstance(cols, Sequence | pd.Index | np.ndarray):
                raise TypeError(
                    f"groups[{name!r}] must be a list of column names, got {type(cols).__name__}."
                )
            cols = [str(c) for c in cols]
            if not cols:
                raise DataError(f"groups[{name!r}] is empty; list at least one column of X.")
            missing = [c for c in cols if c not in num_pos and c not in cat_pos]
            if missing:
                raise DataError(
                    f"groups[{name!r}] names column(s) {format_values(missing)} that are not in X; "
                    f"X has columns {format_values(enc.columns)}."
                )
            twice = [c for c in cols if c in grouped]
            if twice:
                raise DataError(
                    f"column(s) {format_values(twice)} appear in groups {grouped[twice[0]]!r} and "
                    f"{name!r}; put each column in one group at most."
                )
            if str(name) in enc.columns and [str(name)] != cols:
                raise DataError(
                    f"groups name {name!r} is also a column of X not in that group; rename it."
                )
            for c in cols:
                grouped[c] = str(name)
            group_units[str(name)] = _Unit(
                name=str(name),
                columns=tuple(cols),
                num=np.array([num_pos[c] for c in cols if c in num_pos], dtype=np.intp),
                cat=np.array([cat_pos[c] for c in cols if c in cat_pos], dtype=np.intp),
            )
    if fairml_compat and enc.categorical:
        raise DataError(
            f"fairml_compat=True needs numeric columns only (as the fairml package), but X has "
            f"categorical column(s) {format_values(enc.categorical)}; encode them first or use "
            "the default mode."
        )
    units: list[_Unit] = []
    seen: set[str] = set()
    for col in enc.columns:
        if col in grouped:
            name = grouped[col]
            if name not in seen:
                seen.add(name)
                units.append(group_units[name])
            continue
        units.append(
            _Unit(
                name=col,
                columns=(col,),
                num=np.array([num_pos[col]] if col in num_pos else [], dtype=np.intp),
                cat=np.array([cat_pos[col]] if col in cat_pos else [], dtype=np.intp),
            )
        )
    for unit in units:
        num_const = all(_numerically_constant(enc.Z[:, j]) for j in unit.num)
        cat_const = all(np.all(enc.codes[:, k] == enc.codes[0, k]) for k in unit.cat)
        unit.constant = bool(num_const and cat_const)
    return units


def _numerically_constant(x: np.ndarray) -> bool:
    """Tell whether a column's spread is zero, at the rounding level, or subnormal.

    Such a column carries no usable direction to project on: inverting its (tiny) Gram entry
    would overflow (Hypothesis found a column of 0 and 5e-324).
    """
    spread = float(np.ptp(x))
    if spread == 0.0:
        return True
    centred = x - x.mean()
    tiny = np.finfo(np.float64).tiny
    eps = np.finfo(np.float64).eps
    return bool(float(centred @ centred) < tiny or spread <= 4 * eps * float(np.abs(x).max()))


def _basis(enc: EncodedFrame, unit: _Unit, centred: bool) -> np.ndarray:
    parts = [enc.Z[:, unit.num]] + [enc.onehot(k) for k in unit.cat]
    basis = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
    if centred:
        basis = basis - basis.mean(axis=0)
    return basis


def _coefficients(
    enc: EncodedFrame, unit: _Unit, basis: np.ndarray, gram_all: np.ndarray
) -> np.ndarray:
    """Least-squares coefficients (k, n_numeric) of every numeric column on the basis.

    ``gram_all`` is the (centred, or in compat mode raw) Gram matrix of the numeric columns,
    computed once: for a single numeric column its row is all that is needed.
    """
    if unit.num.size == 1 and unit.cat.size == 0:
        j = int(unit.num[0])
        gram = gram_all[j : j + 1, j : j + 1]
        cross = gram_all[j : j + 1, :]
    else:
        gram = basis.T @ basis
        cross = basis.T @ enc.Z  # the basis is centred, so this is its covariance with Z
    # pinv: one-hot blocks are rank-deficient after centring, constant columns have zero norm.
    coef = np.linalg.pinv(gram, rcond=1e-10, hermitian=True) @ cross
    coef[:, unit.num] = 0.0  # the unit's own columns are replaced, not projected
    return coef


def _perturbation(
    enc: EncodedFrame, unit: _Unit, strategy: str, rng: np.random.Generator
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(numeric constants, categorical constants, row source) for one repeat."""
    n = enc.Z.shape[0]
    if strategy == "permutation":
        return None, None, rng.permutation(n)
    if strategy == "random-sample":
        row = int(rng.integers(n))
        return enc.Z[row, unit.num].copy(), enc.codes[row, unit.cat].copy(), None
    if strategy == "constant-zero":
        if unit.cat.size:
            names = [enc.categorical[k] for k in unit.cat]
            raise DataError(
                f"strategy='constant-zero' is not defined for categorical column(s) "
                f"{format_values(names)} (feature {unit.name!r}); use 'constant-median' (their "
                "most frequent category), 'random-sample' or 'permutation'."
            )
        return np.zeros(unit.num.size), np.zeros(0, dtype=np.int32), None
    # constant-median: median of numeric columns, most frequent category of categorical ones
    num = np.median(enc.Z[:, unit.num], axis=0) if unit.num.size else np.zeros(0)
    cat = np.array(
        [np.bincount(enc.codes[:, k], minlength=len(enc.levels[k])).argmax() for k in unit.cat],
        dtype=np.int32,
    )
    return num, cat, None


def _changed_rows(enc: EncodedFrame, unit: _Unit, task: _Task) -> np.ndarray:
    own_num = enc.Z[:, unit.num]
    own_cat = enc.codes[:, unit.cat]
    n = enc.Z.shape[0]
    if task.kind == "sign":
        return np.arange(n) if task.shift != 0 else np.zeros(0, dtype=np.intp)
    if task.src is not None:
        changed = (own_num[task.src] != own_num).any(axis=1) | (own_cat[task.src] != own_cat).any(
            axis=1
        )
    else:
        changed = (own_num != task.num_const).any(axis=1) | (own_cat != task.cat_const).any(axis=1)
    if task.kind == "total" and task.coef is not None and np.any(task.coef):
        assert task.basis is not None
        changed |= (task.basis != 0).any(axis=1)
    return np.flatnonzero(changed)


def _fill(
    enc: EncodedFrame, unit: _Unit, task: _Task, rows: np.ndarray, num: np.ndarray, cat: np.ndarray
) -> None:
    """Write the perturbed version of ``rows`` into ``num`` and ``cat`` (preallocated)."""
    # mode="clip" (rows are valid): numpy buffers take(out=...) in the default "raise" mode
    np.take(enc.Z, rows, axis=0, out=num, mode="clip")
    np.take(enc.codes, rows, axis=0, out=cat, mode="clip")
    if task.kind == "sign":
        num[:, unit.num] += task.shift
        return
    if task.kind == "total" and task.coef is not None:
        assert task.basis is not None
        num -= task.basis[rows] @ task.coef
    if task.src is not None:
        src = task.src[rows]
        if unit.num.size:
            num[:, unit.num] = enc.Z[np.ix_(src, unit.num)]
        if unit.cat.size:
            cat[:, unit.cat] = enc.codes[np.ix_(src, unit.cat)]
    else:
        if unit.num.size:
            num[:, unit.num] = task.num_const
        if unit.cat.size:
            cat[:, unit.cat] = task.cat_const


class _Scorer:
    """Calls the model on stacked perturbed rows and accumulates distances per task."""

    def __init__(
        self,
        enc: EncodedFrame,
        units: list[_Unit],
        predict: Callable[[Any], np.ndarray],
        baseline: np.ndarray,
        output: str,
        fairml_compat: bool,
        weights: np.ndarray | None,
        acc: _Accumulator,
        capacity: int,
        strategy: str,
    ) -> None:
        self.enc, self.units, self.predict = enc, units, predict
        self.y0 = baseline
        self.output = output
        self.fairml_compat = fairml_compat
        self.weights = weights
        self.acc = acc
        self.capacity = capacity
        self.strategy = strategy
        self.numeric_output = baseline.dtype.kind in "biuf"
        self.num_buf = np.empty((capacity, enc.Z.shape[1]))
        self.cat_buf = np.empty((capacity, enc.codes.shape[1]), dtype=np.int32)
        self.fill = 0
        self.segments: list[tuple[_Task, np.ndarray, int, int]] = []
        self.n_calls = 0
        self.n_rows = 0
        self.pending: dict[tuple[int, str, int], int] = {}
        self.pending_d = np.empty(
            (enc.Z.shape[0], 16 if weights is not None else 0), dtype=np.float32, order="F"
        )

    def add(self, task: _Task) -> None:
        rows = task.rows
        start = 0
        while start < rows.size:
            room = self.capacity - self.fill
            if room == 0:
                self.flush()
                continue
            chunk = rows[start : start + room]
            s, e = self.fill, self.fill + chunk.size
            _fill(
                self.enc,
                self.units[task.unit],
                task,
                chunk,
                self.num_buf[s:e],
                self.cat_buf[s:e],
            )
            self.segments.append((task, chunk, s, e))
            self.fill = e
            start += chunk.size

    def _call(self, num: np.ndarray, cat: np.ndarray) -> np.ndarray:
        out = np.asarray(self.predict(self.enc.build(num, cat)))
        if out.shape[:1] != (num.shape[0],):
            raise ModelError(
                f"the model returned {out.shape[0] if out.ndim else 'a scalar'} outputs for "
                f"{num.shape[0]} rows; it must return one output per row."
            )
        return out

    def flush(self) -> None:
        if not self.fill:
            return
        num, cat = self.num_buf[: self.fill], self.cat_buf[: self.fill]
        try:
            out = self._call(num, cat)
        except Exception as exc:
            self._blame(exc)
            raise  # pragma: no cover - _blame always raises
        self.n_calls += 1
        self.n_rows += self.fill
        if out.dtype.kind in "fc" and not np.all(np.isfinite(out)):
            bad = np.flatnonzero(~np.isfinite(out).reshape(out.shape[0], -1).all(axis=1))
            task = next(t for t, _, s, e in self.segments if s <= bad[0] < e)
            raise ModelError(
                f"the model returned NaN or infinite outputs on X with feature "
                f"{self.units[task.unit].name!r} perturbed ({task.kind} dependence, strategy="
                f"{self.strategy!r}); it must give finite outputs for every input row."
            )
        for task, rows, s, e in self.segments:
            self._accumulate(task, rows, out[s:e])
        self.fill = 0
        self.segments = []

    def flush_bootstrap(self) -> None:
        """Add the pending tasks' distances to their bootstrap replicates."""
        if not self.pending or self.weights is None:
            return
        acc = self.acc
        sums = self.weights @ self.pending_d[:, : len(self.pending)]  # (n_boot, n_pending)
        for (u, kind, r), col in self.pending.items():
            boot = acc.boot.setdefault((u, kind), np.zeros(acc.n_boot))
            boot[r :: acc.n_eval] += sums[r :: acc.n_eval, col]
        self.pending = {}

    def _blame(self, exc: Exception) -> None:
        """Find which perturbed feature makes the model raise, and say so."""
        for task, _rows, s, e in self.segments:
            try:
                self._call(self.num_buf[s:e], self.cat_buf[s:e])
            except Exception as inner:
                unit = self.units[task.unit]
                what = (
                    "the column shifted by its range"
                    if task.kind == "sign"
                    else (f"{task.kind} dependence, strategy={self.strategy!r}")
                )
                raise ModelError(
                    f"the model raised {type(inner).__name__} on X with feature {unit.name!r} "
                    f"perturbed ({what}): {inner}. The audit feeds the model values it may not "
                    "have seen (perturbed and orthogonalized columns, as float64); try another "
                    "strategy, or put the columns in a group."
                ) from inner
        raise ModelError(f"the model raised {type(exc).__name__} on perturbed data: {exc}") from exc

    def _accumulate(self, task: _Task, rows: np.ndarray, y: np.ndarray) -> None:
        y0 = self.y0[rows]
        acc = self.acc
        delta: np.ndarray | None = None
        if self.numeric_output:
            diff = y.astype(np.float64) - y0.astype(np.float64)
            if diff.ndim == 1:
                delta = diff
        if self.output == "label" and not (self.fairml_compat and self.numeric_output):
            d = (y != y0).reshape(rows.size, -1).any(axis=1).astype(np.float64)
        else:
            assert self.numeric_output
            d = np.square(diff).reshape(rows.size, -1).sum(axis=1)
        unit = self.units[task.unit]
        if task.kind == "sign":
            key = (task.unit, "sign")
            acc.direction[key] = acc.direction.get(key, 0.0) + (
                float(delta.sum()) if delta is not None else 0.0
            )
            return
        key3 = (task.unit, task.kind, task.repeat)
        acc.sum_d[key3] = acc.sum_d.get(key3, 0.0) + float(d.sum())
        if self.weights is not None:
            # per-row distances of pending tasks are columns of a float32 matrix; the bootstrap
            # is then one matrix product with the replicate counts for many tasks at once
            col = self.pending.get(key3)
            if col is None:
                if len(self.pending) == self.pending_d.shape[1]:
                    self.flush_bootstrap()
                col = self.pending[key3] = len(self.pending)
                self.pending_d[:, col] = 0.0
            self.pending_d[rows, col] = d
        if (
            delta is not None
            and unit.num.size == 1
            and unit.cat.size == 0
            and not self.fairml_compat
        ):
            j = int(unit.num[0])
            new = task.src[rows] if task.src is not None else None
            x_new = self.enc.Z[new, j] if new is not None else task.num_const[0]  # type: ignore[index]
            dx = x_new - self.enc.Z[rows, j]
            key2 = (task.unit, task.kind)
            acc.direction[key2] = acc.direction.get(key2, 0.0) + float(dx @ delta)


def _bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Row-resampling counts (n_boot, n): how often each row is drawn in each replicate."""
    weights = np.empty((n_boot, n), dtype=np.float32)
    for b in range(n_boot):
        weights[b] = np.bincount(rng.integers(0, n, size=n), minlength=n)
    return weights


def _progress_bar(progress: bool | None, total: int) -> Any:
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)()) and total > 20
        if progress:
            try:
                import tqdm.auto as tqdm_auto
            except ImportError:
                return None
            return tqdm_auto.tqdm(total=total, desc="orthogonal_importance", unit="feature")
        return None
    if not progress:
        return None
    from fairaudit._optional import import_optional

    tqdm_auto = import_optional("tqdm.auto", purpose="progress=True")
    return tqdm_auto.tqdm(total=total, desc="orthogonal_importance", unit="feature")


def orthogonal_importance(
    model: Any,
    X: Any,
    *,
    n_repeats: int = 10,
    strategy: str | None = None,
    output: Literal["score", "label"] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    fairml_compat: bool = False,
    n_boot: int = 200,
    confidence: float = 0.95,
    max_batch_bytes: int = _DEFAULT_MAX_BATCH_BYTES,
    progress: bool | None = None,
    random_state: int | np.random.Generator | None = None,
) -> OrthogonalImportance:
    """Measure how much a model's output depends on each input, directly and in total.

    For each feature, the feature is replaced by a perturbation and the change in the model's
    output is measured twice: with the other inputs unchanged (*direct* dependence), and with
    every other numeric input stripped of its linear dependence on the feature, so that no
    correlated input can carry the feature's information back in (*total* dependence). A
    feature the model never reads can have zero direct and a large total dependence: the model
    depends on it through proxies.

    Parameters
    ----------
    model : estimator, pipeline or callable
        Anything :func:`fairaudit.wrap` accepts.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The inputs, as the model takes them. Numeric columns are perturbed and orthogonalized;
        categorical columns (category, object, string or bool dtype) are perturbed by assigning
        categories and act as projectors through their one-hot block (see Notes).
    n_repeats : int, default=10
        Perturbation draws for the random strategies (``"random-sample"``, ``"permutation"``).
        The constant strategies give identical repeats and are evaluated once. With
        ``fairml_compat=True`` this is fairml's ``number_of_runs`` (also identical runs).
    strategy : {"constant-median", "constant-zero", "random-sample", "permutation"}, optional
        What replaces the feature: its median (the most frequent category for categorical
        columns); zero; one value drawn at random from its own values (the same for every row);
        or a random permutation of its values. Default ``"constant-median"``, or
        ``"constant-zero"`` with ``fairml_compat=True`` (the only one fairml applies).
    output : {"score", "label"}, optional
        What is compared: ``"score"`` the mean squared change of ``predict_score`` (summed over
        classes for multiclass), ``"label"`` the share of rows whose predicted label changes.
        Default: ``"score"`` when the wrapped model gives scores, else ``"label"``.
    groups : mapping of str to list of str, optional
        Blocks of columns audited as one input, e.g. ``{"race": ["African_American", "Asian",
        ...]}``: the block is perturbed together (row-wise for the random strategies) and the
        other columns are projected off its span. The block's name replaces its columns.
    fairml_compat : bool, default=False
        Reproduce the arithmetic of the fairml package (see Notes), in float64.
    n_boot : int, default=200
        Row-bootstrap replicates for the intervals (0: no bootstrap; then intervals come from
        the spread over repeats for random strategies and are NaN otherwise). Not used with
        ``fairml_compat=True``.
    confidence : float, default=0.95
        Level of the percentile intervals.
    max_batch_bytes : int, default=64 MiB
        Memory budget for one stacked batch of perturbed rows sent to the model.
    progress : bool, optional
        Show a tqdm progress bar (needs ``tqdm``). Default: only when stderr is a terminal.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the perturbation draws and of the bootstrap.

    Returns
    -------
    OrthogonalImportance
        ``total`` (signed) and ``direct`` dependence per feature, intervals, the per-repeat
        values and the notes; see :class:`OrthogonalImportance`.

    Raises
    ------
    MissingValueError
        X has missing or infinite values (the message names the columns).
    DataError
        Fewer than two rows; a group naming missing columns; ``constant-zero`` on a categorical
        column; categorical columns with ``fairml_compat=True``.
    ModelError
        The model raises or returns NaN on perturbed data (the message names the feature and
        the strategy).
    ValueError
        Unknown ``strategy`` or ``output``, or bad numeric arguments.

    Notes
    -----
    Distances. With scores, the dependence is ``mean_i (f(x_i') - f(x_i))**2``; with labels,
    the share of rows with ``label(x_i') != label(x_i)``. The mean is over all rows.

    Orthogonalization (default mode). For a feature with basis ``B`` (its column, its one-hot
    block, or its group's columns), every other numeric column becomes
    ``z - (B - mean(B)) @ beta`` with ``beta`` the least-squares coefficients of ``z`` on
    ``[1, B]``: the column keeps its mean, and its sample covariance with every column of ``B``
    is zero. Categorical columns other than the perturbed one cannot be orthogonalized and are
    left as they are; information they share with the feature still reaches the model (a note
    says so when it applies).

    Sign. ``total`` carries the direction of the output change as the feature grows:
    ``sign(sum_i (x_ij' - x_ij) * (f(x_i') - f(x_i)))`` over the perturbed copies, so no extra
    model call is needed. Blocks, categorical columns and multiclass outputs have no single
    direction; their ``total`` is the unsigned magnitude and their sign is NaN.

    Intervals. Percentile intervals over ``n_boot`` replicates, each resampling rows with
    replacement (and, for random strategies, using repeat ``b mod n_repeats``). The projection
    coefficients are held at their full-sample values.

    fairml compatibility. ``fairml_compat=True`` follows the fairml package (0.1.1.x,
    ``audit_model``): the column is set to zero; every other column ``z`` becomes
    ``z - (v.z / v.v) v`` with ``v`` the original column (no centring, so unless the column
    has mean zero, the other columns keep a correlation with it); the distance is the mean
    squared difference of the outputs (for 0/1 labels: the share of flipped labels); the sign
    is that of the mean output change when the column is shifted up by its range, and
    multiplies the total dependence only. Differences from the package: float64 throughout
    (fairml writes projected columns back into the input's dtype, so on integer frames they
    are truncated to integers); constant columns are reported as zero instead of NaN from a
    division by zero; the identical runs are computed once.

    Rows that a perturbation leaves unchanged are not sent to the model; this assumes the
    model scores each row independently of the others in its batch (true of scikit-learn
    estimators, and of torch modules in eval mode).

    References
    ----------
    .. [1] J. Adebayo and L. Kagal, "Iterative orthogonal feature projection for diagnosing
       bias in black-box models", FATML Workshop, 2016. arXiv:1611.04967.
    .. [2] J. Adebayo, "FairML: ToolBox for diagnosing bias in predictive modeling", MIT
       thesis, 2016; the ``fairml`` package, https://github.com/adebayoj/fairml.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import fairaudit as fa
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=500)
    >>> X = pd.DataFrame({"a": a, "proxy": a + 0.1 * rng.normal(size=500)})
    >>> model = fa.wrap(lambda X: 2.0 * np.asarray(X)[:, 0], task="regression")  # reads "a"
    >>> imp = fa.orthogonal_importance(model, X, n_boot=0)
    >>> imp.direct.round(2).tolist()                     # "proxy" is never read
    [4.11, 0.0]
    >>> bool(imp.total["proxy"] > 3)                     # but it carries "a"
    True
    """
    strategy = _check_strategy(strategy, fairml_compat)
    n_repeats = check_count(n_repeats, name="n_repeats", min_val=1, fix="Pass e.g. n_repeats=10.")
    n_boot = check_n_boot(n_boot)
    confidence = check_confidence(confidence)
    random_state = check_random_state(random_state)
    if output not in (None, "score", "label"):
        raise ValueError(f"output must be 'score', 'label' or None, got {output!r}.")
    max_batch_bytes = check_count(
        max_batch_bytes, name="max_batch_bytes", min_val=1, fix="Pass a number of bytes."
    )

    enc = encode_frame(X)
    units = _build_units(enc, groups, fairml_compat)
    wrapped = wrap(model)
    if output is None:
        output = "score" if getattr(wrapped, "output_kind", "score") == "score" else "label"
    elif output == "score" and getattr(wrapped, "output_kind", "score") == "label":
        raise ValueError(
            "output='score' needs a model with scores, but this model only gives labels; "
            "use output='label'."
        )
    predict = wrapped.predict_score if output == "score" else wrapped.predict
    rng = as_generator(random_state)
    seed_repr = random_state if isinstance(random_state, int | np.integer) else None

    n = enc.Z.shape[0]
    row_bytes = 8 * max(enc.Z.shape[1], 1) + 4 * enc.codes.shape[1] + 64
    capacity = int(max(256, min(max_batch_bytes // row_bytes, 10 * n)))
    n_eval = n_repeats if (strategy in _RANDOM_STRATEGIES and not fairml_compat) else 1
    use_boot = n_boot > 0 and not fairml_compat
    if use_boot:
        check_memory(
            4.0 * n_boot * n,
            what=f"n_boot={n_boot:,} bootstrap weights for {n:,} rows",
            fix=f"lower n_boot to at most {max(1, MAX_ARRAY_BYTES // (4 * n)):,}, or pass a "
            "sample of the rows.",
        )
    weights = _bootstrap_weights(n, n_boot, rng) if use_boot else None

    # baseline output, in chunks of the batch capacity
    try:
        baseline = np.concatenate(
            [
                np.asarray(predict(enc.build(enc.Z[s : s + capacity], enc.codes[s : s + capacity])))
                for s in range(0, n, capacity)
            ]
        )
    except Exception as exc:
        raise ModelError(
            f"the model raised {type(exc).__name__} on X itself, before any perturbation: {exc}"
        ) from exc
    if baseline.shape[:1] != (n,):
        raise ModelError(
            f"the model returned {baseline.shape[0] if baseline.ndim else 'a scalar'} outputs "
            f"for {n} rows; it must return one output per row."
        )
    if output == "score" and baseline.dtype.kind not in "biuf":
        raise ModelError(
            f"the model's scores have dtype {baseline.dtype}; scores must be numeric. Use "
            "output='label' for models that return labels."
        )
    if (
        output == "label"
        and baseline.dtype.kind == "f"
        and not np.array_equal(baseline, np.round(baseline))
    ):
        raise ModelError(
            "output='label' compares predicted labels, but the model returned non-integer "
            "values (a bare callable is taken to return labels). If they are scores, wrap the "
            "model with fa.wrap(model, response_method='predict_proba') or task='regression'."
        )
    if fairml_compat and baseline.dtype.kind not in "biuf":
        raise ModelError(
            "fairml_compat=True needs numeric model outputs (fairml takes differences of "
            f"them), got dtype {baseline.dtype}."
        )
    if baseline.dtype.kind == "b":
        baseline = baseline.astype(np.int64)

    acc = _Accumulator(n_samples=n, n_boot=n_boot if use_boot else 0, n_eval=n_eval)
    scorer = _Scorer(
        enc, units, predict, baseline, output, fairml_compat, weights, acc, capacity, strategy
    )
    notes: list[str] = []
    bar = _progress_bar(progress, len(units))
    centred = enc.Z if fairml_compat else enc.Z - enc.Z.mean(axis=0)
    gram_all = centred.T @ centred
    del centred

    for u, unit in enumerate(units):
        if unit.constant:
            notes.append(
                f"{unit.name!r} is constant in X (up to rounding); reported as zero dependence."
            )
            if bar is not None:
                bar.update(1)
            continue
        for task in _tasks(enc, units, u, strategy, n_eval, fairml_compat, rng, gram_all):
            task.rows = _changed_rows(enc, unit, task)
            scorer.add(task)
        if bar is not None:
            bar.update(1)
    scorer.flush()
    scorer.flush_bootstrap()
    if bar is not None:
        bar.close()

    if enc.categorical and not fairml_compat:
        cats = [c for c in enc.categorical]
        notes.append(
            f"categorical column(s) {format_values(cats)} are not orthogonalized when another "
            "feature is perturbed; what they share with that feature still reaches the model."
        )
    if fairml_compat:
        notes.append(
            f"fairml_compat: fairml's {n_repeats} run(s) are identical (the column is always set "
            "to zero), so they were computed once; no intervals."
        )
    logger.debug(
        "orthogonal_importance: %d model calls, %d rows predicted", scorer.n_calls, scorer.n_rows
    )
    return _assemble(
        units=units,
        acc=acc,
        n_eval=n_eval,
        strategy=strategy,
        output=output,
        n_repeats=n_repeats,
        n_boot=n_boot if use_boot else 0,
        confidence=confidence,
        fairml_compat=fairml_compat,
        random_state=seed_repr,
        n_samples=n,
        n_model_calls=scorer.n_calls + -(-n // capacity),
        n_rows_predicted=scorer.n_rows + n,
        notes=tuple(notes),
        directional_output=(
            baseline.ndim == 1
            and baseline.dtype.kind in "biuf"
            and getattr(wrapped, "task", "binary") != "multiclass"
        ),
    )


def _tasks(
    enc: EncodedFrame,
    units: list[_Unit],
    u: int,
    strategy: str,
    n_eval: int,
    fairml_compat: bool,
    rng: np.random.Generator,
    gram_all: np.ndarray,
) -> Iterator[_Task]:
    unit = units[u]
    empty = np.zeros(0, dtype=np.intp)
    basis = _basis(enc, unit, centred=not fairml_compat)
    coef = _coefficients(enc, unit, basis, gram_all)
    for r in range(n_eval):
        num, cat, src = _perturbation(enc, unit, strategy, rng)
        common = {"num_const": num, "cat_const": cat, "src": src}
        yield _Task(unit=u, kind="direct", repeat=r, rows=empty, **common)  # type: ignore[arg-type]
        yield _Task(
            unit=u,
            kind="total",
            repeat=r,
            rows=empty,
            basis=basis,
            coef=coef,
            **common,  # type: ignore[arg-type]
        )
    if fairml_compat:
        j = int(unit.num[0])
        yield _Task(unit=u, kind="sign", repeat=0, rows=empty, shift=float(np.ptp(enc.Z[:, j])))


def _assemble(
    *,
    units: list[_Unit],
    acc: _Accumulator,
    n_eval: int,
    strategy: str,
    output: str,
    n_repeats: int,
    n_boot: int,
    confidence: float,
    fairml_compat: bool,
    random_state: Any,
    n_samples: int,
    n_model_calls: int,
    n_rows_predicted: int,
    notes: tuple[str, ...],
    directional_output: bool,
) -> OrthogonalImportance:
    alpha = (1 - confidence) / 2
    rows: list[dict[str, Any]] = []
    rep_rows: list[dict[str, Any]] = []
    for u, unit in enumerate(units):
        directional = unit.num.size == 1 and unit.cat.size == 0 and directional_output
        for kind in ("total", "direct"):
            per_rep = np.array(
                [acc.sum_d.get((u, kind, r), 0.0) / n_samples for r in range(n_eval)]
            )
            value = float(per_rep.mean())
            for r in range(n_repeats if fairml_compat else n_eval):
                rep_rows.append(
                    {
                        "feature": unit.name,
                        "dependence": kind,
                        "repeat": r,
                        "value": float(per_rep[min(r, n_eval - 1)]),
                    }
                )
            if unit.constant:
                lower = upper = 0.0
            elif n_boot:
                boot = acc.boot.get((u, kind), np.zeros(n_boot)) / n_samples
                lower, upper = (float(v) for v in np.quantile(boot, [alpha, 1 - alpha]))
            elif n_eval > 1:
                lower, upper = (float(v) for v in np.quantile(per_rep, [alpha, 1 - alpha]))
            else:
                lower = upper = float("nan")
            if fairml_compat:
                sign = (
                    (1.0 if acc.direction.get((u, "sign"), 0.0) >= 0 else -1.0)
                    if kind == "total"
                    else 1.0
                )
            elif directional:
                sign = 1.0 if acc.direction.get((u, kind), 0.0) >= 0 else -1.0
            else:
                sign = float("nan")
            rows.append(
                {
                    "feature": unit.name,
                    "dependence": kind,
                    "value": value,
                    "lower": lower,
                    "upper": upper,
                    "sign": sign,
                    "columns": ", ".join(unit.columns),
                }
            )
    table = pd.DataFrame(
        rows, columns=["feature", "dependence", "value", "lower", "upper", "sign", "columns"]
    )
    repeats = pd.DataFrame(rep_rows, columns=["feature", "dependence", "repeat", "value"])
    names = [unit.name for unit in units]
    tot = table[table["dependence"] == "total"].set_index("feature")
    signed = tot["value"] * tot["sign"].fillna(1.0)
    total = pd.Series(signed.to_numpy(), index=pd.Index(names, name="feature"), name="total")
    direct = pd.Series(
        table.loc[table["dependence"] == "direct", "value"].to_numpy(),
        index=pd.Index(names, name="feature"),
        name="direct",
    )
    return OrthogonalImportance(
        total=total,
        direct=direct,
        table=table,
        repeats=repeats,
        features={unit.name: unit.columns for unit in units},
        strategy=strategy,
        output=output,
        n_repeats=n_repeats,
        n_boot=n_boot,
        confidence=confidence,
        fairml_compat=fairml_compat,
        random_state=random_state,
        n_samples=n_samples,
        n_model_calls=n_model_calls,
        n_rows_predicted=n_rows_predicted,
        notes=notes,
    )
