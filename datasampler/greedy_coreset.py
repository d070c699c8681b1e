"""Greedy (farthest-point) coreset batches from stored embeddings."""
from __future__ import annotations

import numpy as np

from datasampler import SAMPLERS
from datasampler.storage import StorageSampler


@SAMPLERS.register("greedy_coreset")
class GreedyCoresetSampler(StorageSampler):
    """Anchors chosen by greedy k-center selection in a random pool of stored embeddings, then
    completed to P x K with other items of each anchor's class.

    From a random first point, repeatedly add the pool item ``argmax_i min_{s in S} ||e_i - e_s||^2``
    that is farthest from the chosen set S (Sener & Savarese, ICLR 2018; used as a batch sampler by
    Roth et al., ICML 2020), skipping items of already chosen classes, until P anchors.
    ``softened`` picks uniformly among the items at or above the 97th percentile instead of the
    farthest. See :mod:`datasampler.storage` for the storage and the pool.

    Parameters
    ----------
    softened : bool
        Soft greedy coreset (``--data_gc_softened``).
    """

    wired_params = StorageSampler.wired_params + ("softened",)

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2, pool_size: int = 512,
                 refresh_storage: bool = True, lowproj_dim: int = -1, softened: bool = False, seed: int = 0,
                 rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, pool_size, refresh_storage, lowproj_dim,
                         seed, rank, world_size)
        self.softened = softened

    def choose(self, pool_emb: np.ndarray, pool_classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        nearest = np.full(len(pool_emb), np.inf)
        available = np.ones(len(pool_emb), dtype=bool)
        chosen, pick = [], int(rng.integers(len(pool_emb)))
        while True:
            chosen.append(pick)
            available &= pool_classes != pool_classes[pick]
            nearest = np.minimum(nearest, ((pool_emb - pool_emb[pick]) ** 2).sum(1))  # one column
            if len(chosen) == self.p or not available.any():
                return np.asarray(chosen)
            if self.softened:
                top = np.percentile(nearest[available], 97)
                pick = int(rng.choice(np.flatnonzero(available & (nearest >= top))))
            else:
                pick = int(np.argmax(np.where(available, nearest, -np.inf)))
