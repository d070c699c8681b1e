"""Forward + backward time and peak memory of the proxy / classification losses on the CPU.

    python bench/proxy_losses.py [--n_classes 100 11318] [--bs 112] [--embed_dim 128] [--repeats 5]

Prints one row per loss and class count: the median time of one forward + backward pass, its
ratio to ``softmax`` at the same class count, and the peak of memory allocated by the pass
(traced by ``torch.profiler``'s memory bookkeeping; CPU tensors only). Timings on a shared
machine are noisy: read the ratios.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import criteria  # noqa: E402

NAMES = ["softmax", "arcface", "cosface", "sphereface", "large_margin_softmax", "subcenter_arcface",
         "proxynca", "proxyanchor", "softtriplet", "p2sgrad"]


def peak_memory_mb(fn) -> float:
    """Peak bytes of CPU tensors alive during ``fn()`` beyond those alive before (MiB)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    current = peak = 0
    events = sorted((e for e in prof.events() if e.cpu_memory_usage), key=lambda e: e.time_range.start)
    for e in events:
        current += e.cpu_memory_usage
        peak = max(peak, current)
    return peak / 2 ** 20


def bench(name: str, n_classes: int, bs: int, embed_dim: int, repeats: int) -> tuple[float, float]:
    torch.manual_seed(0)
    loss = criteria.LOSSES.get(name)(n_classes=n_classes, embed_dim=embed_dim)
    x = torch.randn(bs, embed_dim, requires_grad=True)
    y = torch.randint(0, n_classes, (bs,))

    def step() -> None:
        loss.zero_grad(set_to_none=True)
        x.grad = None
        loss(x, y).backward()

    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, peak_memory_mb(step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n_classes", type=int, nargs="+", default=[100, 11318])
    parser.add_argument("--bs", type=int, default=112)
    parser.add_argument("--embed_dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--losses", nargs="+", default=NAMES)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"B={args.bs} D={args.embed_dim}, CPU, 1 thread, median of {args.repeats}")
    print(f"{'loss':<22}{'C':>7}{'fwd+bwd ms':>12}{'x softmax':>11}{'peak MiB':>10}")
    for n_classes in args.n_classes:
        base = None
        for name in args.losses:
            ms, mb = bench(name, n_classes, args.bs, args.embed_dim, args.repeats)
            base = base if base is not None else ms
            print(f"{name:<22}{n_classes:>7}{ms:>12.2f}{ms / base:>11.2f}{mb:>10.1f}")


if __name__ == "__main__":
    main()
