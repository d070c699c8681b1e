"""The dataset interfaces: a source (where the rows come from) and a split dataset (how one
split's rows become ``(image, label)`` items)."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

from typing import Any, ClassVar

import numpy as np
import torch
from torch.utils.data import Dataset

from datasets.table import Table


class SplitDataset(Dataset, metaclass=ABCMeta):
    """Base class of every split a :class:`DatasetSource` returns (``datasets.select``'s values).

    Items are ``(image, label)``: ``image`` a ``FloatTensor[C, H, W]`` (or ``uint8`` RGB pixels
    ``[3, H, W]``, which the network normalises), ``label`` an ``int``. The rows are a
    :class:`~datasets.table.Table`; every column below is read from it, so they cannot disagree:

    * ``table``: the split's rows (the run's data fingerprint is computed from it);
    * ``labels``: int64 numpy array, one label per item;
    * ``is_query`` / ``is_gallery``: bool numpy arrays for query/gallery protocols, else ``None``
      (every item is then both);
    * ``category``: super-class labels (hierarchical sampling, per-category metrics), or ``None``;
    * ``takes_sample_keys``: whether items may be indexed by ``(index, epoch)`` keys
      (:mod:`datasets.epoch_keys`), which seed the item's augmentation;
    * :meth:`eval_view`: the same rows with the evaluation transforms.
    """

    takes_sample_keys: ClassVar[bool] = False

    def __init__(self, table: Table):
        self.table = table

    @property
    def labels(self) -> np.ndarray:
        return self.table.labels

    @property
    def is_query(self) -> np.ndarray | None:
        return self.table.is_query

    @property
    def is_gallery(self) -> np.ndarray | None:
        return self.table.is_gallery

    @property
    def category(self) -> np.ndarray | None:
        return self.table.category

    @property
    def category_names(self) -> tuple[str, ...] | None:
        return self.table.category_names

    def __len__(self) -> int:
        return len(self.table)

    @abstractmethod
    def __getitem__(self, key: Any) -> tuple[torch.Tensor, int]:
        """Item ``(image, label)`` of row ``key`` (an index, or an ``(index, epoch)`` sample key)."""

    @abstractmethod
    def eval_view(self) -> "SplitDataset":
        """The same rows with the evaluation transforms (``self`` when there are no train-only ones)."""


class DatasetSource(metaclass=ABCMeta):
    """Base class of every ``--dataset`` entry.

    A source reads its on-disk (or generated) data into :class:`Table` objects with
    :meth:`tables` (keys ``train``, ``test``), and turns a table into a :class:`SplitDataset` with
    :meth:`to_dataset`. Class attributes:

    * ``preset``: flag defaults applied when this dataset is chosen (the second layer of defaults, docs/configuration.md);
    * ``needs_source``: whether ``--source`` must point at existing data;
    * ``has_categories``: whether tables carry super-class labels (``category``);
    * ``wired_params``: the run-wide values the reader needs (from ``datasets.WIRED_NAMES``),
      handed over by ``DATASETS.create`` and checked against the constructor when it registers
      (every other argument becomes a ``--<dataset>_<param>`` flag).
    """

    preset: ClassVar[dict[str, Any]] = {}
    needs_source: ClassVar[bool] = False
    has_categories: ClassVar[bool] = False
    wired_params: ClassVar[tuple[str, ...]] = ("root", "seed", "augmentation", "arch")

    @abstractmethod
    def tables(self) -> dict[str, Table]:
        """Implemented by every registered subclass."""

    @abstractmethod
    def to_dataset(self, table: Table, train: bool) -> SplitDataset:
        """Implemented by every registered subclass."""

    @classmethod
    def check_source(cls, root: str) -> str | None:
        """A one-line problem with ``root`` (missing folder or index file), or ``None``."""
        return None
