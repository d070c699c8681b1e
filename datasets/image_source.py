"""The shared base of every dataset read from image files on disk."""
from __future__ import annotations

import dataclasses
import os
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from datasets.base import DatasetSource, SplitDataset
from datasets.cache import build_cache
from datasets.images import ImageDataset, bad_images_line, class_folders, table_from_folders
from datasets.table import Table, protocol_problem
from datasets.transforms import build_transform
from datasets.verified import VerifiedImages
from utilities import comm
from utilities.flags import NON_NEGATIVE, Domain

PAPER_PRESET: dict[str, Any] = {
    # Roth et al. 2020, "Revisiting Training Strategies ... in Deep Metric Learning", §4 protocol.
    "arch": "resnet50_frozen_normalize", "embed_dim": 128, "optim": "adam", "lr": 1e-5, "decay": 4e-4,
    "bs": 112, "samples_per_class": 2, "n_epochs": 150, "data_sampler": "class_random",
}


class ImageSource(DatasetSource):
    """A dataset of image files under ``<root>/<folder>``; subclasses implement :meth:`read_tables`.

    :meth:`tables` then checks every image before training: an unreadable file is an error that
    names it, or with ``skip_bad_images`` it is dropped, counted and reported. With
    ``cache_resized`` > 0 the rows point to resized copies (see :mod:`datasets.cache`).

    Parameters
    ----------
    image_size : int
        Crop side in pixels; 0 keeps the paper default (224, 227 for googlenet, 256 for --augmentation big).
    """

    needs_source: ClassVar[bool] = True
    folder: ClassVar[str] = ""
    layout: ClassVar[str] = ""           # one line describing the expected files, for error messages
    wired_params: ClassVar[tuple[str, ...]] = ("root", "seed", "augmentation", "arch", "skip_bad_images",
                                               "cache_resized", "workers")
    param_domains: ClassVar[dict[str, Domain]] = {"image_size": NON_NEGATIVE}   # checked at parse time

    def __init__(self, root: str = "", seed: int = 0, augmentation: str = "base", arch: str = "",
                 image_size: int = 0, skip_bad_images: bool = False, cache_resized: int = 0, workers: int = 8):
        self.source_root, self.seed = root, seed
        self.augmentation, self.arch, self.image_size = augmentation, arch, image_size
        self.skip_bad_images, self.cache_resized, self.workers = skip_bad_images, cache_resized, max(workers, 1)
        self.skipped: list[str] = []

    @property
    def root(self) -> str:
        return self.dataset_root(self.source_root)

    @classmethod
    def dataset_root(cls, source: str) -> str:
        return os.path.join(source, cls.folder) if cls.folder else source

    @classmethod
    def required_files(cls, root: str) -> list[str]:
        """Paths (under the dataset root) that must exist before any data is read."""
        return [root]

    @classmethod
    def check_source(cls, root: str) -> str | None:
        for path in cls.required_files(cls.dataset_root(root)):
            if not os.path.exists(path):
                return f"{path} not found; expected layout: {cls.layout}"
        return None

    @abstractmethod
    def read_tables(self) -> dict[str, Table]:
        """Implemented by every registered subclass."""

    def tables(self) -> dict[str, Table]:
        problem = self.check_source(self.source_root)
        if problem:
            raise FileNotFoundError(problem)
        tables = self.read_tables()
        for split, table in tables.items():
            if len(table) == 0:
                raise ValueError(f"{self.root}: the {split} split is empty; expected layout: {self.layout}")
        tables = self.checked(tables)
        for split, table in tables.items():
            problem = protocol_problem(table, split)
            if problem:
                raise ValueError(f"{self.where()}: {problem}")
        return tables

    def where(self) -> str:
        """The file or folder named in data errors."""
        return self.root

    def checked(self, tables: dict[str, Table]) -> dict[str, Table]:
        """``tables`` with every image fully decoded once (and cached with ``cache_resized``); bad
        rows fail with one line naming them, or with ``skip_bad_images`` are dropped and reported."""
        sources = {split: table.items for split, table in tables.items()}
        if self.cache_resized > 0:
            problems = {}
            for split, table in tables.items():
                cached, problems[split] = build_cache(table.items, self.root, self.cache_resized, self.workers)
                tables[split] = dataclasses.replace(table, items=cached)
        else:
            record = VerifiedImages(self.root)
            problems = {split: record.check(table.items, self.workers) for split, table in tables.items()}
            if comm.is_main():       # under torchrun one process writes the shared record
                record.save()
        bad: dict[str, str] = {}
        for split, found in problems.items():
            for row, why in found:
                bad.setdefault(str(sources[split][row]), why)
        if not bad:
            return tables
        if not self.skip_bad_images:
            raise ValueError(bad_images_line(bad) + ". Pass --skip_bad_images to skip them")
        self.skipped += list(bad)
        print(f"--skip_bad_images: skipped {len(bad)} unreadable image(s); {bad_images_line(bad)}")
        out = {}
        for split, table in tables.items():
            keep = np.setdiff1d(np.arange(len(table)), [r for r, _ in problems[split]])
            if len(keep) == 0:
                raise ValueError(f"{self.where()}: every image of the {split} split is unreadable "
                                 f"({bad_images_line(bad)})")
            out[split] = table.subset(keep)
        return out

    def to_dataset(self, table: Table, train: bool) -> SplitDataset:
        eval_tf = build_transform(self.arch, self.augmentation, False, self.image_size)
        tf = build_transform(self.arch, self.augmentation, True, self.image_size) if train else eval_tf
        return ImageDataset(table, tf, eval_tf, seed=self.seed)


class ClassFolderSource(ImageSource):
    """A dataset stored as ``<source>/<folder>/images/<class>/*``, split by class with :meth:`split_classes`."""

    preset: ClassVar[dict[str, Any]] = PAPER_PRESET

    @classmethod
    def required_files(cls, root: str) -> list[str]:
        return [os.path.join(root, "images")]

    @abstractmethod
    def split_classes(self, classes: list[str]) -> tuple[list[str], list[str]]:
        """Implemented by every registered subclass."""

    def read_tables(self) -> dict[str, Table]:
        images = os.path.join(self.root, "images")
        train, test = self.split_classes(class_folders(images))
        return {"train": table_from_folders(images, train), "test": table_from_folders(images, test)}
