"""``cars196``: Stanford Cars (Krause et al. 2013), the DML split of Oh Song et al. 2016."""
from __future__ import annotations

from typing import ClassVar

from datasets import DATASETS
from datasets.image_source import ClassFolderSource

N_TRAIN_CLASSES = 98


@DATASETS.register("cars196")
class Cars196Source(ClassFolderSource):
    """Stanford Cars: the first 98 classes train, the other 98 test, in natural order of folder names.

    Layout ``<source>/cars196/images/<class>/*``. Natural order compares digit runs as numbers, so
    ``2`` < ``10`` and ``Model 9`` < ``Model 10`` (string order would put ``10`` first).
    """

    folder: ClassVar[str] = "cars196"
    layout: ClassVar[str] = "<source>/cars196/images/<class name>/*.jpg (196 class folders)"

    def split_classes(self, classes: list[str]) -> tuple[list[str], list[str]]:
        if len(classes) <= N_TRAIN_CLASSES:
            raise ValueError(f"{self.root}/images: {len(classes)} class folders, but the split needs more than "
                             f"{N_TRAIN_CLASSES} (the first 98 train, the rest test); expected layout: {self.layout}")
        return classes[:N_TRAIN_CLASSES], classes[N_TRAIN_CLASSES:]
