"""Datasets, selectable by exact name with ``--dataset``.

``select(opt)`` returns ``{"train", "test"[, "val"]}`` split datasets
(:class:`~datasets.base.SplitDataset`: items ``(image, label)``, with ``table``, ``labels``,
``is_query``/``is_gallery``, ``category`` and ``eval_view``). Every source reads its rows into
:class:`~datasets.table.Table` objects; the optional train/val split (``--use_tv_split``) is
applied to the tables before transforms are attached.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from utilities.registry import Registry

FLAG_TEMPLATE = "{name}_{param}"
#: The run-wide values ``select`` hands a reader that declares them (``wired_params``).
WIRED_NAMES = ("root", "seed", "augmentation", "arch", "skip_bad_images", "cache_resized", "workers")
DATASETS = Registry("dataset", flag="--dataset", template=FLAG_TEMPLATE, supplies=WIRED_NAMES)

from datasets.base import DatasetSource, SplitDataset  # noqa: E402
from datasets.table import Table, content_fingerprint, cv_fold_split, fingerprint, split_train_val  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "table", "tensor_dataset", "images", "image_source",
                                             "index_files", "cache", "transforms", "verified", "epoch_keys"))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def wired_values(opt: Any) -> dict[str, Any]:
    """The run-wide values ``select`` hands a reader (each only if the reader declares it)."""
    return {"root": opt.source_path, "seed": opt.seed, "augmentation": opt.augmentation,
            "arch": opt.arch, "skip_bad_images": opt.skip_bad_images, "cache_resized": opt.cache_resized,
            "workers": max(opt.kernels, os.cpu_count() or 1)}   # decoding threads


def build_source(opt: Any) -> DatasetSource:
    """The dataset source named by ``opt.dataset``, with its flags and the run-wide values it
    declares in ``wired_params`` (checked against its constructor when it registered)."""
    return DATASETS.create(opt.dataset, opt, **wired_values(opt))


def select(opt: Any) -> dict[str, SplitDataset]:
    """Build the splits of ``opt.dataset``: train (train transforms), val and test (eval transforms)."""
    source = build_source(opt)
    tables = source.tables()
    if getattr(opt, "cv_folds", 0):         # class-disjoint cross-validation fold (--cv_folds K --cv_fold i)
        tables["train"], tables["val"] = cv_fold_split(tables["train"], opt.cv_folds, opt.cv_fold)
    elif opt.use_tv_split:
        tables["train"], tables["val"] = split_train_val(
            tables["train"], opt.tv_split_perc, opt.tv_split_by_samples, opt.seed)
    return to_splits(source, tables)


def to_splits(source: DatasetSource, tables: dict[str, Table]) -> dict[str, SplitDataset]:
    """The split datasets of ``tables``: train with the train transforms, the others with the eval ones."""
    return {split: source.to_dataset(table, train=(split == "train")) for split, table in tables.items()}


def identity(opt: Any, data: dict[str, SplitDataset]) -> dict[str, str]:
    """What a resume checks it trains on: the source, a fingerprint of the split tables and one
    of the files' contents (:func:`datasets.table.content_fingerprint`)."""
    source = opt.source_path if DATASETS.get(opt.dataset).needs_source else opt.dataset
    tables = {split: d.table for split, d in data.items()}
    return {"source": str(source), "fingerprint": fingerprint(tables),
            "content": content_fingerprint(tables)}


def n_classes(dataset: SplitDataset) -> int:
    """The number of distinct labels of a split (the class count of proxy and softmax losses)."""
    return int(len(np.unique(np.asarray(dataset.labels))))


def channels(dataset: SplitDataset) -> int:
    """The number of image channels of a split's items (the network's input channels)."""
    return int(dataset[0][0].shape[0])


def eval_view(dataset: SplitDataset) -> SplitDataset:
    """``dataset`` with the evaluation transforms (the training split embedded for train metrics)."""
    return dataset.eval_view()


def names() -> list[str]:
    return DATASETS.names()
