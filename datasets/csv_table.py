"""``csv``: bring your own data as one table (the Open Metric Learning style)."""
from __future__ import annotations

import csv
import io
import math
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


def normalise_label(value: str) -> str:
    """One spelling per numeric label: ``1``, ``1.0``, ``01`` and ``1e0`` are all class ``1``;
    ``1.50`` and ``1.5`` are class ``1.5`` (distinct from ``1``). Non-numeric labels (``cat``,
    ``nan``) are kept as written."""
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number):
        return value
    return str(int(number)) if number.is_integer() else repr(number)


def read_rows(path: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and ``(physical line number, row)`` of every non-blank row of the CSV ``path``.

    UTF-8 with or without a byte-order mark; any other encoding is one error naming the file and
    the line of the first undecodable byte."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise ValueError(f"{path}: line {line}: byte 0x{raw[err.start]:02x} is not UTF-8; save the CSV as "
                         "UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    while True:
        line = reader.line_num + 1                      # the physical line this record starts on
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            raise ValueError(f"{path}: line {line}: {err}") from None
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [h.strip() for h in record]
            continue
        rows.append((line, {k: record[i].strip() if i < len(record) else "" for i, k in enumerate(header)}))
    return header or [], rows


def refuse_duplicates(path: str, split: str, paths: list[str], lines: list[int]) -> None:
    """A split that lists one image twice would match it with itself (recall 0 -> 1): refuse it."""
    seen: dict[str, list[int]] = {}
    for image, line in zip(paths, lines):
        seen.setdefault(os.path.normpath(image), []).append(line)
    repeated = {image: at for image, at in seen.items() if len(at) > 1}
    if repeated:
        named = "; ".join(f"{image} (lines {', '.join(map(str, at))})" for image, at in list(repeated.items())[:3])
        raise ValueError(f"{path}: split {split} lists {len(repeated)} image path(s) more than once: {named}"
                         f"{' and more' if len(repeated) > 3 else ''}; each image may appear once per split")


@DATASETS.register("csv")
class CsvSource(ImageSource):
    """A CSV table with columns ``label, path, split`` and optional ``is_query, is_gallery, category``.

    ``--source`` is the CSV file, or a folder holding ``dataset.csv``. ``split`` is ``train``,
    ``test`` or ``val``; relative paths are relative to the CSV's folder; labels and categories
    may be any strings, numeric ones compared as numbers (``1`` and ``1.0`` are one class, ``1.5``
    another: :func:`normalise_label`). Test rows with ``is_query``/``is_gallery`` columns are
    evaluated query -> gallery; without them every test item is both.

    Refused with one line naming the file (exit 2): a file that is not UTF-8 (a byte-order mark is
    fine), an image path listed twice in one split (it would retrieve itself), and an evaluation
    split with no query or no gallery rows. Line numbers in errors are physical lines (blank lines
    counted).
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

    def where(self) -> str:
        return self.csv_file(self.source_root)

    def read_tables(self) -> dict[str, Table]:
        path = self.csv_file(self.source_root)
        header, rows = read_rows(path)
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column {missing[0]!r}; expected {self.layout}")
        for line, row in rows:
            if row["split"] not in SPLITS:
                raise ValueError(f"{path}: line {line}: split {row['split']!r} is not one of {list(SPLITS)}")
        out = {}
        for split in SPLITS:
            sel = [(line, r) for line, r in rows if r["split"] == split]
            if not sel and split == "val":
                continue
            paths = [r["path"] if os.path.isabs(r["path"]) else os.path.join(self.root, r["path"]) for _, r in sel]
            refuse_duplicates(path, split, paths, [line for line, _ in sel])
            labels = [normalise_label(r["label"]) for _, r in sel]
            table = Table(labels=contiguous_labels(np.asarray(labels, dtype=object))
                          if sel else np.zeros(0, np.int64), items=np.asarray(paths, dtype=object))
            if "category" in header:
                table.category = contiguous_labels(np.asarray([normalise_label(r["category"]) for _, r in sel],
                                                              dtype=object))
            if split != "train" and ("is_query" in header or "is_gallery" in header):
                table.is_query, table.is_gallery = (
                    np.asarray([read_bool(r.get(c, "1"), f"{path}: line {line}: {c}") if c in header else True
                                for line, r in sel], dtype=bool) for c in ("is_query", "is_gallery"))
            out[split] = table
        return out
