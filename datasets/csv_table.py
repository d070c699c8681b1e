"""``csv``: bring your own data as one table (the Open Metric Learning style)."""
from __future__ import annotations

import csv
import os
from typing import ClassVar

import numpy as np

from datasets import DATASETS
from datasets.image_source import ImageSource
from datasets.table import Table, contiguous_labels

REQUIRED, OPTIONAL = ("label", "path", "split"), ("is_query", "is_gallery", "category")
SPLITS = ("train", "val", "test")
DEFAULT_NAME = "dataset.csv"


def read_bool(value: str, where: str) -> bool:
    low = value.strip().lower()
    if low in ("1", "true", "yes"):
        return True
    if low in ("0", "false", "no", ""):
        return False
    raise ValueError(f"{where}: expected 0/1 or true/false, got {value!r}")


@DATASETS.register("csv")
class CsvSource(ImageSource):
    """A CSV table with columns ``label, path, split`` and optional ``is_query, is_gallery, category``.

    ``--source`` is the CSV file, or a folder holding ``dataset.csv``. ``split`` is ``train``,
    ``test`` or ``val``; relative paths are relative to the CSV's folder; labels and categories
    may be any strings. Test rows with ``is_query``/``is_gallery`` columns are evaluated query ->
    gallery; without them every test item is both.
    """

    has_categories: ClassVar[bool] = True          # when the table has a category column
    layout: ClassVar[str] = ("a CSV file (or a folder with dataset.csv) with header columns label,path,split "
                             "and optional is_query,is_gallery,category")

    @classmethod
    def csv_file(cls, source: str) -> str:
        return os.path.join(source, DEFAULT_NAME) if os.path.isdir(source) else source

    @classmethod
    def check_source(cls, root: str) -> str | None:
        path = cls.csv_file(root)
        return None if os.path.isfile(path) else f"{path} not found; expected {cls.layout}"

    @property
    def root(self) -> str:
        return os.path.dirname(os.path.abspath(self.csv_file(self.source_root)))

    def read_tables(self) -> dict[str, Table]:
        path = self.csv_file(self.source_root)
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise ValueError(f"{path}: missing column {missing[0]!r}; expected {self.layout}")
            rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
        for i, row in enumerate(rows):
            if row["split"] not in SPLITS:
                raise ValueError(f"{path}: line {i + 2}: split {row['split']!r} is not one of {list(SPLITS)}")
        out = {}
        for split in SPLITS:
            sel = [(i, r) for i, r in enumerate(rows) if r["split"] == split]
            if not sel and split == "val":
                continue
            paths = [r["path"] if os.path.isabs(r["path"]) else os.path.join(self.root, r["path"]) for _, r in sel]
            table = Table(labels=contiguous_labels(np.asarray([r["label"] for _, r in sel], dtype=object))
                          if sel else np.zeros(0, np.int64), items=np.asarray(paths, dtype=object))
            if "category" in header:
                table.category = contiguous_labels(np.asarray([r["category"] for _, r in sel], dtype=object))
            if split != "train" and ("is_query" in header or "is_gallery" in header):
                table.is_query, table.is_gallery = (
                    np.asarray([read_bool(r.get(c, "1"), f"{path}: line {i + 2}: {c}") if c in header else True
                                for i, r in sel], dtype=bool) for c in ("is_query", "is_gallery"))
            out[split] = table
        return out
