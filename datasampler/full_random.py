"""Uniformly random batches, ignoring classes."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from datasampler import SAMPLERS
from datasampler.base import BaseBatchSampler


@SAMPLERS.register("full_random")
class FullRandomSampler(BaseBatchSampler):
    """Batches of ``batch_size`` items from one random permutation of the training set.

    Every item appears at most once per epoch; an epoch is ``len(dataset) // batch_size`` batches
    (the last incomplete batch is dropped). Batches are not class-balanced, so a batch may hold
    classes with a single sample (the "random" sampling of Roth et al., ICML 2020).
    """

    def global_batches(self) -> Iterator[np.ndarray]:
        order = self.rng().permutation(len(self.labels))
        for b in range(len(self)):
            yield order[b * self.batch_size:(b + 1) * self.batch_size]
