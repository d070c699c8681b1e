"""The dataset-source interface: where the rows come from, and how items become tensors."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

from typing import Any, ClassVar

from torch.utils.data import Dataset

from datasets.table import Table


class DatasetSource(metaclass=ABCMeta):
    """Base class of every ``--dataset`` entry.

    A source reads its on-disk (or generated) data into :class:`Table` objects with
    :meth:`tables` (keys ``train``, ``test``), and turns a table into a torch ``Dataset`` with
    :meth:`to_dataset`. Class attributes:

    * ``preset``: flag defaults applied when this dataset is chosen (the second layer of defaults, docs/configuration.md);
    * ``needs_source``: whether ``--source`` must point at existing data;
    * ``has_categories``: whether tables carry super-class labels (``category``);
    * ``wired_params``: constructor arguments filled in by ``datasets.select`` (every other
      argument becomes a ``--<dataset>_<param>`` flag).
    """

    preset: ClassVar[dict[str, Any]] = {}
    needs_source: ClassVar[bool] = False
    has_categories: ClassVar[bool] = False
    wired_params: ClassVar[tuple[str, ...]] = ("root", "seed", "augmentation", "arch")

    @abstractmethod
    def tables(self) -> dict[str, Table]:
        """Implemented by every registered subclass."""

    @abstractmethod
    def to_dataset(self, table: Table, train: bool) -> Dataset:
        """Implemented by every registered subclass."""

    @classmethod
    def check_source(cls, root: str) -> str | None:
        """A one-line problem with ``root`` (missing folder or index file), or ``None``."""
        return None
