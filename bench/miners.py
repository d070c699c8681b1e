"""Time every registered miner on the CPU and report its peak memory.

    python bench/miners.py [--sizes 112 256 512] [--samples_per_class 2 4] [--dim 128] [--repeats 5]

For each miner, batch size B and samples per class K: the median wall time of ``miner(x, y)``
(mining plus its statistics) over ``--repeats`` calls after one warm-up, the number of tuples,
and the peak of live CPU tensor memory during one call (from ``torch.profiler``'s memory
timeline, inputs included: ``bench/_memory.py``, shared with bench/losses.py). The last column is the time relative to ``batch_hard`` at the same (B, K), which is
less sensitive to a shared, noisy machine than the absolute milliseconds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import batch_mining  # noqa: E402
from bench._memory import peak_mib  # noqa: E402


def bench_one(name: str, batch: int, per_class: int, dim: int, repeats: int) -> dict:
    torch.manual_seed(0)
    labels = torch.arange(batch // per_class).repeat_interleave(per_class)
    x = torch.nn.functional.normalize(torch.randn(batch, dim), dim=1)
    miner = batch_mining.MINERS.get(name)()
    miner(x, labels)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        miner(x, labels)
        times.append(time.perf_counter() - start)
    return {"ms": 1e3 * statistics.median(times), "tuples": int(miner.stats["miner_n_tuples"]),
            "peak_mib": peak_mib(lambda: miner(x, labels)), "output": miner.output}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=int, default=[112, 256, 512])
    parser.add_argument("--samples_per_class", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--miners", nargs="+", default=None, help="Subset of miners (default: all).")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default).")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.miners or batch_mining.names()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, D={args.dim}; "
          "shared machine: absolute times are noisy, compare the ratio column")
    header = f"{'miner':<18} {'out':<8} {'B':>4} {'K':>2} {'tuples':>8} {'ms':>9} {'peak MiB':>9} {'x batch_hard':>12}"
    print(header + "\n" + "-" * len(header))
    for batch in args.sizes:
        for k in args.samples_per_class:
            rows = {name: bench_one(name, batch, k, args.dim, args.repeats) for name in names}
            ref = rows["batch_hard"]["ms"] if "batch_hard" in rows else bench_one(
                "batch_hard", batch, k, args.dim, args.repeats)["ms"]
            for name, r in rows.items():
                print(f"{name:<18} {r['output']:<8} {batch:>4} {k:>2} {r['tuples']:>8} {r['ms']:>9.2f} "
                      f"{r['peak_mib']:>9.2f} {r['ms'] / ref:>12.2f}", flush=True)

if __name__ == "__main__":
    main()
