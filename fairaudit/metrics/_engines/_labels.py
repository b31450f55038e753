"""How the ``fairaudit`` command reads labels: 0/1 columns, or one class against the rest.

The rule runs on the distinct label values an engine returns, never on rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairaudit._validation import format_values
from fairaudit.exceptions import DataError

__all__ = ["OneVsRest", "check_prediction_labels", "not_01_message"]

_TEXT_01 = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "true": 1, "false": 0}


def _as_01(v: Any) -> int | None:
    if isinstance(v, bool | np.bool_):
        return int(v)
    if isinstance(v, int | float | np.integer | np.floating) and v in (0, 1):
        return int(v)
    if isinstance(v, str) and v.strip().lower() in _TEXT_01:
        return _TEXT_01[v.strip().lower()]
    return None


def _match(text: str, values: list[Any]) -> list[Any]:
    """Values of a column equal to the --pos-label text (``"1"`` matches 1 and "1")."""
    out = [v for v in values if str(v) == text]
    if out:
        return out
    for v in values:
        try:
            if float(text) == float(v):
                out.append(v)
        except (TypeError, ValueError):
            continue
    return out


def check_prediction_labels(
    pos_label: str,
    t_values: list[Any],
    p_values: list[Any],
    positive_pred: list[Any],
    target: str,
    prediction: str,
) -> None:
    """Refuse a --pos-label the prediction column never holds when it speaks another language.

    A string target against a 0/1 prediction column, or ``>50K.`` against ``>50K``: every
    prediction would count as negative, every rate would be 0 in every group, and a policy
    gate would pass on made-up numbers. A prediction column whose values are all values of
    the target is a model that never predicts the positive class, which is a finding.
    """
    if positive_pred:
        return
    foreign = [v for v in p_values if not _match(str(v), t_values)]
    if foreign:
        raise DataError(
            f"--prediction: column {prediction!r} never holds --pos-label {pos_label!r}, and "
            f"its values {format_values(sorted(map(str, p_values)))} are not values of "
            f"--target {target!r} ({format_values(sorted(map(str, t_values)))}); pass a "
            "--prediction column with the same labels as --target, or a --pos-label both "
            "columns hold."
        )


def not_01_message(option: str, column: str, values: list[Any]) -> str:
    """Say that a label column is not 0/1, and the flags that fit what it holds instead."""
    numeric = all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in values
    )
    shown = [str(v) for v in sorted(values)] if numeric else sorted(map(str, values))
    if numeric and len(values) > 2:
        hint = (
            "give --task regression if they are quantities (counts, weeks), --task "
            f"multiclass for metrics per class, or --pos-label {shown[-1]!r} for one class "
            "against the rest"
        )
    else:
        hint = (
            f"name the positive class with --pos-label (e.g. --pos-label {shown[-1]!r}), or "
            "give --task multiclass for metrics per class"
        )
    return f"{option}: column {column!r} has values {format_values(shown)}, not 0/1; {hint}."


class OneVsRest:
    """Binarize labels: 0/1 columns as they are, or ``value == pos_label`` (text given)."""

    def __init__(self, pos_label: str | None, target: str, prediction: str) -> None:
        self.pos_label = pos_label
        self.target = target
        self.prediction = prediction
        self.positive_true: list[Any] = []
        self.positive_pred: list[Any] = []

    def fit(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        """Check the distinct values and decide which are positive."""
        t_values = list(dict.fromkeys(np.asarray(y_true, dtype=object).tolist()))
        p_values = list(dict.fromkeys(np.asarray(y_pred, dtype=object).tolist()))
        for option, column, values in (
            ("--prediction", self.prediction, p_values),
            ("--target", self.target, t_values),
        ):
            fractional = [
                v
                for v in values
                if isinstance(v, float | np.floating) and not float(v).is_integer()
            ]
            if option == "--prediction" and fractional:
                raise DataError(
                    f"--prediction: column {column!r} has fractional values "
                    f"{format_values(fractional[:5])}, which look like scores; pass the "
                    "predicted labels with --prediction (and the scores with --score)."
                )
        if self.pos_label is None:
            for option, column, values in (
                ("--target", self.target, t_values),
                ("--prediction", self.prediction, p_values),
            ):
                if any(_as_01(v) is None for v in values):
                    raise DataError(not_01_message(option, column, values))
            self.positive_true = [v for v in t_values if _as_01(v) == 1]
            self.positive_pred = [v for v in p_values if _as_01(v) == 1]
            return
        self.positive_true = _match(self.pos_label, t_values)
        if not self.positive_true:
            raise DataError(
                f"--pos-label: {self.pos_label!r} is not a value of --target {self.target!r} "
                f"(values: {format_values(sorted(map(str, t_values)))})."
            )
        self.positive_pred = _match(self.pos_label, p_values)
        check_prediction_labels(
            self.pos_label, t_values, p_values, self.positive_pred, self.target, self.prediction
        )

    @staticmethod
    def _apply(values: np.ndarray, positive: list[Any]) -> np.ndarray:
        arr = np.asarray(values, dtype=object)
        pos = set(positive)
        return np.fromiter((v in pos for v in arr.tolist()), dtype=bool, count=arr.size).astype(
            np.int64
        )

    def true(self, values: np.ndarray) -> np.ndarray:
        """0/1 targets."""
        return self._apply(values, self.positive_true)

    def pred(self, values: np.ndarray) -> np.ndarray:
        """0/1 predictions."""
        return self._apply(values, self.positive_pred)
