"""Catalyst's ``BalanceBatchSampler``: P classes x K samples, without replacement."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from datasampler import SAMPLERS
from datasampler.class_random import ClassRandomSampler, draw_k


@SAMPLERS.register("balance")
class BalanceSampler(ClassRandomSampler):
    """P distinct classes x K samples per batch, drawing every item at most once per epoch.

    At the start of an epoch each class is shuffled and cut into chunks of K items (a class
    smaller than K gives one chunk drawn with replacement). Each batch takes one chunk from each
    of P distinct classes, chosen at random with probability proportional to the chunks a class
    has left, so large classes are spread over the epoch. The epoch ends when fewer than P
    classes have a chunk left; its length is therefore computed from the epoch's draw (cached),
    and is about ``sum_c floor(n_c / K) / P`` batches. After Catalyst's ``BalanceBatchSampler``
    (Kolesnikov et al.), which also keeps a batch to P x K with no repeated item.
    """

    _length: tuple[int, int] = (-1, 0)

    def epoch_batches(self) -> list[np.ndarray]:
        rng = self.rng()
        chunks = []
        for members in self.by_class:
            if len(members) < self.k:
                chunks.append([draw_k(members, self.k, rng)])
            else:
                perm = rng.permutation(members)[:len(members) // self.k * self.k]
                chunks.append(list(perm.reshape(-1, self.k)))
        left = np.array([len(c) for c in chunks])
        batches = []
        while np.count_nonzero(left) >= self.p:
            classes = rng.choice(len(chunks), self.p, replace=False, p=left / left.sum())
            left[classes] -= 1
            batches.append(np.concatenate([chunks[c][left[c]] for c in classes]))
        return batches

    def __len__(self) -> int:
        if self._length[0] != self.epoch:
            self._length = (self.epoch, len(self.epoch_batches()))
        return self._length[1]

    def global_batches(self) -> Iterator[np.ndarray]:
        yield from self.epoch_batches()
