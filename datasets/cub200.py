"""``cub200``: Caltech-UCSD Birds-200-2011 (Wah et al. 2011), the DML split of Oh Song et al. 2016."""
from __future__ import annotations

import os
import re
from typing import Any, ClassVar

from datasets import DATASETS
from datasets.image_source import PAPER_PRESET, ImageSource
from datasets.images import class_folders, table_from_folders
from datasets.table import Table


@DATASETS.register("cub200")
class Cub200Source(ImageSource):
    """CUB-200-2011 birds: classes 1-100 train, 101-200 test, by the folder's numeric prefix.

    Layout ``<source>/cub200/images/<NNN.Class_Name>/*.jpg`` (the official ``images/`` folder);
    AppleDouble ``._*`` files are skipped.
    """

    preset: ClassVar[dict[str, Any]] = PAPER_PRESET
    folder: ClassVar[str] = "cub200"
    layout: ClassVar[str] = "<source>/cub200/images/<NNN.Class_Name>/*.jpg (e.g. 001.Black_footed_Albatross)"
    n_train_classes: ClassVar[int] = 100

    @classmethod
    def required_files(cls, root: str) -> list[str]:
        return [os.path.join(root, "images")]

    def read_tables(self) -> dict[str, Table]:
        images = os.path.join(self.root, "images")
        classes = class_folders(images)
        numbers = []
        for name in classes:
            match = re.match(r"^(\d+)\.", name)
            if match is None:
                raise ValueError(f"class folder {os.path.join(images, name)} has no numeric prefix; "
                                 f"expected layout: {self.layout}")
            numbers.append(int(match.group(1)))
        return {"train": table_from_folders(images, [c for c, n in zip(classes, numbers) if n <= self.n_train_classes]),
                "test": table_from_folders(images, [c for c, n in zip(classes, numbers) if n > self.n_train_classes])}
