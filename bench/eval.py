"""Benchmark of one evaluation pass at SOP scale (issue 8).

    python bench/eval.py [--sizes 10000 60000] [--dim 128] [--per_class 5]

Builds N x 128 float32 embeddings of N/5 classes of 5 (class centres plus noise) and computes
e_recall@1,10,100,1000, nmi, f1, map_at_r, r_precision, mAP_1000, rho_spectrum@2, dists@intra
and dists@inter in one ``metrics.compute`` call. Prints, per stage (kNN, k-means, metrics),
the wall time, the CPU time of the process (all threads; on a busy shared machine, cpu/threads
is a better estimate of the quiet-machine wall time than the wall time itself) and the peak
resident memory above the level before the call (sampled every 5 ms from /proc/self/statm),
then the total. Targets at N = 60,000 on 2 CPU cores: <= 60 s,
<= 2.5 GB peak extra memory.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Iterator

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import metrics  # noqa: E402

NAMES = ["e_recall@1", "e_recall@10", "e_recall@100", "e_recall@1000", "nmi", "f1", "map_at_r",
         "r_precision", "mAP_1000", "rho_spectrum@2", "dists@intra", "dists@inter"]
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


class PeakMemory:
    """Background sampler of the resident set size."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.peak, self.running = interval, 0, False

    def __enter__(self) -> "PeakMemory":
        self.base, self.peak, self.running = rss(), rss(), True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss())
            time.sleep(self.interval)

    def __exit__(self, *exc: object) -> None:
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, rss())

    @property
    def extra_gb(self) -> float:
        return (self.peak - self.base) / 1e9


def make_embeddings(n: int, dim: int, per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n // per_class), per_class)
    centres = rng.standard_normal((n // per_class, dim)).astype(np.float32)
    x = centres[labels] + 1.6 * rng.standard_normal((len(labels), dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def run(n: int, dim: int, per_class: int) -> None:
    x, y = make_embeddings(n, dim, per_class)
    seconds: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    peaks: dict[str, float] = defaultdict(float)
    base = rss()

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        start, cpu_start = time.perf_counter(), time.process_time()
        with PeakMemory() as mem:
            yield
        seconds[name] += time.perf_counter() - start
        cpu[name] += time.process_time() - cpu_start
        peaks[name] = max(peaks[name], (mem.peak - base) / 1e9)

    start, cpu_start = time.perf_counter(), time.process_time()
    with PeakMemory() as total:
        values = metrics.compute(x, y, NAMES, stage=stage)
    wall, cpu_total = time.perf_counter() - start, time.process_time() - cpu_start
    print(f"\nN = {n:,} x {dim}, {n // per_class:,} classes of {per_class}")
    print(f"{'stage':<10} {'wall s':>8} {'cpu s':>8} {'peak extra GB':>14}")
    for name in ("knn", "kmeans", "metrics"):
        print(f"{name:<10} {seconds[name]:>8.2f} {cpu[name]:>8.2f} {peaks[name]:>14.3f}")
    print(f"{'total':<10} {wall:>8.2f} {cpu_total:>8.2f} {total.extra_gb:>14.3f}")
    print("values: " + ", ".join(f"{k}={v:.4f}" for k, v in values.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 60_000])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--per_class", type=int, default=5)
    args = parser.parse_args()
    import faiss
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads, {os.cpu_count()} CPUs")
    metrics.compute(*make_embeddings(100, 8, 5), NAMES)   # imports and first-call set-up, unmeasured
    for n in args.sizes:
        run(n, args.dim, args.per_class)


if __name__ == "__main__":
    main()
