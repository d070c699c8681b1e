"""Class-balanced random batches."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from datasampler import SAMPLERS
from datasampler.base import BaseBatchSampler


@SAMPLERS.register("class_random")
class ClassRandomSampler(BaseBatchSampler):
    """Batches of ``batch_size / samples_per_class`` distinct random classes, each with
    ``samples_per_class`` distinct images (drawn with replacement only when a class is smaller).

    This is the P x K scheme of Hermans et al. 2017 used by the Revisiting-DML protocol
    (Roth et al., ICML 2020). Classes are drawn uniformly without replacement within a batch;
    an epoch is ``len(dataset) // batch_size`` batches.

    Parameters
    ----------
    samples_per_class : int
        K, the images drawn per class.
    """

    wired_params = BaseBatchSampler.wired_params + ("samples_per_class",)

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2,
                 seed: int = 0, rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, seed, rank, world_size)
        self.k = samples_per_class
        self.classes, self.by_class = group_by_class(self.labels)
        if batch_size % samples_per_class:
            raise ValueError(f"--bs {batch_size} is not divisible by --samples_per_class {samples_per_class}")
        self.p = batch_size // samples_per_class
        if self.p > len(self.classes):
            raise ValueError(f"--bs {batch_size} / --samples_per_class {samples_per_class} = {self.p} "
                             f"classes per batch, but the training split has only {len(self.classes)}")

    def global_batches(self) -> Iterator[np.ndarray]:
        rng = self.rng()
        for _ in range(len(self)):
            classes = rng.choice(len(self.classes), self.p, replace=False)
            yield np.concatenate([draw_k(self.by_class[c], self.k, rng) for c in classes])


def group_by_class(labels: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct classes and, for each, the indices of its items."""
    order = np.argsort(labels, kind="stable")
    classes, starts = np.unique(labels[order], return_index=True)
    return classes, np.split(order, starts[1:])


def draw_k(indices: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` distinct items of a class, or ``k`` with replacement if the class is smaller."""
    return rng.choice(indices, k, replace=len(indices) < k)
