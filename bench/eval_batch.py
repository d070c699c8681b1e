"""Embedding throughput against the evaluation batch size, and whether the embeddings change.

    python bench/eval_batch.py [--sizes 32 64 128 256 512] [--repeats 5] [--threads 0] [--rgb] [-- MAIN_FLAGS]

Builds the model and the train split of ``python main.py MAIN_FLAGS`` (default: the default run,
glyphs with ``convnet_normalize``; e.g. ``--rgb -- --arch resnet18 --not_pretrained
--glyphs_image_size 64`` for a small ResNet; ``--rgb`` repeats the grey channel three times, for the
ImageNet networks), untrained and in eval mode, and embeds the split with
:func:`evaluation.embed` (the DataLoader and all, as an evaluation does) once per batch size per
round, the sizes interleaved within each round (a busy machine slows all of them alike). Prints,
per batch size, the median images/s, its ratio to the fastest size, and whether the embeddings
are bitwise equal (``torch.equal``) to those of the first size, else their largest absolute
difference. ``--threads N`` sets ``torch.set_num_threads`` (0: leave torch's default).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import architectures  # noqa: E402
import datasets  # noqa: E402
import parameters  # noqa: E402
from evaluation import embed  # noqa: E402
from utilities.seeding import seed_everything  # noqa: E402


class ThreeChannels(torch.utils.data.Dataset):
    """``dataset`` with its one-channel images repeated to three (for the ImageNet networks)."""

    def __init__(self, dataset: torch.utils.data.Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image, label = self.dataset[index]
        return image.expand(3, *image.shape[1:]).contiguous(), label


def build(main_flags: list[str], rgb: bool) -> tuple[torch.nn.Module, torch.utils.data.Dataset, str]:
    """The untrained model and the train split (evaluation transforms) of ``main.py main_flags``."""
    opt = parameters.parse_args(main_flags)
    seed_everything(opt.seed)
    data = datasets.select(opt)
    dataset = datasets.eval_view(data["train"])
    dataset = ThreeChannels(dataset) if rgb else dataset
    model = architectures.select(opt, in_channels=3 if rgb else datasets.channels(data["train"])).to(opt.device)
    return model, dataset, opt.device


def measure(model: torch.nn.Module, dataset: torch.utils.data.Dataset, device: str, sizes: list[int],
            repeats: int) -> tuple[dict[int, list[float]], dict[int, np.ndarray]]:
    """Images/s of every batch size in each of ``repeats`` interleaved rounds, and the embeddings."""
    rates: dict[int, list[float]] = {b: [] for b in sizes}
    out: dict[int, np.ndarray] = {}
    embed(model, dataset, sizes[0], device)                  # warm-up: allocator, kernels
    for _ in range(repeats):
        for b in sizes:
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            out[b] = embed(model, dataset, b, device)[0]
            rates[b].append(len(dataset) / (time.perf_counter() - start))
    return rates, out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    main_flags = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[:argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    parser.add_argument("--repeats", type=int, default=5, help="Rounds; every size runs once per round.")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default).")
    parser.add_argument("--rgb", action="store_true", help="Repeat one-channel images to three channels.")
    args = parser.parse_args(own)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model, dataset, device = build(main_flags, args.rgb)
    rates, out = measure(model, dataset, device, args.sizes, max(1, args.repeats))
    medians = {b: statistics.median(r) for b, r in rates.items()}
    best = max(medians.values())
    first = torch.from_numpy(out[args.sizes[0]])
    print(f"main.py {' '.join(main_flags) or '(defaults)'}: {len(dataset)} images on {device}, "
          f"{torch.get_num_threads()} threads")
    print("batch  images/s  x_fastest  embeddings vs batch " + str(args.sizes[0]))
    for b in args.sizes:
        other = torch.from_numpy(out[b])
        same = "bitwise equal" if torch.equal(first, other) else f"max |diff| {float((first - other).abs().max()):.2e}"
        print(f"{b:5d}  {medians[b]:8.0f}  {medians[b] / best:9.2f}  {same}")
    print(f"({args.repeats} interleaved rounds, median)")


if __name__ == "__main__":
    main()
