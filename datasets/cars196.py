"""``cars196``: Stanford Cars (Krause et al. 2013), the DML split of Oh Song et al. 2016."""
from __future__ import annotations

import os
from typing import Any, ClassVar

from datasets import DATASETS
from datasets.image_source import PAPER_PRESET, ImageSource
from datasets.images import class_folders, table_from_folders
from datasets.table import Table


@DATASETS.register("cars196")
class Cars196Source(ImageSource):
    """Stanford Cars: the first 98 classes train, the other 98 test, in natural order of folder names.

    Layout ``<source>/cars196/images/<class>/*``. Natural order compares digit runs as numbers, so
    ``2`` < ``10`` and ``Model 9`` < ``Model 10`` (string order would put ``10`` first).
    """

    preset: ClassVar[dict[str, Any]] = PAPER_PRESET
    folder: ClassVar[str] = "cars196"
    layout: ClassVar[str] = "<source>/cars196/images/<class name>/*.jpg (196 class folders)"
    n_train_classes: ClassVar[int] = 98

    @classmethod
    def required_files(cls, root: str) -> list[str]:
        return [os.path.join(root, "images")]

    def read_tables(self) -> dict[str, Table]:
        images = os.path.join(self.root, "images")
        classes = class_folders(images)
        if len(classes) <= self.n_train_classes:
            raise ValueError(f"{images}: {len(classes)} class folders, but the split needs more than "
                             f"{self.n_train_classes} (first 98 train, the rest test); expected layout: {self.layout}")
        return {"train": table_from_folders(images, classes[:self.n_train_classes]),
                "test": table_from_folders(images, classes[self.n_train_classes:])}
