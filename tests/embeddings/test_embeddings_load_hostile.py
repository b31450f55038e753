"""WordVectors.load on corrupt and hostile files: always DatasetFileError, never a raw error.

Before: UnicodeDecodeError, EOFError, BadZipFile and IndexError escaped, and a 100-byte file
whose header announced 1e8 x 300 asked numpy for 112 GiB.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc

import numpy as np
import pytest

from fairaudit.embeddings import WordVectors
from fairaudit.exceptions import DatasetFileError

GOOD_TEXT = b"3 2\nalpha 1 2\nbeta 3 4\ngamma 5 6\n"


def npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


CASES = {
    "latin-1 text": (
        "v.txt",
        "alpha 1 2\ncaf\xe9 3 4\n".encode("latin-1"),
        r"line 2: not valid UTF-8",
    ),
    "truncated gzip": ("v.txt.gz", gzip.compress(GOOD_TEXT)[:-10], r"EOFError"),
    "not gzip": ("v.txt.gz", b"alpha 1 2\n", r"BadGzipFile"),
    "corrupt gzip binary": (
        "v.bin.gz",
        gzip.compress(b"1 2\nab " + b"\0" * 8)[:12] + b"\xff" * 20,
        r"cannot read it as word2vec",
    ),
    "not a zip": ("v.npz", b"PK\x03\x04 garbage", r"not a readable .npz archive"),
    "cut zip": (
        "v.npz",
        npz_bytes(words=np.array(["a", "b"]), vectors=np.eye(2))[:-30],
        r"not a readable .npz archive",
    ),
    "1-D vectors": (
        "v.npz",
        npz_bytes(words=np.array(["a", "b"]), vectors=np.ones(2)),
        r"'vectors' 2-D, got shapes \(2,\) and \(2,\)",
    ),
    "more vectors than words": (
        "v.npz",
        npz_bytes(words=np.array(["a"]), vectors=np.eye(2)),
        r"1 words but 2 vectors",
    ),
    "a .npy": (
        "v.npz",
        (lambda b: (np.save(b, np.eye(2)), b.getvalue())[1])(io.BytesIO()),
        r"not a .npz archive",
    ),
    "huge header, binary": (
        "v.bin",
        b"100000000 300\nab " + b"\0" * 83,
        r"announces 100,000,000 words of dimension 300, which need at least",
    ),
    "absurd header, binary": (
        "v.bin",
        b"99999999999999999999999 300\nab " + b"\0" * 60,
        r"announces 99,999,999,999,999,999,999,999 words",
    ),
    "NaN vector": ("v.txt", b"alpha nan 1\nbeta 1 2\n", r"v.txt: 1 vectors contain NaN"),
}


@pytest.mark.parametrize(("name", "data", "message"), CASES.values(), ids=list(CASES))
def test_hostile_files_raise_dataset_file_error(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(DatasetFileError, match=message) as info:
            WordVectors.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < 50 * 2**20  # nothing near the announced size was allocated
    cause = info.value.__cause__
    assert cause is None or isinstance(cause, Exception)  # raised with `from`


def test_good_files_still_load(tmp_path):
    (tmp_path / "v.txt.gz").write_bytes(gzip.compress(GOOD_TEXT))
    wv = WordVectors.load(tmp_path / "v.txt.gz")
    assert list(wv.words) == ["alpha", "beta", "gamma"]
