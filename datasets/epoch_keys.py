"""Sample keys ``(index, epoch)``: how the training loader tells a dataset which epoch an item is for.

Augmentation drawn from a worker's own random stream depends on which worker loads an item and
how far that worker has got, so ``--kernels`` and resuming change results. Instead the loader
hands the dataset ``(index, epoch)`` and the dataset draws the item's augmentation under
:func:`utilities.seeding.item_rng`, a pure function of ``(seed, epoch, index)``. The epoch
travels inside the key because persistent workers hold their own copy of the dataset, which an
attribute set in the main process would never reach.
"""
from __future__ import annotations

from typing import Iterator

from torch.utils.data import Sampler

from datasets.base import SplitDataset

SampleKey = tuple[int, int]


class EpochKeyedBatches(Sampler[list[SampleKey]]):
    """Batches of ``batch_sampler`` as lists of ``(index, epoch)``, with the sampler's current epoch
    (``batch_sampler.epoch``, read when an epoch's iteration starts). The wrapped sampler stays
    reachable as ``.batch_sampler``."""

    def __init__(self, batch_sampler: Sampler[list[int]]):
        self.batch_sampler = batch_sampler

    def __iter__(self) -> Iterator[list[SampleKey]]:
        epoch = int(getattr(self.batch_sampler, "epoch", 0))
        for batch in self.batch_sampler:
            yield [(int(i), epoch) for i in batch]

    def __len__(self) -> int:
        return len(self.batch_sampler)  # type: ignore[arg-type]   # batch samplers are sized


def keyed_batches(dataset: SplitDataset, batch_sampler: Sampler[list[int]]) -> Sampler:
    """``batch_sampler`` wrapped in :class:`EpochKeyedBatches` when ``dataset`` takes sample keys
    (its declared ``takes_sample_keys``), else unchanged."""
    return EpochKeyedBatches(batch_sampler) if dataset.takes_sample_keys else batch_sampler


def split_key(key: int | SampleKey) -> tuple[int, int | None]:
    """``(index, epoch)`` of a sample key; a plain index has no epoch (``None``)."""
    if isinstance(key, tuple):
        return int(key[0]), int(key[1])
    return int(key), None
