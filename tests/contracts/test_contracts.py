"""Every registry entry against its kind's contract (tests/contracts/checks.py)."""
from __future__ import annotations

import functools
import os

import pytest

import architectures
import batch_mining
import criteria
import datasampler
import datasets
import distances
import metrics
import parameters
from criteria.reducers import REDUCERS
from criteria.regularizers import EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS
from tests.contracts import checks
from tests.datasets.fixture_trees import class_tree, cub_tree, in_shop_tree, omniglot_tree, sop_tree, write_image


@pytest.mark.parametrize("name", criteria.LOSSES.names())
def test_loss_contract(name):
    checks.check_loss(criteria.LOSSES.get(name))


@pytest.mark.parametrize("name", batch_mining.MINERS.names())
def test_miner_contract(name):
    checks.check_miner(batch_mining.MINERS.get(name))


@pytest.mark.parametrize("name", distances.DISTANCES.names())
def test_distance_contract(name):
    checks.check_distance(distances.DISTANCES.get(name))


@pytest.mark.parametrize("name", REDUCERS.names())
def test_reducer_contract(name):
    checks.check_reducer(REDUCERS.get(name))


@pytest.mark.parametrize("name", EMBEDDING_REGULARIZERS.names())
def test_embedding_regularizer_contract(name):
    checks.check_regularizer(EMBEDDING_REGULARIZERS.get(name), rows=checks.B)


@pytest.mark.parametrize("name", WEIGHT_REGULARIZERS.names())
def test_weight_regularizer_contract(name):
    checks.check_regularizer(WEIGHT_REGULARIZERS.get(name), rows=checks.N_CLASSES)


@pytest.mark.parametrize("name", datasampler.SAMPLERS.names())
def test_sampler_contract(name):
    checks.check_sampler(datasampler.SAMPLERS.get(name))


# --------------------------------------------------------------------------- architectures
SIZES = {"bninception": 64}                       # BN-Inception's pooling needs >= 64 px
#: The (base, suffix) cases run without -m slow: the small backbones; the rest are marked slow.
FAST_ARCHS = {("convnet", ""), ("convnet", "_normalize"), ("resnet18", "_normalize")}


def _arch_cases():
    for name in architectures.ARCHITECTURES.names():
        for suffix in ("", "_normalize"):
            marks = () if (name, suffix) in FAST_ARCHS else (pytest.mark.slow,)
            yield pytest.param(name, suffix, marks=marks, id=name + suffix)


@pytest.mark.parametrize("name, suffix", list(_arch_cases()))
def test_architecture_contract(name, suffix):
    import torch
    torch.manual_seed(0)
    model = architectures.build(name + suffix, embed_dim=8, in_channels=3, pretrained=False)
    checks.check_architecture(model, 8, normalize=suffix == "_normalize", size=SIZES.get(name, 32), name=name + suffix)


# --------------------------------------------------------------------------- datasets
def _csv_tree(root: str) -> list[str]:
    lines = ["label,path,split,is_query,is_gallery"]
    for i in range(8):
        write_image(os.path.join(root, "imgs", f"{i}.jpg"), i)
        split = "train" if i < 4 else "test"
        lines.append(f"c{i // 2},imgs/{i}.jpg,{split},{int(i % 2 == 0)},1")
    with open(os.path.join(root, "dataset.csv"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return []


#: For each registered dataset: (fixture writer given the source folder, extra flags).
FIXTURES = {
    "cars196": (lambda root: class_tree(os.path.join(root, "cars196", "images"),
                                        [f"Model {i}" for i in range(1, 197)], per_class=1), []),
    "csv": (_csv_tree, []),
    "cub200": (cub_tree, []),
    "digits": (None, []),
    "folder": (lambda root: class_tree(root, ["a", "b", "c", "d"]), []),
    "glyphs": (None, ["--glyphs_n_classes", "8", "--glyphs_samples", "4", "--glyphs_image_size", "16"]),
    "in_shop": (in_shop_tree, []),
    "omniglot": (omniglot_tree, []),
    "online_products": (sop_tree, []),
}


def test_every_dataset_has_a_fixture():
    assert sorted(FIXTURES) == datasets.names()


@pytest.mark.parametrize("name", datasets.names())
def test_dataset_contract(name, tmp_path):
    checks.check_reader(datasets.DATASETS.get(name))
    writer, extra = FIXTURES[name]
    argv = ["--dataset", name, "--kernels", "0", "--evaluation_metrics", "e_recall@1", *extra]
    if writer is not None:
        writer(str(tmp_path))
        argv += ["--source", str(tmp_path), f"--{name}_image_size", "16"]
    data = datasets.select(parameters.parse_args(argv))
    checks.check_dataset_splits(data, name)


# --------------------------------------------------------------------------- metrics
@functools.lru_cache(maxsize=1)
def _all_metric_results() -> dict:
    """Every registered family's example names, computed in one evaluation (shared evidence)."""
    emb, labels = checks.metric_fixture()
    names = [n for e in metrics.METRICS.entries() for n in checks.example_names(e)]
    return dict(metrics.compute(emb, labels, names))


def _shared_compute(emb, labels, names):
    return {n: v for n, v in _all_metric_results().items() if n in names}


@pytest.mark.parametrize("name", metrics.METRICS.names())
def test_metric_contract(name):
    entry = metrics.METRICS.entry(name)
    metrics.validate_meta(name, entry.meta)
    checks.check_metric(entry, _shared_compute)


def test_one_metric_alone_matches_the_shared_evaluation():
    emb, labels = checks.metric_fixture()
    assert metrics.compute(emb, labels, ["e_recall@2"])["e_recall@2"] == _all_metric_results()["e_recall@2"]
