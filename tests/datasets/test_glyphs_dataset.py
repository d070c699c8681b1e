"""The embedded glyphs dataset: seeded, class-disjoint, and the tv split."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import datasets
import parameters
from datasets.glyphs import generate_glyphs
from datasets.table import Table, split_train_val


def test_same_seed_same_images_other_seed_other_images():
    a, la = generate_glyphs(10, 4, 16, seed=5)
    b, lb = generate_glyphs(10, 4, 16, seed=5)
    c, _ = generate_glyphs(10, 4, 16, seed=6)
    assert np.array_equal(a, b) and np.array_equal(la, lb) and not np.array_equal(a, c)
    assert a.shape == (40, 1, 16, 16) and a.min() >= 0 and a.max() <= 1


def test_default_split_is_class_disjoint_and_sized():
    opt = parameters.parse_args(["--glyphs_n_classes", "20", "--glyphs_samples", "5", "--glyphs_image_size", "16"])
    source = datasets.build_source(opt)
    tables = source.tables()
    assert len(tables["train"]) == 50 and len(tables["test"]) == 50
    train_imgs, test_imgs = tables["train"].items, tables["test"].items
    # labels restart at 0 in each split; classes are disjoint because no image is shared
    assert set(tables["train"].labels) == set(range(10)) == set(tables["test"].labels)
    assert not any(torch.equal(train_imgs[0], t) for t in test_imgs)


def test_select_returns_datasets_with_labels_and_items():
    opt = parameters.parse_args(["--glyphs_n_classes", "8", "--glyphs_samples", "3", "--glyphs_image_size", "12"])
    data = datasets.select(opt)
    image, label = data["train"][0]
    assert set(data) == {"train", "test"} and image.shape == (1, 12, 12) and isinstance(label, int)
    assert isinstance(data["train"].labels, np.ndarray)


@pytest.mark.parametrize("by_samples", [False, True])
def test_tv_split(by_samples):
    labels = np.repeat(np.arange(10), 5)
    table = Table(labels=labels, items=np.arange(50))
    train, val = split_train_val(table, 0.8, by_samples, seed=0)
    assert len(train) + len(val) == 50
    train_items, val_items = set(train.items.tolist()), set(val.items.tolist())
    assert not train_items & val_items
    if by_samples:       # every class on both sides
        assert set(labels[train.items]) == set(labels[val.items]) == set(range(10))
    else:                # class-disjoint, relabelled from 0
        assert not set(labels[train.items]) & set(labels[val.items])
        assert set(train.labels) == set(range(8)) and set(val.labels) == set(range(2))


def test_tv_split_through_select_on_digits():
    opt = parameters.parse_args(["--dataset", "digits", "--use_tv_split", "--tv_split_perc", "0.6"])
    data = datasets.select(opt)
    assert set(data) == {"train", "val", "test"}
    assert len(set(data["train"].labels)) == 3 and len(set(data["val"].labels)) == 2
