"""Shared conventions of result objects.

Every analysis returns a ``@dataclass(frozen=True, eq=False, repr=False)`` subclassing
:class:`ResultMixin`, with ``to_frame()`` (one documented long format), ``to_dict()`` (JSON-safe;
it carries a ``"kind"`` key naming the result type and a ``"schema_version"``),
``plot(ax=None, *, ...)`` (``ax`` first, everything else keyword-only) and ``_repr_html_()``.
``eq=False``: ``a == b`` is identity (value equality of frames is ambiguous). The mixin's
``repr`` is one short line: the class, the shape of ``to_frame()`` and the key numbers the class
names in ``_repr_fields()``. The report layer consumes only ``to_dict()`` and ``plot()``.
``tests/test_result_contract.py`` checks every public result class.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_REPR", "ResultMixin", "get_axes", "json_safe", "plot_text", "records"]

_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
# control characters: no glyph in any font, and not allowed in the SVG the report inlines
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plot_text(text: Any) -> str:
    r"""Return user text (a group, feature, word or rule name) safe to show in a matplotlib plot.

    Matplotlib reads text between two ``$`` as mathtext: a group named ``income $\frac$``
    makes the plot fail when it is drawn, and ``$x$`` prints as math. Every ``$`` is escaped
    (``\$``), which matplotlib draws as a plain dollar sign. Control characters (no glyph in
    any font, and not allowed in the SVG a report inlines) are shown as their code, ``\x1b``.

    Examples
    --------
    >>> plot_text("income $\\frac$")
    'income \\$\\frac\\$'
    >>> plot_text("esc\x1b")
    'esc\\x1b'
    >>> plot_text(("a", 1))
    "('a', 1)"
    """
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return _UNESCAPED_DOLLAR.sub(r"\\$", text)


def json_safe(obj: Any) -> Any:
    """Convert numpy/pandas scalars and containers into plain JSON types.

    NaN and infinities become ``None`` (JSON has no NaN); tuples become lists; mapping keys
    become strings.

    Examples
    --------
    >>> json_safe({"a": np.float64("nan"), "b": np.int64(3), ("x", 1): [np.bool_(True)]})
    {'a': None, 'b': 3, "('x', 1)": [True]}
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, Mapping):
        return {(k if isinstance(k, str) else str(k)): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, pd.Series | pd.Index):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set | frozenset):
        return [json_safe(v) for v in obj]
    if obj is pd.NA or obj is pd.NaT:
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of ``frame`` as dicts keyed by column (``to_dict(orient="records")``).

    Examples
    --------
    >>> records(pd.DataFrame({"a": [1, 2]}))
    [{'a': 1}, {'a': 2}]
    """
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def get_axes(ax: Any = None) -> Any:
    """Return ``ax`` or a new matplotlib Axes (matplotlib imported lazily)."""
    if ax is not None:
        return ax
    from fairaudit._optional import import_optional

    plt = import_optional("matplotlib.pyplot", purpose="plot()")
    _, ax = plt.subplots()
    return ax


MAX_REPR = 300


def _short(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ResultMixin:
    """Shared ``repr`` and ``_repr_html_`` of result dataclasses (see the module docstring).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True, eq=False, repr=False)
    ... class Toy(ResultMixin):
    ...     value: float
    ...     def to_frame(self):
    ...         return pd.DataFrame({"value": [self.value]})
    ...     def _repr_fields(self):
    ...         return {"value": self.value}
    >>> Toy(0.123456)
    Toy(frame=1x1, value=0.1235)
    """

    def _repr_fields(self) -> dict[str, Any]:
        """Key numbers shown by ``repr`` (override in each result class)."""
        return {}

    def __repr__(self) -> str:
        parts = []
        with contextlib.suppress(Exception):  # a repr must never raise
            rows, columns = self.to_frame().shape
            parts.append(f"frame={rows}x{columns}")
        parts += [f"{key}={_short(value)}" for key, value in self._repr_fields().items()]
        text = f"{type(self).__name__}({', '.join(parts)})".replace("\n", " ")
        return text if len(text) < MAX_REPR else text[: MAX_REPR - 5] + "...)"

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - overridden
        """Return the result as a long DataFrame."""
        raise NotImplementedError

    def _repr_html_(self) -> str:
        title = type(self).__name__
        table = self.to_frame().to_html(max_rows=60, float_format=lambda v: f"{v:.4g}")
        return f"<div><strong>{title}</strong>{table}</div>"
