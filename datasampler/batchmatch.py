"""The shared scheme of the batch-matching samplers: pick the candidate batch whose embedding
distribution best matches a large pool."""
from __future__ import annotations

from abc import abstractmethod

from typing import Any

import numpy as np

from datasampler.class_random import draw_k
from datasampler.storage import StorageSampler


class BatchMatchSampler(StorageSampler):
    """The pool is ``pool_size / K`` distinct random classes with K items each; ``n_candidates``
    random P x K batches (P of the pool's classes with all their pool items) are scored by
    :meth:`cost` against the pool, and the cheapest is used (Roth et al., ICML 2020, batch
    matching). Subclasses implement :meth:`reference` (pool statistics) and :meth:`cost`.
    """

    wired_params = StorageSampler.wired_params + ("n_candidates",)

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2, pool_size: int = 512,
                 refresh_storage: bool = True, lowproj_dim: int = -1, n_candidates: int = 10, seed: int = 0,
                 rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, pool_size, refresh_storage, lowproj_dim,
                         seed, rank, world_size)
        if n_candidates < 1:
            raise ValueError("--data_batchmatch_ncomps must be at least 1")
        self.n_candidates = n_candidates

    def draw_pool(self, rng: np.random.Generator) -> np.ndarray:
        n_classes = min(len(self.classes), max(self.pool_size // self.k, self.p))
        classes = rng.choice(len(self.classes), n_classes, replace=False)
        return np.concatenate([draw_k(self.by_class[c], self.k, rng) for c in classes])

    def choose(self, pool_emb: np.ndarray, pool_classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        ref = self.reference(pool_emb)
        n_blocks = len(pool_emb) // self.k
        best, best_cost = None, np.inf
        for _ in range(self.n_candidates):
            blocks = rng.choice(n_blocks, self.p, replace=False)
            positions = (blocks[:, None] * self.k + np.arange(self.k)).ravel()
            cost = self.cost(ref, pool_emb[positions])
            if best is None or cost < best_cost:
                best, best_cost = positions, cost
        return best

    def batch_from(self, pool: np.ndarray, positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return pool[positions]                  # candidates are already P x K with distinct classes

    @abstractmethod
    def reference(self, pool_emb: np.ndarray) -> Any:
        """Implemented by every registered subclass."""

    @abstractmethod
    def cost(self, reference: Any, batch_emb: np.ndarray) -> float:
        """Implemented by every registered subclass."""
