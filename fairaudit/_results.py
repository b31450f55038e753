"""Shared conventions of result objects.

Every analysis returns a ``@dataclass(frozen=True)`` with ``to_frame()`` (one documented long
format), ``to_dict()`` (JSON-safe; it carries a ``"kind"`` key naming the result type and a
``"schema_version"``), ``plot(ax=None)`` and ``_repr_html_()``. The report layer consumes only
``to_dict()`` and ``plot()``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ResultMixin", "get_axes", "json_safe", "plot_text"]

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


def get_axes(ax: Any = None) -> Any:
    """Return ``ax`` or a new matplotlib Axes (matplotlib imported lazily)."""
    if ax is not None:
        return ax
    from fairaudit._optional import import_optional

    plt = import_optional("matplotlib.pyplot", purpose="plot()")
    _, ax = plt.subplots()
    return ax


class ResultMixin:
    """Default ``_repr_html_`` for result dataclasses: the long frame as an HTML table."""

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - overridden
        """Return the result as a long DataFrame."""
        raise NotImplementedError

    def _repr_html_(self) -> str:
        title = type(self).__name__
        table = self.to_frame().to_html(max_rows=60, float_format=lambda v: f"{v:.4g}")
        return f"<div><strong>{title}</strong>{table}</div>"
