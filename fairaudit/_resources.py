"""The one reader of files shipped with fairaudit: the data, the report schema and templates.

The processed data lives in the repository's top-level ``datasets/`` folder (data, cards and
build scripts; not a Python package). The wheel ships it as ``fairaudit/_data`` (hatchling's
``force-include`` in ``pyproject.toml``), read here with :mod:`importlib.resources`; an
editable install or a source checkout reads the ``datasets/`` folder beside the package.
"""

from __future__ import annotations

import json
from importlib.resources import abc, files
from pathlib import Path
from typing import Any

from fairaudit.exceptions import DatasetFileError

__all__ = ["data_file", "data_root", "package_file", "read_data_json"]

_SOURCE_DATA = Path(__file__).resolve().parent.parent / "datasets"


def data_root() -> abc.Traversable:
    """Return the folder that holds the shipped data (``fairaudit/_data`` in a wheel).

    Examples
    --------
    >>> data_root().joinpath("compas", "README.md").is_file()
    True
    """
    installed = files("fairaudit") / "_data"
    if installed.is_dir():
        return installed
    return _SOURCE_DATA  # editable install or source checkout: the repository's datasets/


def data_file(*parts: str) -> abc.Traversable:
    """Return a shipped data file, e.g. ``data_file("compas", "compas.csv.gz")``.

    Raises
    ------
    DatasetFileError
        The file is missing (a broken install, or data not built in a source checkout).

    Examples
    --------
    >>> data_file("wordlists", "weat.json").name
    'weat.json'
    """
    path = data_root()
    for part in parts:
        path = path / part
    if not path.is_file():
        raise DatasetFileError(
            f"The shipped data file {'/'.join(parts)!r} is missing ({path}). Reinstall "
            "fairaudit; in a source checkout, rebuild the data with "
            f"'python datasets/scripts/build_{parts[0]}.py'."
        )
    return path


def read_data_json(*parts: str) -> Any:
    """Parse a shipped JSON data file (e.g. the word lists).

    Examples
    --------
    >>> sorted(read_data_json("wordlists", "weat.json"))[:2]
    ['weat1', 'weat10']
    """
    return json.loads(data_file(*parts).read_text(encoding="utf-8"))


def package_file(*parts: str) -> abc.Traversable:
    """Return a file inside the ``fairaudit`` package (``package_file("report", ...)``).

    Examples
    --------
    >>> package_file("report", "schema", "report.schema.json").is_file()
    True
    """
    path = files("fairaudit")
    for part in parts:
        path = path / part
    return path
