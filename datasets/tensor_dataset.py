"""A dataset of images held in memory as one tensor."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.utils.data import Dataset

from datasets.table import Table


class TensorImageDataset(Dataset):
    """Items ``(image: FloatTensor[C, H, W], label: int)`` from an in-memory :class:`Table`.

    Exposes ``labels`` (and ``is_query``/``is_gallery``/``category`` when the table has them).
    """

    def __init__(self, table: Table, transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.table = table
        self.images: torch.Tensor = table.items
        self.labels: np.ndarray = table.labels
        self.is_query, self.is_gallery = table.is_query, table.is_gallery
        self.category = table.category
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])
