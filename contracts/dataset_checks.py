"""The dataset contract: ``datasets.select`` can build the source, whose train and test (and val)
splits are :class:`~datasets.base.SplitDataset` objects with ``(image, label)`` items."""
from __future__ import annotations

import numpy as np
import torch

import datasets
from contracts.base import Subject, check
from datasets.base import DatasetSource, SplitDataset
from datasets.table import Table, fingerprint
from utilities.registry import RegistrationError


@check("dataset")
def check_dataset_reader(subject: Subject) -> None:
    """A ``DatasetSource`` that ``datasets.select`` can build: what it declares it needs
    (``wired_params``) is supplied and accepted, and every other argument becomes a flag (the
    check a registered source passes when it registers)."""
    cls = subject.component
    assert isinstance(cls, type) and issubclass(cls, DatasetSource), "not a datasets.base.DatasetSource"
    try:
        datasets.DATASETS.check_declaration(cls)
    except RegistrationError as err:
        raise AssertionError(str(err)) from None


@check("dataset")
def check_dataset_items(subject: Subject) -> None:
    """Splits train and test (and val); items ``(FloatTensor[C, H, W] or uint8 RGB [3, H, W], int)``
    that agree with ``labels``, a numpy int array; ``is_query``/``is_gallery`` both bool arrays or both ``None``."""
    data = subject.built
    assert isinstance(data, dict), f"splits are a {type(data).__name__}, not a dict"
    assert {"train", "test"} <= set(data) <= {"train", "val", "test"}, f"splits {sorted(data)}"
    for split, ds in data.items():
        assert len(ds) > 0, f"[{split}]: empty"
        labels = ds.labels
        assert isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.integer), (
            f"[{split}]: labels is {type(labels).__name__} {getattr(labels, 'dtype', '')}, not a numpy int array")
        assert len(labels) == len(ds), f"[{split}]: {len(labels)} labels for {len(ds)} items"
        for i in (0, len(ds) - 1):
            item = ds[i]
            assert isinstance(item, tuple) and len(item) == 2, f"[{split}][{i}]: not an (image, label) pair"
            image, label = item
            assert isinstance(image, torch.Tensor) and image.dim() == 3 and (
                image.dtype == torch.float32 or (image.dtype == torch.uint8 and image.shape[0] == 3)), (
                f"[{split}][{i}]: image is {type(image).__name__} {getattr(image, 'dtype', '')} "
                f"{tuple(getattr(image, 'shape', ()))}, not FloatTensor[C, H, W] nor uint8 RGB pixels [3, H, W]")
            assert isinstance(label, int) and not isinstance(label, bool), f"[{split}][{i}]: label is {type(label).__name__}"
            assert label == int(labels[i]), f"[{split}][{i}]: label {label} but labels[{i}] = {labels[i]}"
        masks = {"is_query": ds.is_query, "is_gallery": ds.is_gallery}
        for name, value in masks.items():
            assert value is None or (isinstance(value, np.ndarray) and value.dtype == bool and len(value) == len(ds)), (
                f"[{split}]: {name} is not a bool array of length {len(ds)}")
        assert (masks["is_query"] is None) == (masks["is_gallery"] is None), f"[{split}]: has only one of is_query/is_gallery"


@check("dataset")
def check_dataset_protocol(subject: Subject) -> None:
    """Every split is a ``datasets.base.SplitDataset`` over a ``Table`` of its rows (what a run
    fingerprints), whose ``eval_view`` is a split dataset of the same rows."""
    data = subject.built
    for split, ds in data.items():
        assert isinstance(ds, SplitDataset), (
            f"[{split}]: a {type(ds).__name__}, not a datasets.base.SplitDataset (table, labels, is_query, "
            f"is_gallery, category, eval_view)")
        assert isinstance(ds.table, Table) and len(ds.table) == len(ds), f"[{split}]: table is not a Table of its rows"
        view = ds.eval_view()
        assert isinstance(view, SplitDataset) and len(view) == len(ds) and np.array_equal(view.labels, ds.labels), (
            f"[{split}]: eval_view() is not a split dataset of the same rows")
        assert view[0][1] == ds[0][1], f"[{split}]: eval_view()[0] has another label"
    assert len(fingerprint({split: ds.table for split, ds in data.items()})) == 64, "the tables give no fingerprint"
