"""What makes a result reproducible: versions, SHA-256 fingerprints and canonical JSON.

The one place that collects dependency versions and hashes arrays, frames, files and JSON
bodies, so that every result, report and policy fingerprints its inputs the same way.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairaudit._results import json_safe
from fairaudit._version import __version__

__all__ = [
    "canonical_json",
    "core_versions",
    "environment",
    "sha256_array",
    "sha256_file",
    "sha256_frame",
    "sha256_json",
]

# distribution names whose versions change what a report says or how it looks
_DEPENDENCIES = (
    "numpy",
    "scipy",
    "pandas",
    "scikit-learn",
    "jinja2",
    "matplotlib",
    "pyyaml",
    "pyarrow",
)


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def core_versions() -> dict[str, str]:
    """Versions of fairaudit and the numeric stack a metrics result depends on.

    Examples
    --------
    >>> sorted(core_versions())
    ['fairaudit', 'numpy', 'pandas', 'scipy']
    """
    import scipy

    return {
        "fairaudit": __version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
    }


def environment() -> dict[str, Any]:
    """Versions of fairaudit, Python and the dependencies that shape a report.

    Nothing that changes between two runs on the same machine (no time, no host name), so
    identical inputs give identical reports.

    Returns
    -------
    dict
        ``fairaudit`` (version), ``python`` (version and implementation), ``dependencies``
        ({distribution: version or None when not installed}).

    Examples
    --------
    >>> env = environment()
    >>> sorted(env)
    ['dependencies', 'fairaudit', 'python']
    >>> "numpy" in env["dependencies"]
    True
    """
    return {
        "fairaudit": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "dependencies": {dist: _version(dist) for dist in _DEPENDENCIES},
    }


def sha256_array(values: Any) -> str:
    """SHA-256 of an array's canonical bytes: dtype name, then values (text for objects).

    Examples
    --------
    >>> sha256_array([1, 2, 3]) == sha256_array(np.array([1, 2, 3]))
    True
    """
    arr = np.asarray(values)
    digest = hashlib.sha256()
    if arr.dtype.kind in "biuf":
        arr = np.ascontiguousarray(arr)
        digest.update(arr.dtype.str.encode())
        digest.update(arr.tobytes())
    else:
        digest.update(b"text")
        digest.update("\x1f".join(map(str, arr.tolist())).encode("utf-8"))
    return digest.hexdigest()


def sha256_frame(X: pd.DataFrame) -> str:
    """SHA-256 over the column names and the canonical bytes of each column.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> sha256_frame(a) == sha256_frame(a.copy())
    True
    """
    digest = hashlib.sha256()
    for name in X.columns:
        digest.update(str(name).encode("utf-8") + b"\x1e")
        digest.update(sha256_array(X[name].to_numpy()).encode())
    return digest.hexdigest()


def sha256_file(path: str | Path, *, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (files larger than memory are fine).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    chunk_size : int, default 1 MiB
        Bytes read at a time.

    Returns
    -------
    str
        The hex digest.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "x.txt"
    ...     _ = path.write_bytes(b"abc")
    ...     sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(obj: Any) -> str:
    """JSON text with sorted keys and no whitespace, the input of :func:`sha256_json`.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.5, None]})
    '{"a":[1.5,null],"b":1}'
    """
    return json.dumps(json_safe(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256_json(obj: Any) -> str:
    """SHA-256 of :func:`canonical_json` (the fingerprint of a policy body).

    Examples
    --------
    >>> len(sha256_json({"a": 1}))
    64
    """
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()
