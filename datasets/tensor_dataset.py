"""A dataset of images held in memory as one tensor."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from datasets.epoch_keys import SampleKey, split_key
from datasets.table import Table
from utilities.seeding import item_rng


class TensorImageDataset(Dataset):
    """Items ``(image: FloatTensor[C, H, W], label: int)`` from an in-memory :class:`Table`.

    Exposes ``labels`` (and ``is_query``/``is_gallery``/``category`` when the table has them).
    Takes sample keys ``(index, epoch)`` as :class:`~datasets.images.ImageDataset` does; an
    optional ``transform`` then draws from a generator seeded by ``(seed, epoch, index)``;
    :meth:`eval_view` gives the same rows with ``eval_transform`` (default: none).
    """

    takes_sample_keys = True

    def __init__(self, table: Table, transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 seed: int = 0, eval_transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.table, self.seed, self.eval_transform = table, seed, eval_transform
        self.images: torch.Tensor = table.items
        self.labels: np.ndarray = table.labels
        self.is_query, self.is_gallery = table.is_query, table.is_gallery
        self.category = table.category
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

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
