"""The Reality Check's training setup ships as config files (studies/presets/mlrc_*.yaml)."""
from __future__ import annotations

import glob
import os

import pytest

from conftest import ROOT

PRESETS = sorted(glob.glob(os.path.join(ROOT, "studies", "presets", "mlrc_*.yaml")))


def test_a_preset_per_paper_dataset():
    assert [os.path.basename(p) for p in PRESETS] == ["mlrc_cars196.yaml", "mlrc_cub200.yaml",
                                                      "mlrc_online_products.yaml"]


@pytest.mark.parametrize("path", PRESETS, ids=os.path.basename)
def test_the_preset_sets_the_papers_training(path, tmp_path):
    import parameters
    from tests.datasets.fixture_trees import class_tree, cub_tree, sop_tree
    dataset = os.path.basename(path)[len("mlrc_"):-len(".yaml")]
    source = str(tmp_path / "data")
    {"cub200": cub_tree, "online_products": sop_tree}.get(
        dataset, lambda s: class_tree(os.path.join(s, "cars196", "images"), ["A", "B"]))(source)
    opt = parameters.parse_args(["--config", path, "--source", source, "--not_pretrained"])
    assert opt.dataset == dataset
    assert (opt.arch, opt.embed_dim, opt.optim, opt.lr, opt.fc_lr, opt.decay) == (
        "bninception_frozen_normalize", 128, "rmsprop", 1e-6, 1e-6, 1e-4)
    assert (opt.bs, opt.samples_per_class, opt.data_sampler) == (32, 4, "m_per_class")
    assert (opt.selection, opt.patience, opt.use_tv_split) == ("val", 9, True)
