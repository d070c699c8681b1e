"""``in_shop``: DeepFashion In-Shop Clothes Retrieval (Liu et al., CVPR 2016)."""
from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from datasets import DATASETS
from datasets.image_source import PAPER_PRESET, ImageSource
from datasets.index_files import read_index
from datasets.table import Table, contiguous_labels

PARTITION_HEADER = ["image_name", "item_id", "evaluation_status"]
PARTITION_FILES = ("list_eval_partition.txt", os.path.join("Eval", "list_eval_partition.txt"))


@DATASETS.register("in_shop")
class InShopSource(ImageSource):
    """DeepFashion In-Shop: 3,997 train items; the test items are searched query -> gallery.

    ``list_eval_partition.txt`` (in the dataset folder or its ``Eval/``) has a row-count line, the
    header ``image_name item_id evaluation_status`` and rows like
    ``img/WOMEN/Dresses/id_00000002/02_1_front.jpg id_00000002 train``; the status is ``train``,
    ``query`` or ``gallery``. The test split holds query and gallery images with ``is_query`` /
    ``is_gallery`` masks, so evaluation retrieves gallery items for each query (not leave-one-out).
    The clothing category (e.g. ``WOMEN/Dresses``) is kept as ``category``.
    """

    preset: ClassVar[dict[str, Any]] = {**PAPER_PRESET, "n_epochs": 100}
    folder: ClassVar[str] = "in_shop"
    has_categories: ClassVar[bool] = True
    layout: ClassVar[str] = ("<source>/in_shop/list_eval_partition.txt (or Eval/list_eval_partition.txt) and "
                             "the images it names, e.g. <source>/in_shop/img/WOMEN/Dresses/id_00000002/02_1_front.jpg")

    @classmethod
    def partition_file(cls, root: str) -> str | None:
        found = [os.path.join(root, f) for f in PARTITION_FILES if os.path.isfile(os.path.join(root, f))]
        return found[0] if found else None

    @classmethod
    def check_source(cls, root: str) -> str | None:
        if cls.partition_file(cls.dataset_root(root)) is None:
            return f"{os.path.join(cls.dataset_root(root), PARTITION_FILES[0])} not found; expected layout: {cls.layout}"
        return None

    def read_tables(self) -> dict[str, Table]:
        cols = read_index(self.partition_file(self.root), PARTITION_HEADER, skip_count_line=True)
        status = cols["evaluation_status"]
        unknown = sorted(set(status) - {"train", "query", "gallery"})
        if unknown:
            raise ValueError(f"{self.partition_file(self.root)}: unknown evaluation_status {unknown[0]!r} "
                             "(expected train, query or gallery)")
        paths = np.asarray([os.path.join(self.root, p) for p in cols["image_name"]], dtype=object)
        category = contiguous_labels(np.asarray(["/".join(p.split("/")[1:3]) for p in cols["image_name"]]))
        table = Table(labels=contiguous_labels(cols["item_id"]), items=paths, category=category,
                      is_query=status == "query", is_gallery=status == "gallery")
        train = table.subset(np.flatnonzero(status == "train"))
        train.is_query = train.is_gallery = None
        return {"train": train, "test": table.subset(np.flatnonzero(status != "train"))}
