"""Every registry entry against its kind's shipped contract checks (the ``contracts`` package):
one test per check and component, the checks that apply to it (tag-based exemptions)."""
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
from contracts import Subject, checks_for, run_check
from contracts.metric_checks import example_names, metric_fixture
from criteria.reducers import REDUCERS
from criteria.regularizers import EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS
from tests.datasets.fixture_trees import class_tree, cub_tree, in_shop_tree, omniglot_tree, sop_tree, write_image

#: The registry of each kind whose entries are classes checked as they are.
CLASS_REGISTRIES = {"loss": criteria.LOSSES, "miner": batch_mining.MINERS, "distance": distances.DISTANCES,
                    "reducer": REDUCERS, "embedding_regularizer": EMBEDDING_REGULARIZERS,
                    "weight_regularizer": WEIGHT_REGULARIZERS, "sampler": datasampler.SAMPLERS}


def cases(kind: str, components: dict, slow: set = frozenset()) -> list:
    """``(name, check)`` for every component and every check that applies to it; ``slow`` names are marked slow."""
    return [pytest.param(name, check, id=f"{name}-{check.name}", marks=(pytest.mark.slow,) if name in slow else ())
            for name, component in components.items() for check in checks_for(Subject(kind, component))]


def registered(kind: str) -> dict:
    registry = CLASS_REGISTRIES[kind]
    return {name: registry.get(name) for name in registry.names()}


@pytest.mark.parametrize("kind, name, check", [pytest.param(kind, *case.values, id=f"{kind}-{case.id}")
                                               for kind in CLASS_REGISTRIES for case in cases(kind, registered(kind))])
def test_component_contract(kind, name, check):
    run_check(check, Subject(kind, CLASS_REGISTRIES[kind].get(name)))


# --------------------------------------------------------------------------- architectures
SIZES = {"bninception": 64}                       # BN-Inception's pooling needs >= 64 px
#: The networks run without -m slow: the small backbones; the rest are marked slow.
FAST_ARCHS = {"convnet", "convnet_normalize", "resnet18_normalize"}
ARCHS = {name + suffix: name + suffix for name in architectures.ARCHITECTURES.names() for suffix in ("", "_normalize")}


@functools.lru_cache(maxsize=1)                   # one network at a time: its checks run one after the other
def arch_subject(name: str) -> Subject:
    import torch
    subject = Subject("architecture", name, image_size=SIZES.get(architectures.parse_arch(name)[0], 32))
    torch.manual_seed(0)
    subject.built                                 # noqa: B018  (the network, built once under a fixed seed)
    return subject


@pytest.mark.parametrize("name, check", cases("architecture", ARCHS, slow=set(ARCHS) - FAST_ARCHS))
def test_architecture_contract(name, check):
    run_check(check, arch_subject(name))


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


#: For each registered dataset: (fixture writer given the source folder, or None; constructor arguments).
FIXTURES = {
    "cars196": (lambda root: class_tree(os.path.join(root, "cars196", "images"),
                                        [f"Model {i}" for i in range(1, 197)], per_class=1), {"image_size": 16}),
    "csv": (_csv_tree, {"image_size": 16}),
    "cub200": (cub_tree, {"image_size": 16}),
    "digits": (None, {}),
    "folder": (lambda root: class_tree(root, ["a", "b", "c", "d"]), {"image_size": 16}),
    "glyphs": (None, {"n_classes": 8, "samples": 4, "image_size": 16}),
    "in_shop": (in_shop_tree, {"image_size": 16}),
    "omniglot": (omniglot_tree, {"image_size": 16}),
    "online_products": (sop_tree, {"image_size": 16}),
}
DATASETS = {name: datasets.DATASETS.get(name) for name in datasets.names()}


def test_every_dataset_has_a_fixture():
    assert sorted(FIXTURES) == datasets.names()


@pytest.fixture(scope="module")
def dataset_subject(tmp_path_factory):
    """``name -> Subject`` with its fixture data written once; one dataset's splits held at a time."""
    held = {}

    def get(name: str) -> Subject:
        if name not in held:
            held.clear()
            root = str(tmp_path_factory.mktemp(name))
            writer, params = FIXTURES[name]
            if writer is not None:
                writer(root)
            held[name] = Subject("dataset", DATASETS[name], root=root, params=params)
        return held[name]
    return get


@pytest.mark.parametrize("name, check", cases("dataset", DATASETS))
def test_dataset_contract(name, check, dataset_subject):
    run_check(check, dataset_subject(name))


# --------------------------------------------------------------------------- metrics
@functools.lru_cache(maxsize=1)
def _all_metric_results() -> dict:
    """Every registered family's example names, computed in one evaluation (shared evidence)."""
    emb, labels = metric_fixture()
    names = [n for e in metrics.METRICS.entries() for n in example_names(e)]
    return dict(metrics.compute(emb, labels, names))


def _shared_compute(emb, labels, names):
    return {n: v for n, v in _all_metric_results().items() if n in names}


@pytest.mark.parametrize("name, check", cases("metric", {name: name for name in metrics.METRICS.names()}))
def test_metric_contract(name, check):
    run_check(check, Subject("metric", name, compute=_shared_compute))


def test_one_metric_alone_matches_the_shared_evaluation():
    emb, labels = metric_fixture()
    assert metrics.compute(emb, labels, ["e_recall@2"])["e_recall@2"] == _all_metric_results()["e_recall@2"]
