"""Lazy import of optional dependencies, with the install line in the error."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]

# module name -> (pip package, fairaudit extra that brings it)
_EXTRAS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "torch"),
    "matplotlib": ("matplotlib", "plot"),
    "matplotlib.pyplot": ("matplotlib", "plot"),
    "shap": ("shap", "shap"),
    "jinja2": ("jinja2", "report"),
    "yaml": ("pyyaml", "report"),
    "tqdm": ("tqdm", "progress"),
    "tqdm.auto": ("tqdm", "progress"),
    "duckdb": ("duckdb", "all"),
    "pyspark": ("pyspark", "spark"),
    "pyarrow": ("pyarrow", "all"),
    "pyspark.sql": ("pyspark", "spark"),
    "httpx": ("httpx", "endpoint"),
    "fairlearn": ("fairlearn", "peers"),
    "aif360": ("aif360", "peers"),
    "prometheus_client": ("prometheus_client", "monitor"),
    "prometheus_client.core": ("prometheus_client", "monitor"),
}


def import_optional(name: str, *, purpose: str) -> ModuleType:
    """Import an optional dependency, or raise ImportError saying how to install it.

    Parameters
    ----------
    name : str
        Module to import, e.g. ``"torch"`` or ``"matplotlib.pyplot"``.
    purpose : str
        What needs it, for the message (e.g. ``"plot()"``).

    Returns
    -------
    module
        The imported module.

    Examples
    --------
    >>> np = import_optional("numpy", purpose="the example")
    >>> np.__name__
    'numpy'
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        package, extra = _EXTRAS.get(name, (name.split(".")[0], "all"))
        raise ImportError(
            f"{purpose} needs the optional package {package!r}, which is not installed. "
            f"Install it with: pip install {package}  (or: pip install 'fairaudit[{extra}]')"
        ) from exc
