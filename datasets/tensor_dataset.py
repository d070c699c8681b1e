"""A dataset of images held in memory as one tensor."""
from __future__ import annotations

from typing import Callable

import torch
from datasets.base import SplitDataset
from datasets.epoch_keys import SampleKey, split_key
from datasets.table import Table
from utilities.seeding import item_rng


class TensorImageDataset(SplitDataset):
    """Items ``(image: FloatTensor[C, H, W], label: int)`` from an in-memory :class:`Table`.

    A :class:`~datasets.base.SplitDataset`: ``labels``, ``is_query``/``is_gallery``/``category``
    come from the table.
    Takes sample keys ``(index, epoch)`` as :class:`~datasets.images.ImageDataset` does; an
    optional ``transform`` then draws from a generator seeded by ``(seed, epoch, index)``;
    :meth:`eval_view` gives the same rows with ``eval_transform`` (default: none).
    """

    takes_sample_keys = True

    def __init__(self, table: Table, transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 seed: int = 0, eval_transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        super().__init__(table)
        self.seed, self.eval_transform = seed, eval_transform
        self.images: torch.Tensor = table.items
        self.transform = transform

    def __getitem__(self, key: int | SampleKey) -> tuple[torch.Tensor, int]:
        index, epoch = split_key(key)
        image = self.images[index]
        if self.transform is not None:
            if epoch is None:
                image = self.transform(image)
            else:
                with item_rng(self.seed, epoch, index):
                    image = self.transform(image)
        return image, int(self.labels[index])

    def eval_view(self) -> "TensorImageDataset":
        """The same rows with the evaluation transform (for embedding the training split)."""
        return TensorImageDataset(self.table, self.eval_transform, self.seed, self.eval_transform)
