"""Datasets, selectable by exact name with ``--dataset``.

``select(opt)`` returns ``{"train", "test"[, "val"]}`` torch datasets. Every
source reads its rows into :class:`~datasets.table.Table` objects; the optional train/val split
(``--use_tv_split``) is applied to the tables before transforms are attached.
"""
from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from utilities.flags import kwargs_from
from utilities.registry import Registry

DATASETS = Registry("dataset", flag="--dataset")
FLAG_TEMPLATE = "{name}_{param}"

from datasets.base import DatasetSource  # noqa: E402
from datasets.table import content_fingerprint, cv_fold_split, fingerprint, split_train_val  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "table", "tensor_dataset", "images", "image_source",
                                             "index_files", "cache", "transforms", "verified", "epoch_keys"))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def wired_values(opt: Any) -> dict[str, Any]:
    """The run-wide values ``select`` can hand a reader, by constructor argument name."""
    return {"root": opt.source_path, "seed": opt.seed, "augmentation": opt.augmentation,
            "arch": opt.arch, "skip_bad_images": opt.skip_bad_images, "cache_resized": opt.cache_resized,
            "workers": max(opt.kernels, os.cpu_count() or 1)}   # decoding threads


WIRED_NAMES = ("root", "seed", "augmentation", "arch", "skip_bad_images", "cache_resized", "workers")


def accepted(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The wired ``values`` that ``cls`` declares (``wired_params``) *and* its constructor takes
    (every declared one when it takes ``**kwargs``): a reader's signature lists only what it needs."""
    params = inspect.signature(cls.__init__).parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return {k: v for k, v in values.items() if k in cls.wired_params and (takes_all or k in params)}


def unfilled_arguments(cls: type) -> list[str]:
    """Required (default-less) constructor arguments that ``select`` cannot fill: not a declared
    wired value it supplies (flags need defaults). Empty for a valid reader."""
    wired = set(cls.wired_params) & set(WIRED_NAMES)
    return [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
            if p.default is inspect.Parameter.empty and p.name not in wired
            and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]


def build_source(opt: Any) -> DatasetSource:
    """The dataset source named by ``opt.dataset``, with its flags and the wired arguments its
    constructor takes (inspected from its signature)."""
    cls = DATASETS.get(opt.dataset)
    missing = unfilled_arguments(cls)
    if missing:
        raise TypeError(f"--dataset {opt.dataset}: {cls.__name__}.__init__ requires '{missing[0]}', which "
                        f"is neither a wired value ({', '.join(WIRED_NAMES)}) nor a flag with a default")
    kwargs = kwargs_from(opt, cls, flag_template(opt.dataset))
    kwargs.update(accepted(cls, wired_values(opt)))
    return cls(**kwargs)


def select(opt: Any) -> dict[str, Dataset]:
    """Build the splits of ``opt.dataset``: train (train transforms), val and test (eval transforms)."""
    source = build_source(opt)
    tables = source.tables()
    if getattr(opt, "cv_folds", 0):         # class-disjoint cross-validation fold (--cv_folds K --cv_fold i)
        tables["train"], tables["val"] = cv_fold_split(tables["train"], opt.cv_folds, opt.cv_fold)
    elif opt.use_tv_split:
        tables["train"], tables["val"] = split_train_val(
            tables["train"], opt.tv_split_perc, opt.tv_split_by_samples, opt.seed)
    return {split: source.to_dataset(table, train=(split == "train"))
            for split, table in tables.items()}


def identity(opt: Any, data: dict[str, Dataset]) -> dict[str, str]:
    """What a resume checks it trains on: the source, a fingerprint of the split tables and one
    of the files' contents (:func:`datasets.table.content_fingerprint`)."""
    source = opt.source_path if DATASETS.get(opt.dataset).needs_source else opt.dataset
    tables = {split: d.table for split, d in data.items()}
    return {"source": str(source), "fingerprint": fingerprint(tables),
            "content": content_fingerprint(tables)}


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
