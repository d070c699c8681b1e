"""``glyphs``: a procedural, seeded image dataset made in memory (the default)."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from datasets import DATASETS
from datasets.base import DatasetSource, SplitDataset
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from utilities.flags import Domain, between

FAST_CPU_PRESET: dict[str, Any] = {
    "arch": "convnet_normalize", "embed_dim": 64, "optim": "adam", "lr": 1e-3, "decay": 4e-4,
    "bs": 128, "samples_per_class": 4, "n_epochs": 12, "kernels": 0, "tau": [8],
    "gamma": 0.3, "evaluation_metrics": ["e_recall@1", "e_recall@2", "e_recall@4", "nmi"],
    "storage_metrics": ["e_recall@1"],
}


def make_glyph_strokes(n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Class prototypes: (n_classes, 5, 2, 2) segment endpoints in [-0.75, 0.75]^2.

    Each glyph is a polyline of 2 to 4 strokes, plus an optional detached stroke. Unused
    segment slots are parked far outside the canvas so they draw nothing.
    """
    strokes = np.full((n_classes, 5, 2, 2), 10.0)
    for c in range(n_classes):
        n_poly = rng.integers(2, 5)
        points = rng.uniform(-0.75, 0.75, size=(n_poly + 1, 2))
        strokes[c, :n_poly, 0], strokes[c, :n_poly, 1] = points[:-1], points[1:]
        if rng.random() < 0.5:
            strokes[c, 4] = rng.uniform(-0.75, 0.75, size=(2, 2))
    return strokes


def render(segments: np.ndarray, widths: np.ndarray, size: int) -> np.ndarray:
    """Anti-aliased rendering of (S, K, 2, 2) segments with per-sample stroke widths -> (S, H, W)."""
    axis = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    grid = np.stack(np.meshgrid(axis, axis, indexing="xy"), -1).reshape(1, 1, -1, 2)   # (1,1,P,2)
    p0, p1 = segments[:, :, None, 0], segments[:, :, None, 1]                          # (S,K,1,2)
    seg = p1 - p0
    t = ((grid - p0) * seg).sum(-1) / np.maximum((seg * seg).sum(-1), 1e-9)
    closest = p0 + np.clip(t, 0.0, 1.0)[..., None] * seg
    dist = np.sqrt(((grid - closest) ** 2).sum(-1)).min(1)                              # (S,P)
    pixel = 2.0 / size
    ink = np.clip((widths[:, None] - dist) / pixel + 0.5, 0.0, 1.0)
    return ink.reshape(-1, size, size)


def generate_glyphs(n_classes: int, samples_per_class: int, image_size: int,
                    seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, H, W) in [0, 1] and labels (N,), fully determined by ``seed``.

    Each sample is its class glyph with jittered endpoints under a random rotation (±30°),
    scale (0.7–1.1), translation (±0.2 of the half-width), stroke width and Gaussian pixel noise.
    """
    rng = np.random.default_rng(seed)
    protos = make_glyph_strokes(n_classes, rng)
    labels = np.repeat(np.arange(n_classes), samples_per_class)
    n = len(labels)
    segs = protos[labels] + rng.normal(0.0, 0.04, size=(n, 5, 2, 2)) * (protos[labels] < 5)
    angle = rng.uniform(-np.pi / 6, np.pi / 6, n)
    scale = rng.uniform(0.7, 1.1, n)
    rot = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)], -1).reshape(n, 2, 2)
    shift = rng.uniform(-0.2, 0.2, size=(n, 1, 1, 2))
    segs = np.einsum("nij,nksj->nksi", rot * scale[:, None, None], segs) + shift
    widths = rng.uniform(0.05, 0.12, n)
    images = np.empty((n, image_size, image_size), dtype=np.float32)
    for start in range(0, n, 256):                       # bounds the (S, K, P) distance tensor
        sl = slice(start, start + 256)
        images[sl] = render(segs[sl], widths[sl], image_size)
    images += rng.normal(0.0, 0.08, size=images.shape).astype(np.float32)
    return np.clip(images, 0.0, 1.0)[:, None], labels


@DATASETS.register("glyphs")
class GlyphsSource(DatasetSource):
    """Procedural stroke glyphs (seeded); the first half of the classes train, the second half test.

    Parameters
    ----------
    n_classes : int
        Number of glyph classes in total (train + test).
    samples : int
        Samples per class.
    image_size : int
        Image height and width in pixels.
    """

    preset: ClassVar[dict[str, Any]] = FAST_CPU_PRESET
    param_domains: ClassVar[dict[str, Domain]] = {  # checked at parse time (utilities.flags)
        "n_classes": between(4, 100_000), "samples": between(2, 10_000), "image_size": between(8, 1024)}
    max_pixels: ClassVar[int] = 2 ** 30    # all images together: 4 GiB of float32, generated in memory

    def __init__(self, n_classes: int = 200, samples: int = 20, image_size: int = 32,
                 seed: int = 0, root: str = "", augmentation: str = "base", arch: str = ""):
        if n_classes < 4 or samples < 2 or image_size < 8:
            raise ValueError("--glyphs_n_classes must be >= 4, --glyphs_samples >= 2 and "
                             "--glyphs_image_size >= 8")
        if n_classes * samples * image_size ** 2 > self.max_pixels:
            raise ValueError(f"--glyphs_n_classes {n_classes} x --glyphs_samples {samples} x --glyphs_image_size "
                             f"{image_size}^2 = {n_classes * samples * image_size ** 2:,} pixels, over the limit of "
                             f"{self.max_pixels:,} (4 GiB of float32 images generated in memory)")
        self.n_classes, self.samples, self.image_size, self.seed = n_classes, samples, image_size, seed

    def tables(self) -> dict[str, Table]:
        images, labels = generate_glyphs(self.n_classes, self.samples, self.image_size, self.seed)
        images = torch.from_numpy((images - 0.5) / 0.5)
        table = Table(labels=labels, items=images)
        n_train = self.n_classes // 2
        return {"train": table.subset(np.flatnonzero(labels < n_train)),
                "test": table.subset(np.flatnonzero(labels >= n_train))}

    def to_dataset(self, table: Table, train: bool) -> SplitDataset:
        return TensorImageDataset(table)
