"""Samplers that choose batches from stored embeddings of the training set.

The storage holds one embedding per training item. ``main.py`` fills it once before training
(:meth:`StorageSampler.set_storage`, one forward pass over the training set), and the training
loop hands every batch's embeddings to :meth:`StorageSampler.update_storage`, which refreshes
those rows unless ``--data_storage_no_update``. An epoch's batches are chosen at its start from a
snapshot of the storage, so they are a pure function of (seed, epoch, storage); the storage is
part of :meth:`state_dict`, so a resumed run draws the same batches.

Every batch is built the same way: a random *pool* of dataset indices is drawn, the selection
rule picks positions in that pool from ``storage[pool]``, and the batch is ``pool[positions]``:
selection and index mapping use the same pool. (The Revisiting-DML tool drew the candidate
embeddings from one random pool and mapped the chosen positions through another, so its
coreset batches were effectively random.)
"""
from __future__ import annotations

from abc import abstractmethod

import collections
import time
from typing import Any, Iterator

import numpy as np
import torch

from datasampler.class_random import ClassRandomSampler, draw_k


class StorageSampler(ClassRandomSampler):
    """Base of the embedding-storage samplers (see the module docstring); P x K batches with
    distinct classes, an epoch of ``len(dataset) // batch_size`` batches.

    Subclasses implement :meth:`choose` (positions in the pool) and may override
    :meth:`draw_pool`.
    """

    requires_storage = True
    wired_params = ClassRandomSampler.wired_params + ("pool_size", "refresh_storage", "lowproj_dim")

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2, pool_size: int = 512,
                 refresh_storage: bool = True, lowproj_dim: int = -1, seed: int = 0, rank: int = 0,
                 world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, seed, rank, world_size)
        self.pool_size, self.refresh_storage, self.lowproj_dim = pool_size, refresh_storage, lowproj_dim
        self.storage: torch.Tensor | None = None
        self.pending: collections.deque = collections.deque()
        self.class_of = np.searchsorted(self.classes, self.labels)      # class position of every item
        self._select_s = self._update_s = 0.0

    # ---- storage -------------------------------------------------------------------------
    def set_storage(self, embeddings: torch.Tensor | np.ndarray) -> None:
        """Fill the whole storage: (N, D) embeddings of the training set in dataset order."""
        emb = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32).clone()
        if emb.shape[0] != len(self.labels):
            raise ValueError(f"storage needs {len(self.labels)} embeddings, got {emb.shape[0]}")
        self.storage = emb

    def update_storage(self, embeddings: torch.Tensor) -> None:
        """Training-loop hook: ``embeddings`` of the next batch this sampler yielded (this rank's part).

        Under ``torch.distributed`` the parts of all ranks are gathered, so every rank keeps the
        same storage and keeps drawing the same global batches.
        """
        if not self.pending:
            return
        start = time.perf_counter()
        global_batch, indices = self.pending.popleft()
        if not self.refresh_storage or self.storage is None:
            return
        emb = embeddings.detach().float()
        if self.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized():
            parts = [torch.empty_like(emb) for _ in range(self.world_size)]
            torch.distributed.all_gather(parts, emb.contiguous())
            emb, indices = torch.cat(parts), global_batch
        self.storage[torch.as_tensor(indices)] = emb.cpu()
        self._update_s += time.perf_counter() - start

    @property
    def stats(self) -> dict[str, float]:
        """Cost of the current epoch, for ``train.csv``: batch selection and storage refresh seconds."""
        return {"sampler_select_s": round(self._select_s, 4), "sampler_storage_update_s": round(self._update_s, 4)}

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "storage": self.storage}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.storage = int(state["epoch"]), state.get("storage")

    # ---- batches ---------------------------------------------------------------------------
    def projected(self, emb: np.ndarray) -> np.ndarray:
        """A fixed random Gaussian projection to ``lowproj_dim`` dimensions (seeded), or ``emb``."""
        if self.lowproj_dim <= 0 or self.lowproj_dim >= emb.shape[1]:
            return emb
        if getattr(self, "_projection", None) is None or self._projection.shape[0] != emb.shape[1]:
            proj = np.random.default_rng([self.seed, 104729]).normal(size=(emb.shape[1], self.lowproj_dim))
            self._projection = proj / np.sqrt(self.lowproj_dim)      # drawn once, reused every batch
        return emb @ self._projection

    def draw_pool(self, rng: np.random.Generator) -> np.ndarray:
        """``pool_size`` distinct random dataset indices (at least one batch worth)."""
        n = min(len(self.labels), max(self.pool_size, self.batch_size))
        return rng.choice(len(self.labels), n, replace=False)

    @abstractmethod
    def choose(self, pool_emb: np.ndarray, pool_classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Implemented by every registered subclass."""

    def complete(self, anchors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """P x K batch from anchor items of distinct classes: each anchor plus K-1 of its class
        (topped up with random unused classes when the pool had fewer than P classes)."""
        spare = np.empty(0, dtype=int)
        if len(anchors) < self.p:     # vectorised: SOP has ~11k classes
            unused = np.flatnonzero(~np.isin(np.arange(len(self.classes)), self.class_of[anchors]))
            spare = rng.choice(unused, self.p - len(anchors), replace=False)
        parts = []
        for item in anchors:
            others = self.by_class[self.class_of[item]]
            others = others[others != item]
            parts.append(np.concatenate([[item], draw_k(others, self.k - 1, rng)]) if len(others)
                         else np.full(self.k, item))
        parts += [draw_k(self.by_class[c], self.k, rng) for c in spare]
        return np.concatenate(parts)

    def global_batches(self) -> Iterator[np.ndarray]:
        if self.storage is None:
            raise RuntimeError(f"{type(self).__name__} needs set_storage(embeddings) before the first epoch")
        start = time.perf_counter()
        rng = self.rng()
        storage = self.storage.numpy().astype(np.float64)
        batches = []
        for _ in range(len(self)):
            pool = self.draw_pool(rng)
            positions = self.choose(self.projected(storage[pool]), self.class_of[pool], rng)
            batches.append(self.batch_from(pool, positions, rng))
        self._select_s, self._update_s = time.perf_counter() - start, 0.0
        return iter(batches)

    def batch_from(self, pool: np.ndarray, positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Map pool positions to dataset indices: one anchor per class, completed to P x K."""
        return self.complete(pool[positions], rng)

    def __iter__(self) -> Iterator[list[int]]:
        self.pending.clear()
        for batch in self.global_batches():
            mine = self.rank_slice(batch)
            self.pending.append((batch, mine))
            yield mine.tolist()


def squared_distances(x: np.ndarray) -> np.ndarray:
    """Pairwise squared Euclidean distances of the rows of ``x``, clipped at 0."""
    sq = (x * x).sum(1)
    return np.clip(sq[:, None] + sq[None, :] - 2.0 * x @ x.T, 0.0, None)
