"""The batch-sampler interface: seeded, resumable, and aware of distributed ranks."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import Sampler


class BaseBatchSampler(Sampler[list[int]], metaclass=ABCMeta):
    """Yields lists of dataset indices, one list per batch.

    The batches of an epoch are a pure function of ``(seed, epoch)``, so the sampler's state is
    just the epoch (:meth:`state_dict`) and a resumed run replays the same batches. With
    ``world_size > 1``, every rank draws the same global batch and keeps its own contiguous
    slice of it, so ranks are disjoint and their union is the configured batch.

    Parameters
    ----------
    labels : np.ndarray
        Integer class of every item of the training set.
    batch_size : int
        Global batch size (all ranks together).
    seed : int
        Base seed; epoch ``e`` uses ``seed + e``.
    """

    wired_params: tuple[str, ...] = ("labels", "batch_size", "seed", "rank", "world_size")
    requires_storage: bool = False     # draws from embeddings of the training set (set_storage)
    needs_categories: bool = False     # takes super-class labels (categories)

    def __init__(self, labels: np.ndarray, batch_size: int, seed: int = 0,
                 rank: int = 0, world_size: int = 1):
        self.labels = np.asarray(labels)
        self.batch_size, self.seed = batch_size, seed
        self.rank, self.world_size = rank, world_size
        if batch_size % world_size:
            raise ValueError(f"--bs {batch_size} is not divisible by the {world_size} ranks")
        self.epoch = 0

    @property
    def stats(self) -> dict[str, float]:
        """The epoch's sampler statistics for ``train.csv`` (none by default)."""
        return {}

    def update_storage(self, embeddings: torch.Tensor) -> None:
        """Training-loop hook with the embeddings of the batch just drawn (used by storage samplers)."""

    def __len__(self) -> int:
        """Batches per epoch: the number of full batches in one pass over the data."""
        return max(len(self.labels) // self.batch_size, 1)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])

    def rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.epoch])

    @abstractmethod
    def global_batches(self) -> Iterator[np.ndarray]:
        """Implemented by every registered subclass."""

    def rank_slice(self, batch: np.ndarray) -> np.ndarray:
        """This rank's contiguous part of a global batch."""
        per_rank = self.batch_size // self.world_size
        return batch[self.rank * per_rank:(self.rank + 1) * per_rank]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches():
            yield self.rank_slice(batch).tolist()
