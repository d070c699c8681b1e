"""Input-pipeline throughput: per worker core, before/after the planned decoding, and with and
without ``--cache_resized``, on a generated image tree.

    python bench/data.py [--images 600] [--width 500] [--height 375] [--cache 256] [--workers 2]

Writes a folder tree of JPEG photos (CUB-like size by default, smooth colour fields plus noise,
quality 90), then

1. per core (one process, one torch thread, no DataLoader): images/s of the paper's training
   (RandomResizedCrop 224 + flip) and evaluation (Resize 256 + CenterCrop 224) pipelines, decode
   to normalised tensor, *before* (full decode, ``T.Compose`` of torchvision's transforms, as the
   code was before the planned pipeline) and *after* (what ``ImageDataset`` does now: the
   :class:`datasets.transforms.PaperTransform` planned on the header, JPEG ``draft`` when the output
   size allows, else TorchCodec decoding into a uint8 tensor resampled by torch, one normalisation
   pass); the two are interleaved in rounds and the best round of each is kept, as the machine may
   be shared;
2. the same pipelines through a DataLoader with ``--workers`` worker processes (batches of 32,
   collation and inter-process transfer included), before and after, images/s in all and per
   worker; then the evaluation pipeline on the copies cached at ``--cache`` px (plus the one-off
   cache build time).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
from PIL import Image
import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms as T

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from datasets.folder import FolderSource  # noqa: E402
from datasets.images import ImageDataset, list_images, load_image, load_planned  # noqa: E402
from architectures.input_space import IMAGENET  # noqa: E402
from datasets.transforms import build_transform  # noqa: E402
from utilities.seeding import item_rng  # noqa: E402


def write_tree(root: str, n_images: int, width: int, height: int, n_classes: int = 20) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    for i in range(n_images):
        folder = os.path.join(root, f"class_{i % n_classes:03d}")
        os.makedirs(folder, exist_ok=True)
        a, b, c = rng.uniform(0, 6, size=3)
        field = np.stack([np.sin(a * xx + b * yy), np.cos(b * xx - c * yy), np.sin(c * xx * yy + a)], -1)
        pixels = (127 + 100 * field + rng.normal(0, 12, field.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"{i:05d}.jpg"), quality=90)


def images_per_second(datasets: list[Dataset], workers: int, batch_size: int = 32) -> float:
    """Images/s of reading ``datasets`` through DataLoaders (worker start-up included)."""
    start = time.perf_counter()
    n = sum(len(labels) for dataset in datasets
            for _, labels in DataLoader(dataset, batch_size=batch_size, num_workers=workers))
    return n / (time.perf_counter() - start)


def loader_rates(root: str, workers: int, rounds: int = 2) -> dict[str, tuple[float, float]]:
    """``{pipeline: (before images/s, after images/s)}`` through DataLoaders, best of ``rounds``."""
    tables = list(FolderSource(root=root, workers=workers).tables().values())
    out = {}
    for name, train in (("train", True), ("eval", False)):
        old, new = before_transform(train), build_transform("resnet50", "base", train)
        runs = {"before": [ImageDataset(t, old) for t in tables], "after": [ImageDataset(t, new) for t in tables]}
        best = {k: max(images_per_second(runs[k], workers) for _ in range(rounds)) for k in runs}
        out[name] = (best["before"], best["after"])
    return out


def before_transform(train: bool) -> T.Compose:
    """The paper pipeline as it was composed before :class:`~datasets.transforms.PaperTransform`."""
    geometry = [T.RandomResizedCrop(224), T.RandomHorizontalFlip(0.5)] if train else [T.Resize(256), T.CenterCrop(224)]
    return T.Compose(geometry + [T.ToTensor(), T.Normalize(IMAGENET.mean, IMAGENET.std)])


def per_core(paths: list[str], rounds: int = 3) -> dict[str, tuple[float, float]]:
    """``{pipeline: (before images/s, after images/s)}`` on one core, best of ``rounds`` interleaved rounds."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    out = {}
    try:
        for name, train in (("train", True), ("eval", False)):
            old, new = before_transform(train), build_transform("resnet50", "base", train)
            runs = {"before": lambda p: old(load_image(p)),
                    "after": lambda p: new(*load_planned(p, new.plan, as_tensor=True))}
            best = {k: 0.0 for k in runs}
            for _ in range(rounds):
                for key, run in runs.items():
                    start = time.perf_counter()
                    for i, path in enumerate(paths):
                        with item_rng(0, 1, i):
                            run(path)
                    best[key] = max(best[key], len(paths) / (time.perf_counter() - start))
            out[name] = (best["before"], best["after"])
    finally:
        torch.set_num_threads(threads)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--cache", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per_core_images", type=int, default=100, help="Images per round of the per-core test.")
    parser.add_argument("--skip_loader", action="store_true", help="Only the per-core test.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        write_tree(root, args.images, args.width, args.height)
        paths = [p for c in sorted(os.listdir(root)) for p in list_images(os.path.join(root, c))]
        rates = per_core(paths[:args.per_core_images])
        print(f"\nper worker core, {args.width}x{args.height} JPEGs, decode -> the model's 224x224 input "
              "(before: normalised float; after: uint8 pixels, which the network normalises on the device)")
        print(f"{'pipeline':<44}{'before im/s':>12}{'after im/s':>12}{'ratio':>8}")
        for name, label in (("train", "train: RandomResizedCrop(224) + flip"),
                            ("eval", "eval: Resize(256) + CenterCrop(224)")):
            before, after = rates[name]
            print(f"{label:<44}{before:>12.1f}{after:>12.1f}{after / before:>7.2f}x")
        if args.skip_loader:
            return
        loaders = loader_rates(root, args.workers)
        w = max(args.workers, 1)
        print(f"\n{args.images} JPEGs of {args.width}x{args.height} through a DataLoader, {args.workers} worker(s)")
        print(f"{'pipeline':<10}{'before im/s':>13}{'after im/s':>12}{'per worker':>12}{'ratio':>8}")
        for name in ("train", "eval"):
            before, after = loaders[name]
            print(f"{name:<10}{before:>13.1f}{after:>12.1f}{after / w:>12.1f}{after / before:>7.2f}x")
        start = time.perf_counter()
        cached_source = FolderSource(root=root, cache_resized=args.cache, workers=args.workers)
        tables = list(cached_source.tables().values())
        build_s = time.perf_counter() - start
        cached = images_per_second([cached_source.to_dataset(t, train=False) for t in tables], args.workers)
    print(f"\neval pipeline on the copies of --cache_resized {args.cache}: {cached:.1f} images/s "
          f"({cached / loaders['eval'][1]:.2f}x the originals after); "
          f"cache build (one-off): {build_s:.1f} s ({args.images / build_s:.1f} images/s)")


if __name__ == "__main__":
    main()
