"""Datasets, selectable by exact name with ``--dataset``.

``select(opt)`` returns ``{"train", "test"[, "val"]}`` torch datasets (CONTRACT §4). Every
source reads its rows into :class:`~datasets.table.Table` objects; the optional train/val split
(``--use_tv_split``) is applied to the tables before transforms are attached.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from torch.utils.data import Dataset

from utilities.flags import kwargs_from
from utilities.registry import Registry

DATASETS = Registry("dataset", flag="--dataset")
FLAG_TEMPLATE = "{name}_{param}"

from datasets.base import DatasetSource  # noqa: E402
from datasets.table import split_train_val  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "table", "tensor_dataset", "images", "image_source",
                                             "index_files", "cache", "transforms"))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def build_source(opt: Any) -> DatasetSource:
    """The dataset source named by ``opt.dataset``, with its flags and wired arguments."""
    cls = DATASETS.get(opt.dataset)
    kwargs = kwargs_from(opt, cls, flag_template(opt.dataset))
    wired = {"root": opt.source_path, "seed": opt.seed, "augmentation": opt.augmentation,
             "arch": opt.arch, "skip_bad_images": opt.skip_bad_images, "cache_resized": opt.cache_resized,
             "workers": max(opt.kernels, 4)}
    kwargs.update({k: v for k, v in wired.items() if k in cls.wired_params})
    return cls(**kwargs)


def select(opt: Any) -> dict[str, Dataset]:
    """Build the splits of ``opt.dataset``: train (train transforms), val and test (eval transforms)."""
    source = build_source(opt)
    tables = source.tables()
    if opt.use_tv_split:
        tables["train"], tables["val"] = split_train_val(
            tables["train"], opt.tv_split_perc, opt.tv_split_by_samples, opt.seed)
    return {split: source.to_dataset(table, train=(split == "train"))
            for split, table in tables.items()}


def n_classes(dataset: Dataset) -> int:
    """The number of distinct labels of a split (the class count of proxy and softmax losses)."""
    return int(len(np.unique(np.asarray(dataset.labels))))


def channels(dataset: Dataset) -> int:
    """The number of image channels of a split's items (the network's input channels)."""
    return int(dataset[0][0].shape[0])


def eval_view(dataset: Dataset) -> Dataset:
    """``dataset`` with the evaluation transforms (the training split embedded for train metrics)."""
    view = getattr(dataset, "eval_view", None)
    return view() if view is not None else dataset


def names() -> list[str]:
    return DATASETS.names()
