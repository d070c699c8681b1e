"""Forward+backward time and peak memory of every registered loss on the CPU.

    python bench/losses.py                 # B ∈ {112, 256, 512}, D = 128, 2 and 4 samples per class
    python bench/losses.py --quick         # B = 112 and 256 only
    python bench/losses.py --threads 1     # one thread: stable figures on a shared machine
    python bench/losses.py --n_classes 100 11318 --losses proxynca margin
    python bench/losses.py --losses softmax arcface proxynca --n_classes 100 11318 --batch_sizes 112 \
        --threads 1 --reference softmax   # adds a "x softmax" column (same C, B, K)

Every loss in ``criteria.LOSSES`` is built with its default keyword arguments (plus
``n_classes``/``embed_dim`` when it takes them) and called without tuples, so tuple losses
use all their pairs/triplets: the worst case, not what a miner would give. Losses that take
``n_classes`` run once per ``--n_classes`` value, the others once; a configuration with more
classes in the batch than C is skipped.

Time: the best (minimum) wall time of ``--repeats`` forward+backward calls after one warm-up
(the minimum is the least disturbed by other load on a shared machine), on
``--threads`` threads (an oversubscribed machine slows multi-threaded matmuls by up to
100x; use 1 there). Peak memory: the largest total size of live CPU tensors during one
forward+backward, from the torch profiler's memory timeline (``bench/_memory.py``, shared with
bench/miners.py); inputs allocated before the call are included, memory outside tensors
(Python objects, allocator caches) is not. ``--reference LOSS`` adds the time relative to LOSS
at the same C, B and K. Timings on a shared machine are
noisy; compare ratios within one run.
"""
from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import criteria  # noqa: E402
from bench import _memory  # noqa: E402


def build_loss(name: str, n_classes: int, dim: int) -> torch.nn.Module:
    cls = criteria.LOSSES.get(name)
    accepted = inspect.signature(cls.__init__).parameters
    kwargs = {}
    if "n_classes" in accepted:
        kwargs["n_classes"] = n_classes
    if "embed_dim" in accepted:
        kwargs["embed_dim"] = dim
    return cls(**kwargs)


def takes_classes(name: str) -> bool:
    return "n_classes" in inspect.signature(criteria.LOSSES.get(name).__init__).parameters


def make_batch(batch_size: int, per_class: int, n_classes: int, dim: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    classes = torch.randperm(n_classes, generator=gen)[:batch_size // per_class]
    labels = classes.repeat_interleave(per_class)
    emb = F.normalize(torch.randn(labels.numel(), dim, generator=gen), dim=1)
    return emb, labels


def step(loss: torch.nn.Module, emb: torch.Tensor, labels: torch.Tensor) -> None:
    x = emb.clone().requires_grad_(True)
    loss.zero_grad(set_to_none=True)
    loss(x, labels).backward()


def time_ms(loss, emb, labels, repeats: int) -> float:
    step(loss, emb, labels)                                   # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(loss, emb, labels)
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


def peak_mib(loss, emb, labels) -> float:
    return _memory.peak_mib(lambda: step(loss, emb, labels))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[112, 256, 512])
    parser.add_argument("--samples_per_class", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--n_classes", type=int, nargs="+", default=[100],
                        help="C for losses that take n_classes (proxies, class betas).")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default); 1 gives stable figures on a loaded machine.")
    parser.add_argument("--losses", nargs="+", default=None, help="Subset of losses (default: all registered).")
    parser.add_argument("--no_memory", action="store_true", help="Skip the (slower) profiled memory run.")
    parser.add_argument("--reference", default=None, metavar="LOSS",
                        help="Add a column: the time relative to LOSS at the same C, B and K.")
    parser.add_argument("--quick", action="store_true", help="B = 112 and 256 only.")
    args = parser.parse_args(argv)
    if args.quick:
        args.batch_sizes = [b for b in args.batch_sizes if b <= 256]
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.losses or criteria.LOSSES.names()
    if args.reference is not None and args.reference not in criteria.LOSSES:
        parser.error(f"--reference: unknown loss '{args.reference}'")
    reference_ms: dict[tuple[int, int, int], float] = {}

    def versus_reference(name: str, ms: float, c: int, batch_size: int, per_class: int) -> str:
        """``ms`` relative to the reference loss at (C, B, K), timed once per configuration."""
        if args.reference is None:
            return ""
        key = (c, batch_size, per_class)
        if name == args.reference:
            reference_ms.setdefault(key, ms)
        elif key not in reference_ms:
            reference_ms[key] = time_ms(build_loss(args.reference, c, args.dim),
                                        *make_batch(batch_size, per_class, c, args.dim), args.repeats)
        return f"{ms / reference_ms[key]:>11.2f}"

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, D={args.dim}, "
          f"best of {args.repeats} fwd+bwd, no miner (all tuples)")
    header = f"{'loss':<28}{'C':>7}{'B':>6}{'K':>4}{'ms':>10}{'peak MiB':>10}{'ms/ms@112':>11}"
    if args.reference is not None:
        header += f"{'x ' + args.reference[:9]:>11}"
    print(header + "\n" + "-" * len(header))
    for name in names:
        for n_classes in (args.n_classes if takes_classes(name) else [None]):
            base = None
            for per_class in args.samples_per_class:
                for batch_size in args.batch_sizes:
                    c = n_classes if n_classes is not None else batch_size // per_class
                    shown = str(n_classes) if n_classes is not None else "-"
                    if batch_size // per_class > c:
                        print(f"{name:<28}{shown:>7}{batch_size:>6}{per_class:>4}{'skip: C < classes in batch':>31}")
                        continue
                    loss = build_loss(name, c, args.dim)
                    emb, labels = make_batch(batch_size, per_class, c, args.dim)
                    ms = time_ms(loss, emb, labels, args.repeats)
                    mem = float("nan") if args.no_memory else peak_mib(loss, emb, labels)
                    base = ms if batch_size == min(args.batch_sizes) and per_class == args.samples_per_class[0] else base
                    ratio = f"{ms / base:.1f}x" if base else "-"
                    print(f"{name:<28}{shown:>7}{batch_size:>6}{per_class:>4}{ms:>10.1f}{mem:>10.1f}{ratio:>11}"
                          + versus_reference(name, ms, c, batch_size, per_class), flush=True)


if __name__ == "__main__":
    main()
