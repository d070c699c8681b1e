"""Training augmentation is a pure function of (seed, epoch, index): not of the worker, the order
of loading, or the global generators (which it leaves untouched)."""
from __future__ import annotations

import pickle
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from datasets.epoch_keys import EpochKeyedBatches, keyed_batches, split_key
from datasets.folder import FolderSource
from datasets.images import ImageDataset
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from fixture_trees import textured_class_tree
from utilities.seeding import item_rng, item_seed


def train_split(tmp_path, seed: int = 0) -> ImageDataset:
    source = FolderSource(root=textured_class_tree(str(tmp_path / "data"), n_classes=4, per_class=2),
                          image_size=8, augmentation="adv", seed=seed)
    return source.to_dataset(source.tables()["train"], train=True)


def test_same_key_same_augmented_tensor_whatever_the_order_or_global_state(tmp_path):
    ds = train_split(tmp_path)
    keys = [(i, e) for e in (1, 2) for i in range(len(ds))]
    torch.manual_seed(1)
    first = {k: ds[k][0] for k in keys}
    torch.manual_seed(2), random.seed(2), np.random.seed(2)
    worker_copy = pickle.loads(pickle.dumps(ds))          # what a DataLoader worker holds
    for k in reversed(keys):
        assert torch.equal(worker_copy[k][0], first[k]), k
    assert not torch.equal(first[(0, 1)], first[(0, 2)])        # a new epoch draws a new augmentation
    assert not torch.equal(train_split(tmp_path, seed=1)[(0, 1)][0], first[(0, 1)])   # and a new seed


def test_keyed_item_leaves_the_global_generators_untouched(tmp_path):
    ds = train_split(tmp_path)
    torch.manual_seed(3), random.seed(3), np.random.seed(3)
    states = torch.get_rng_state(), random.getstate(), np.random.get_state()[1].copy()
    ds[(1, 5)]
    assert torch.equal(torch.get_rng_state(), states[0]) and random.getstate() == states[1]
    assert np.array_equal(np.random.get_state()[1], states[2])


def test_item_rng_depends_only_on_the_key():
    with item_rng(0, 1, 2):
        a = (torch.rand(3), random.random(), np.random.rand())
    torch.manual_seed(9)
    with item_rng(0, 1, 2):
        b = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(a[0], b[0]) and a[1:] == b[1:]
    assert len({item_seed(0, 1, 2), item_seed(0, 2, 1), item_seed(1, 1, 2), item_seed(0, 1, 3)}) == 4
    assert 0 <= item_seed(-1, 0, 0) < 2**63


class Batches:
    """A minimal batch sampler with an epoch, as datasampler's samplers have."""

    def __init__(self, batches, epoch=0):
        self.batches, self.epoch = batches, epoch

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def test_loader_with_workers_gives_the_same_batches_as_without(tmp_path):
    ds = train_split(tmp_path)
    sampler = Batches([[3, 0], [1, 2], [0, 3]], epoch=4)
    out = {}
    for workers in (0, 2):
        loader = DataLoader(ds, batch_sampler=keyed_batches(ds, sampler), num_workers=workers)
        out[workers] = torch.cat([images for images, _ in loader])
    assert torch.equal(out[0], out[2])
    assert torch.equal(out[0][0], out[0][5])          # index 3 drawn twice in one epoch: the same view


def test_keyed_batches_carry_the_epoch_and_keep_the_sampler():
    sampler = Batches([[2, 0], [1]], epoch=7)
    keyed = keyed_batches(TensorImageDataset(Table(np.array([0, 0, 1]), torch.zeros(3, 1, 4, 4))), sampler)
    assert isinstance(keyed, EpochKeyedBatches) and keyed.batch_sampler is sampler and len(keyed) == 2
    assert list(keyed) == [[(2, 7), (0, 7)], [(1, 7)]]
    sampler.epoch = 8
    assert next(iter(keyed)) == [(2, 8), (0, 8)]
    class PlainIndices(TensorImageDataset):
        takes_sample_keys = False
    plain = PlainIndices(Table(np.array([0, 0, 1]), torch.zeros(3, 1, 4, 4)))
    assert keyed_batches(plain, sampler) is sampler           # datasets without sample keys: unchanged
    assert split_key(3) == (3, None) and split_key((3, 1)) == (3, 1)


def test_tensor_dataset_without_transform_ignores_the_epoch():
    table = Table(np.array([0, 1]), torch.arange(2 * 16, dtype=torch.float32).reshape(2, 1, 4, 4))
    ds = TensorImageDataset(table)
    assert torch.equal(ds[(1, 3)][0], ds[1][0]) and ds[(1, 3)][1] == 1
