"""``folder``: any ImageFolder-style tree, split into class-disjoint train and test sets."""
from __future__ import annotations

from typing import ClassVar

from datasets import DATASETS
from datasets.image_source import ImageSource
from datasets.images import class_folders, table_from_folders
from datasets.table import Table
from utilities.flags import OPEN_UNIT, Domain


@DATASETS.register("folder")
class FolderSource(ImageSource):
    """An ImageFolder tree ``<source>/<class>/*.jpg``; classes split into disjoint train and test.

    Without ``--folder_train_classes``, the first ``--folder_train_frac`` of the classes in natural
    order (numbers compared as numbers) train and the rest test, so the split does not depend on
    the seed.

    Parameters
    ----------
    train_frac : float
        Fraction of the classes (in natural order) used for training.
    train_classes : list[str]
        Class folder names used for training (overrides --folder_train_frac); all others test.
    """

    layout: ClassVar[str] = "<source>/<class name>/*.jpg (one sub-folder per class)"
    param_domains: ClassVar[dict[str, Domain]] = {**ImageSource.param_domains, "train_frac": OPEN_UNIT}

    def __init__(self, train_frac: float = 0.5, train_classes: list[str] | None = None, root: str = "",
                 seed: int = 0, augmentation: str = "base", arch: str = "", image_size: int = 0,
                 skip_bad_images: bool = False, cache_resized: int = 0, workers: int = 8):
        super().__init__(root, seed, augmentation, arch, image_size, skip_bad_images, cache_resized, workers)
        if not 0.0 < train_frac < 1.0:
            raise ValueError(f"--folder_train_frac must be in (0, 1), got {train_frac}")
        self.train_frac, self.train_classes = train_frac, train_classes

    def read_tables(self) -> dict[str, Table]:
        classes = class_folders(self.root)
        if self.train_classes:
            unknown = sorted(set(self.train_classes) - set(classes))
            if unknown:
                raise ValueError(f"--folder_train_classes: no class folder {unknown[0]!r} in {self.root}")
            train = [c for c in classes if c in set(self.train_classes)]
        else:
            train = classes[:int(round(len(classes) * self.train_frac))]
        test = [c for c in classes if c not in set(train)]
        if not train or not test:
            raise ValueError(f"{self.root}: {len(classes)} class folder(s) give an empty train or test split "
                             "(check --folder_train_frac / --folder_train_classes)")
        return {"train": table_from_folders(self.root, train), "test": table_from_folders(self.root, test)}
