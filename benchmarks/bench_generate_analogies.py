"""generate_analogies on a synthetic vocabulary against its floor: the Gram products alone.

    python benchmarks/bench_generate_analogies.py [--n-words 400000] [--dim 300]

A seeded float32 matrix (clustered, so that pairs fall within delta) stands for a large
vocabulary such as GloVe 6B (400k x 300). fairaudit's ``generate_analogies`` (whole vocabulary,
``restrict_vocab=None``) is timed and its peak extra memory measured with tracemalloc; the floor
is the same upper-triangle Gram products in the same tiles with nothing else done. Times depend
on the load of the machine: run both in one process and read the ratio.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from fairaudit.embeddings import WordVectors, generate_analogies


def synthetic(n_words: int, dim: int, seed: int = 0) -> WordVectors:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((256, dim), dtype=np.float32)
    vectors = centres[rng.integers(0, 256, n_words)]
    vectors += 0.8 * rng.standard_normal((n_words, dim), dtype=np.float32)
    return WordVectors([f"w{i}" for i in range(n_words)], vectors)


def floor(normed: np.ndarray, block: int = 1024, cols: int = 4096) -> float:
    start = time.perf_counter()
    n = normed.shape[0]
    for i0 in range(0, n, block):
        xi = normed[i0 : i0 + block]
        for j0 in range(i0, n, cols):
            np.matmul(xi, normed[j0 : j0 + cols].T)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-words", type=int, default=400_000)
    parser.add_argument("--dim", type=int, default=300)
    args = parser.parse_args()
    wv = synthetic(args.n_words, args.dim)
    seed = np.asarray(wv.normed[0] - wv.normed[1], dtype=np.float64)
    tracemalloc.start()
    start = time.perf_counter()
    pairs = generate_analogies(wv, seed, n=500, restrict_vocab=None)
    secs = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    base = floor(wv.normed)
    print(
        f"{args.n_words} x {args.dim} float32 (vectors + unit copy: "
        f"{2 * wv.vectors.nbytes / 2**20:.0f} MiB, held by WordVectors)"
    )
    print(
        f"generate_analogies(n=500, restrict_vocab=None): {secs:.1f} s, "
        f"peak extra memory {peak:.0f} MiB (tracemalloc), {len(pairs)} pairs, "
        f"scores in [{pairs['score'].min():.3f}, {pairs['score'].max():.6f}]"
    )
    print(f"floor, the Gram products alone: {base:.1f} s; ratio {secs / base:.2f}x")


if __name__ == "__main__":
    main()
