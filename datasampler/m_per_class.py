"""PyTorch Metric Learning's ``MPerClassSampler``."""
from __future__ import annotations

import numpy as np

from datasampler import SAMPLERS
from datasampler.class_random import ClassRandomSampler


@SAMPLERS.register("m_per_class")
class MPerClassSampler(ClassRandomSampler):
    """``m = samples_per_class`` items of each of ``batch_size / m`` distinct random classes, with
    an epoch of a fixed number of samples instead of one pass over the data.

    As in PyTorch Metric Learning (Musgrave et al. 2020, ``samplers.MPerClassSampler``): a class
    smaller than ``m`` is sampled with replacement, and an epoch is
    ``length_before_new_iter // batch_size`` batches.

    Parameters
    ----------
    length_before_new_iter : int
        Samples per epoch (rounded down to whole batches).
    """

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2,
                 length_before_new_iter: int = 100000, seed: int = 0, rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, seed, rank, world_size)
        if length_before_new_iter < batch_size:
            raise ValueError(f"--data_m_per_class_length_before_new_iter {length_before_new_iter} is "
                             f"smaller than --bs {batch_size}")
        self.length_before_new_iter = length_before_new_iter

    def __len__(self) -> int:
        return self.length_before_new_iter // self.batch_size
