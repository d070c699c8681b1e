"""``online_products``: Stanford Online Products (Oh Song et al., CVPR 2016), the official split."""
from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from datasets import DATASETS
from datasets.image_source import PAPER_PRESET, ImageSource
from datasets.index_files import read_index
from datasets.table import Table, contiguous_labels

SOP_HEADER = ["image_id", "class_id", "super_class_id", "path"]


@DATASETS.register("online_products")
class OnlineProductsSource(ImageSource):
    """Stanford Online Products: 11,318 train and 11,316 test products from ``Ebay_train/test.txt``.

    Each index file has the header ``image_id class_id super_class_id path``, with ``path`` relative
    to ``images/`` (e.g. ``bicycle_final/111085122871_0.JPG``). The 12 super-classes are kept as
    ``category`` (for ``--data_sampler hierarchical``).
    """

    preset: ClassVar[dict[str, Any]] = {**PAPER_PRESET, "n_epochs": 100}
    folder: ClassVar[str] = "online_products"
    has_categories: ClassVar[bool] = True
    layout: ClassVar[str] = ("<source>/online_products/Info_Files/Ebay_{train,test}.txt (header 'image_id class_id "
                             "super_class_id path') and <source>/online_products/images/<path>")

    @classmethod
    def required_files(cls, root: str) -> list[str]:
        return [os.path.join(root, "Info_Files", f"Ebay_{s}.txt") for s in ("train", "test")] + [os.path.join(root, "images")]

    def read_tables(self) -> dict[str, Table]:
        out = {}
        for split in ("train", "test"):
            index = os.path.join(self.root, "Info_Files", f"Ebay_{split}.txt")
            cols = read_index(index, SOP_HEADER)
            try:
                classes, supers = cols["class_id"].astype(np.int64), cols["super_class_id"].astype(np.int64)
            except ValueError:
                raise ValueError(f"{index}: class_id and super_class_id must be integers") from None
            paths = np.asarray([os.path.join(self.root, "images", p) for p in cols["path"]], dtype=object)
            out[split] = Table(labels=contiguous_labels(classes), items=paths, category=contiguous_labels(supers))
        return out
