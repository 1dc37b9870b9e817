"""Search latency of the int8 partition index against faiss IndexFlatIP, on the
same synthetic unit 128-d templates, in the same run.

    python bench/bench_search.py [--sizes 10000,100000,1000000] [--queries 60]
"""
from __future__ import annotations

import argparse
import os
import platform
import time

import faiss
import numpy as np

from templates_store.index import PartitionIndex
from templates_store.templates import normalize


def percentiles(samples: list[float]) -> tuple[float, float]:
    return float(np.percentile(samples, 50)) * 1000, float(np.percentile(samples, 95)) * 1000


def timed(functions, queries) -> list[list[float]]:
    """Runs the functions query by query, interleaved, so that a noisy machine
    slows each of them alike; returns one list of seconds per function."""
    for fn in functions:
        fn(queries[0])
    out: list[list[float]] = [[] for _ in functions]
    for q in queries:
        for fn, samples in zip(functions, out):
            start = time.perf_counter()
            fn(q)
            samples.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"faiss {faiss.__version__}, numpy {np.__version__}")
    print(f"{'N':>9} {'ours p50':>9} {'ours p95':>9} {'tag p50':>8} {'faiss p50':>10} {'ratio':>6} "
          f"{'B/tpl used':>10} {'B/tpl alloc':>11} {'top1 agree':>10}")
    for n in map(int, args.sizes.split(",")):
        vectors = normalize(rng.standard_normal((n, 128), dtype=np.float32))
        tags = [frozenset({"tagged"}) if i % 10 == 0 else frozenset() for i in range(n)]
        index = PartitionIndex()
        index.bulk_load(np.arange(1, n + 1, dtype=np.int64), vectors, tags)
        picks = rng.integers(0, n, args.queries)
        queries = normalize(vectors[picks] + 0.3 * rng.standard_normal((args.queries, 128), dtype=np.float32) / 11.3)

        flat = faiss.IndexFlatIP(128)
        flat.add(vectors)
        ours, tagged, theirs = timed([lambda q, index=index: index.search(q, args.k),
                                      lambda q, index=index: index.search(q, args.k, frozenset({"tagged"})),
                                      lambda q, flat=flat: flat.search(q[None, :], args.k)], queries)
        agree = np.mean([index.search(q, 1)[0][0].class_id - 1 == flat.search(q[None, :], 1)[1][0, 0]
                         for q in queries])
        used = n * (128 + 4 + 8 + 4)
        p50, p95 = percentiles(ours)
        f50, _ = percentiles(theirs)
        print(f"{n:>9} {p50:>8.2f}ms {p95:>8.2f}ms {percentiles(tagged)[0]:>6.2f}ms {f50:>8.2f}ms "
              f"{p50 / f50:>6.2f} {used / n:>10.0f} {index.nbytes / n:>11.0f} {agree:>10.0%}")


if __name__ == "__main__":
    main()
