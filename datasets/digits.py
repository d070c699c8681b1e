"""``digits``: scikit-learn's real 8x8 handwritten digits."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

from datasets import DATASETS
from datasets.base import DatasetSource, SplitDataset
from datasets.glyphs import FAST_CPU_PRESET
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset


@DATASETS.register("digits")
class DigitsSource(DatasetSource):
    """scikit-learn's 1,797 real 8x8 digits; classes 0-4 train and 5-9 test."""

    preset: ClassVar[dict[str, Any]] = {**FAST_CPU_PRESET, "bs": 40, "samples_per_class": 10,
                                        "n_epochs": 15, "embed_dim": 32}

    def __init__(self, seed: int = 0, root: str = "", augmentation: str = "base", arch: str = ""):
        self.seed = seed

    def tables(self) -> dict[str, Table]:
        from sklearn.datasets import load_digits
        data = load_digits()
        images = torch.from_numpy((data.images[:, None].astype(np.float32) / 16.0 - 0.5) / 0.5)
        labels = data.target.astype(np.int64)
        table = Table(labels=labels, items=images)
        return {"train": table.subset(np.flatnonzero(labels < 5)),
                "test": table.subset(np.flatnonzero(labels >= 5))}

    def to_dataset(self, table: Table, train: bool) -> SplitDataset:
        return TensorImageDataset(table)
