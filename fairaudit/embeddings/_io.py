"""Readers and writers of word-vector files: word2vec binary and text, GloVe text, ``.npz``.

Binary and text files may be gzip-compressed (``.gz`` suffix).

Each reader returns ``(words, vectors)`` with the words in file order (for word2vec files that
is frequency order) and a float32 matrix. A truncated or malformed file raises
:class:`~fairaudit.exceptions.DatasetFileError` naming the file and the byte offset (binary) or
line number (text) where reading failed; a header is checked against the file's size before
anything is allocated.
"""

from __future__ import annotations

import gzip
import logging
import os
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from fairaudit.exceptions import DatasetFileError

__all__ = ["detect_format", "read_npz", "read_text", "read_word2vec_binary", "write_npz"]

logger = logging.getLogger(__name__)

FORMATS = ("word2vec", "word2vec_text", "glove", "npz")


def _open_binary(path: Path) -> IO[bytes] | gzip.GzipFile:
    """Open a file for reading bytes, decompressing ``.gz`` files."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def detect_format(path: Path) -> str:
    """Guess the format from the suffix (and, for text, from the first line)."""
    name = path.name.lower()
    if name.endswith(".npz"):
        return "npz"
    if name.endswith(".bin") or name.endswith(".bin.gz"):
        return "word2vec"
    with _open_binary(path) as fh:
        first = fh.readline().split()
    if len(first) == 2 and all(part.isdigit() for part in first):
        return "word2vec_text"
    return "glove"


def _parse_header(line: bytes, path: Path) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise DatasetFileError(
            f"{path}: the first line must be '<vocabulary size> <dimension>' as in word2vec "
            f"files, got {line[:60]!r}. For GloVe text files pass format='glove'."
        )
    n, dim = int(parts[0]), int(parts[1])
    if dim <= 0:
        raise DatasetFileError(f"{path}: the header gives dimension {dim}; expected > 0.")
    return n, dim


def read_word2vec_binary(path: Path, *, limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """Read the word2vec C binary format (header line, then ``word<space><dim float32>``)."""
    with _open_binary(path) as fh:
        data = fh.read()
    end_header = data.find(b"\n")
    if end_header < 0:
        raise DatasetFileError(f"{path}: no header line; is this a word2vec binary file?")
    n, dim = _parse_header(data[:end_header], path)
    if limit is not None:
        n = min(n, limit)
    row_bytes = 4 * dim
    # check the header against the file before allocating: a 100-byte file announcing
    # 1e8 x 300 would otherwise ask for 112 GiB (each entry: a word, a space and its vector)
    available = len(data) - end_header - 1
    needed = n * (row_bytes + 1)
    if needed > available:
        raise DatasetFileError(
            f"{path}: the header announces {n:,} words of dimension {dim:,}, which need at "
            f"least {needed:,} bytes, but the file holds {available:,} after the header. The "
            "header is wrong or the file is truncated."
        )
    words: list[str] = []
    vectors = np.empty((n, dim), dtype=np.float32)
    pos = end_header + 1
    size = len(data)
    for i in range(n):
        # Some writers put a newline after each vector, some do not.
        while pos < size and data[pos : pos + 1] == b"\n":
            pos += 1
        space = data.find(b" ", pos, pos + 10_000)
        if space < 0:
            raise DatasetFileError(
                f"{path}: truncated or malformed at byte {pos}: expected word {i + 1} of {n} "
                "followed by a space. The file may be cut short; re-copy it."
            )
        try:
            word = data[pos:space].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetFileError(
                f"{path}: word {i + 1} at byte {pos} is not valid UTF-8 ({exc.reason})."
            ) from exc
        start = space + 1
        if start + row_bytes > size:
            raise DatasetFileError(
                f"{path}: truncated at byte {size}: the vector of word {i + 1} ({word!r}), "
                f"starting at byte {start}, needs {row_bytes} bytes but only {size - start} "
                "remain. Re-copy the file."
            )
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=start)
        words.append(word)
        pos = start + row_bytes
    return words, vectors


def read_text(
    path: Path, *, header: bool, limit: int | None = None
) -> tuple[list[str], np.ndarray]:
    """Read word2vec text (``header=True``) or GloVe text (``header=False``) vectors."""
    words: list[str] = []
    rows: list[np.ndarray] = []
    dim: int | None = None
    n_expected: int | None = None
    with _open_binary(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetFileError(
                    f"{path}, line {lineno}: not valid UTF-8 ({exc.reason} at byte "
                    f"{exc.start} of the line); re-encode the file as UTF-8."
                ) from exc
            if lineno == 1 and header:
                n_expected, dim = _parse_header(raw, path)
                continue
            line = line.rstrip("\n").rstrip(" ")
            if not line:
                continue
            parts = line.split(" ")
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise DatasetFileError(f"{path}, line {lineno}: a word with no vector.")
            if len(parts) != dim + 1:
                raise DatasetFileError(
                    f"{path}, line {lineno}: expected a word and {dim} numbers, got "
                    f"{len(parts) - 1} numbers. The file may be truncated or a word may "
                    "contain a space."
                )
            try:
                rows.append(np.array(parts[1:], dtype=np.float32))
            except ValueError as exc:
                raise DatasetFileError(
                    f"{path}, line {lineno}: a value of {parts[0]!r} is not a number ({exc})."
                ) from exc
            words.append(parts[0])
            if limit is not None and len(words) >= limit:
                break
    if not words:
        raise DatasetFileError(f"{path}: no vectors found.")
    if n_expected is not None and limit is None and len(words) != n_expected:
        raise DatasetFileError(
            f"{path}: the header announces {n_expected} words but the file holds "
            f"{len(words)}. The file may be truncated; re-copy it."
        )
    return words, np.vstack(rows)


def read_npz(path: Path) -> tuple[list[str], np.ndarray]:
    """Read fairaudit's ``.npz`` (arrays ``words`` and ``vectors``; no pickle)."""
    try:
        # np.load would return a bare array for a .npy file, and leaks its file handle when
        # the zip directory is corrupt: open the file here and check the zip magic first
        with open(path, "rb") as fh:
            magic = fh.read(4)
            fh.seek(0)
            if magic != b"PK\x03\x04":
                raise DatasetFileError(
                    f"{path}: not a .npz archive (it does not start as a zip file"
                    + ("; it is a single .npy array" if magic == b"\x93NUM" else "")
                    + "); write one with WordVectors.save."
                )
            with np.load(fh, allow_pickle=False) as archive:
                missing = {"words", "vectors"} - set(archive.files)
                if missing:
                    raise DatasetFileError(
                        f"{path}: expected arrays 'words' and 'vectors', missing {sorted(missing)}."
                    )
                raw_words, raw_vectors = archive["words"], archive["vectors"]
                if raw_words.ndim != 1 or raw_vectors.ndim != 2:
                    raise DatasetFileError(
                        f"{path}: 'words' must be 1-D and 'vectors' 2-D, got shapes "
                        f"{raw_words.shape} and {raw_vectors.shape}."
                    )
                if raw_vectors.shape[0] != raw_words.shape[0]:
                    raise DatasetFileError(
                        f"{path}: {raw_words.shape[0]} words but {raw_vectors.shape[0]} vectors."
                    )
                words = [str(w) for w in raw_words.tolist()]
                vectors = raw_vectors.astype(np.float32)
    except DatasetFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise DatasetFileError(f"{path}: not a readable .npz archive ({exc}).") from exc
    return words, vectors


def write_npz(
    path: str | os.PathLike[str], words: list[str], vectors: np.ndarray, *, dtype: str
) -> None:
    """Write ``words`` and ``vectors`` (cast to ``dtype``) as a compressed ``.npz``."""
    np.savez_compressed(
        path, words=np.array(words, dtype=str), vectors=np.asarray(vectors, dtype=dtype)
    )
