"""Input-pipeline throughput with and without ``--cache_resized`` on a generated image tree.

    python bench/data.py [--images 600] [--width 500] [--height 375] [--cache 256] [--workers 2]

Writes a folder tree of JPEG photos (CUB-like size, smooth colour fields plus noise, quality 90),
then measures images/s of the evaluation pipeline (decode, Resize 256, CenterCrop 224, normalise)
through a DataLoader: first reading the originals, then the copies cached at ``--cache`` px. Also
reports the one-off cache build time. Prints a table and the speed-up ratio.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from datasets.folder import FolderSource  # noqa: E402


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


def images_per_second(source: FolderSource, workers: int, batch_size: int = 32) -> float:
    datasets = [source.to_dataset(table, train=False) for table in source.tables().values()]
    start = time.perf_counter()
    n = sum(len(labels) for dataset in datasets
            for _, labels in DataLoader(dataset, batch_size=batch_size, num_workers=workers))
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--width", type=int, default=500)
    parser.add_argument("--height", type=int, default=375)
    parser.add_argument("--cache", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        write_tree(root, args.images, args.width, args.height)
        plain = images_per_second(FolderSource(root=root, workers=args.workers), args.workers)
        start = time.perf_counter()
        FolderSource(root=root, cache_resized=args.cache, workers=args.workers).tables()
        build_s = time.perf_counter() - start
        cached = images_per_second(FolderSource(root=root, cache_resized=args.cache,
                                                workers=args.workers), args.workers)
    print(f"\n{args.images} JPEGs of {args.width}x{args.height}, eval pipeline (Resize 256, CenterCrop 224), "
          f"{args.workers} DataLoader worker(s)")
    print(f"{'pipeline':<28}{'images/s':>10}")
    print(f"{'original files':<28}{plain:>10.1f}")
    print(f"{f'--cache_resized {args.cache}':<28}{cached:>10.1f}")
    print(f"cache build (one-off): {build_s:.1f} s ({args.images / build_s:.1f} images/s)")
    print(f"speed-up with the cache: {cached / plain:.2f}x")


if __name__ == "__main__":
    main()
