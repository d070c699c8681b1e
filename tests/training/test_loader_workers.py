"""Data-loader workers do not change results: augmentation is a function of (seed, epoch, sample)."""
from __future__ import annotations

import csv
import os
import sys

import pytest

import main
from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "tests", "datasets"))
from fixture_trees import textured_class_tree  # noqa: E402


def image_argv(tmp_path, kernels: int, savename: str, n_epochs: int = 2) -> list[str]:
    """A tiny ``--dataset folder`` run (8 classes of 4 textured 20 px images, 8 px crops, convnet)."""
    data = str(tmp_path / "data")
    if not os.path.isdir(data):
        textured_class_tree(data)
    return ["--dataset", "folder", "--source", data, "--folder_image_size", "8", "--arch", "convnet",
            "--lr", "0.01", "--bs", "8", "--samples_per_class", "2", "--embed_dim", "8", "--arch_convnet_width", "4",
            "--device", "cpu", "--evaluation_metrics", "e_recall@1", "nmi", "--seed", "0", "--no_train_metrics",
            "--kernels", str(kernels), "--n_epochs", str(n_epochs),
            "--save_path", str(tmp_path / "runs"), "--savename", savename]


def metrics_bytes(tmp_path, savename: str) -> bytes:
    with open(tmp_path / "runs" / "folder" / savename / "metrics.csv", "rb") as fh:
        return fh.read()


def losses(tmp_path, savename: str) -> list[str]:
    """The per-epoch training losses as written (train.csv; its wall times differ by design)."""
    with open(tmp_path / "runs" / "folder" / savename / "train.csv", newline="") as fh:
        return [row["loss"] for row in csv.DictReader(fh)]


@pytest.mark.slow
def test_image_run_metrics_identical_with_0_and_2_workers(tmp_path):
    assert main.main(image_argv(tmp_path, 0, "k0")) == 0
    assert main.main(image_argv(tmp_path, 2, "k2")) == 0
    assert losses(tmp_path, "k0") == losses(tmp_path, "k2")
    assert metrics_bytes(tmp_path, "k0") == metrics_bytes(tmp_path, "k2")


@pytest.mark.slow
def test_image_run_resumed_with_2_workers_matches_straight_run(tmp_path):
    assert main.main(image_argv(tmp_path, 2, "straight")) == 0
    assert main.main(image_argv(tmp_path, 2, "resumed", n_epochs=1)) == 0
    folder = str(tmp_path / "runs" / "folder" / "resumed")
    assert main.main(image_argv(tmp_path, 2, "resumed") + ["--resume", folder]) == 0
    assert losses(tmp_path, "resumed") == losses(tmp_path, "straight")
    assert metrics_bytes(tmp_path, "resumed") == metrics_bytes(tmp_path, "straight")
