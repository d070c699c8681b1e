"""``cub200``: Caltech-UCSD Birds-200-2011 (Wah et al. 2011), the DML split of Oh Song et al. 2016."""
from __future__ import annotations

import os
import re
from typing import ClassVar

from datasets import DATASETS
from datasets.image_source import ClassFolderSource


@DATASETS.register("cub200")
class Cub200Source(ClassFolderSource):
    """CUB-200-2011 birds: classes 1-100 train, 101-200 test, by the folder's numeric prefix.

    Layout ``<source>/cub200/images/<NNN.Class_Name>/*.jpg`` (the official ``images/`` folder);
    AppleDouble ``._*`` files are skipped.
    """

    folder: ClassVar[str] = "cub200"
    layout: ClassVar[str] = "<source>/cub200/images/<NNN.Class_Name>/*.jpg (e.g. 001.Black_footed_Albatross)"

    def split_classes(self, classes: list[str]) -> tuple[list[str], list[str]]:
        numbers = []
        for name in classes:
            match = re.match(r"^(\d+)\.", name)
            if match is None:
                raise ValueError(f"class folder {os.path.join(self.root, 'images', name)} has no numeric prefix; "
                                 f"expected layout: {self.layout}")
            numbers.append(int(match.group(1)))
        return ([c for c, n in zip(classes, numbers) if n <= 100], [c for c, n in zip(classes, numbers) if n > 100])
