"""Transforms, eval views, the resize cache, and an end-to-end run on a cub200-layout tree."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

import architectures
import datasets
from architectures.input_space import IMAGENET
from datasets.cache import cache_folder
from datasets.folder import FolderSource
from datasets.images import ImageDataset
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from datasets.transforms import build_transform, crop_size
from fixture_trees import class_tree, cub_tree, user_cache  # noqa: F401


def test_paper_crop_sizes():
    assert crop_size("resnet50_frozen_normalize", "base", 0, train=False) == 224
    assert crop_size("googlenet", "base", 0, train=False) == 227
    assert crop_size("resnet50", "big", 0, train=True) == 256 and crop_size("resnet50", "big", 0, train=False) == 224
    assert crop_size("resnet50", "base", 32, train=True) == 32


@pytest.mark.parametrize("augmentation", ["base", "adv", "big", "red"])
def test_augmentations_and_eval_shapes(augmentation):
    image = Image.new("RGB", (300, 260), (200, 100, 50))
    train = build_transform("resnet50", augmentation, True)(image)
    assert train.shape == (3, 256, 256) if augmentation == "big" else train.shape == (3, 224, 224)
    evaluated = build_transform("googlenet", augmentation, False)(image)
    assert evaluated.shape == (3, 227, 227)


def test_pipelines_yield_pixels_and_the_networks_normalise_them():
    image = Image.new("RGB", (40, 40), (255, 128, 0))
    x = build_transform("resnet50", "base", False, image_size=8)(image)
    assert x.dtype == torch.uint8 and x[:, 4, 4].tolist() == [255, 128, 0]
    resnet = architectures.build("resnet18", 8, pretrained=False)
    expected = (torch.tensor([255, 128, 0]) / 255 - torch.tensor(IMAGENET.mean)) / torch.tensor(IMAGENET.std)
    assert torch.allclose(resnet.from_pixels(x[None])[0, :, 4, 4], expected, atol=1e-5)
    bninception = architectures.build("bninception_frozen", 8, pretrained=False)
    assert torch.allclose(bninception.from_pixels(x[None])[0, :, 4, 4],
                          torch.tensor([0 - 104.0, 128 - 117.0, 255 - 128.0]), atol=1e-3)


def test_eval_view_uses_eval_transforms(tmp_path):
    class_tree(str(tmp_path), ["a", "b", "c", "d"])
    source = FolderSource(root=str(tmp_path), image_size=8)
    tables = source.tables()
    train = source.to_dataset(tables["train"], train=True)
    view = datasets.eval_view(train)
    assert isinstance(view, ImageDataset) and view.transform is train.eval_transform
    assert torch.equal(view[0][0], view[0][0])                          # deterministic
    assert view[0][0].shape == train[0][0].shape == (3, 8, 8)
    tensor_ds = TensorImageDataset(Table(np.array([0, 1]), torch.zeros(2, 1, 4, 4)), transform=torch.neg)
    tensor_view = datasets.eval_view(tensor_ds)                         # in-memory: no transform by default
    assert tensor_view.transform is None and tensor_view.table is tensor_ds.table


def test_cache_resized_writes_small_copies_once(tmp_path):
    for c in "abcd":
        os.makedirs(tmp_path / c)
        for k in range(2):
            Image.new("RGB", (120, 80), (10, 20 * k, 30)).save(tmp_path / c / f"{k}.jpg")
    source = FolderSource(root=str(tmp_path), cache_resized=20)
    tables = source.tables()
    folder = cache_folder(str(tmp_path), 20)
    assert all(p.startswith(folder) for t in tables.values() for p in t.items)
    with Image.open(tables["train"].items[0]) as img:
        assert img.size == (30, 20)
    stamp = os.path.getmtime(tables["train"].items[0])
    again = FolderSource(root=str(tmp_path), cache_resized=20).tables()
    assert os.path.getmtime(again["train"].items[0]) == stamp          # reused, not rewritten
    assert [p.split(os.sep)[-2] for p in again["test"].items] == ["c", "c", "d", "d"]


def test_cache_resized_reports_bad_source_files(tmp_path):
    class_tree(str(tmp_path), ["a", "b"])
    bad = tmp_path / "b" / "img_0.jpg"
    bad.write_bytes(b"garbage")
    with pytest.raises(ValueError, match=f"unreadable image {bad}"):
        FolderSource(root=str(tmp_path), cache_resized=16).tables()


@pytest.mark.slow
def test_end_to_end_cub200_resnet18_frozen_normalize(tmp_path):
    import main
    cub_tree(str(tmp_path / "data"), per_class=4)
    argv = ["--dataset", "cub200", "--source", str(tmp_path / "data"), "--arch", "resnet18_frozen_normalize",
            "--not_pretrained", "--cub200_image_size", "32", "--bs", "6", "--samples_per_class", "2",
            "--n_epochs", "1", "--kernels", "0", "--device", "cpu", "--embed_dim", "8",
            "--evaluation_metrics", "e_recall@1", "nmi", "--save_path", str(tmp_path / "runs"), "--savename", "cub"]
    assert main.main(argv) == 0
    run = tmp_path / "runs" / "cub200" / "cub"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and 0.0 <= summary["metrics"]["e_recall@1"] <= 1.0
    assert "train" in (run / "metrics.csv").read_text()


def test_image_dataset_items_and_masks(tmp_path):
    class_tree(str(tmp_path), ["a"], per_class=2)
    paths = np.asarray(sorted(str(p) for p in (tmp_path / "a").iterdir()), dtype=object)
    table = Table(labels=np.array([0, 0]), items=paths, is_query=np.array([True, False]),
                  is_gallery=np.array([False, True]))
    ds = ImageDataset(table, build_transform("resnet18", "base", False, 8))
    image, label = ds[1]
    assert image.dtype == torch.uint8 and image.shape == (3, 8, 8) and label == 0
    assert ds.is_query.tolist() == [True, False]
