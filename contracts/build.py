"""Building a component under check: the one place the checks construct components.

Components are built through their public classes with their defaults, plus the values
``select`` derives from the data (a loss's ``n_classes``/``embed_dim``, a sampler's labels, a
dataset source's wired values), exactly as a run builds them.
"""
from __future__ import annotations

import inspect
from typing import Any, Mapping

import numpy as np

from contracts.fixtures import D, N_CLASSES

SAMPLER_LABELS = np.repeat(np.arange(12), 6)                 # 12 classes x 6 items = 72 items
SAMPLER_CATEGORIES = SAMPLER_LABELS // 4                     # 3 super-classes of 4 classes
SAMPLER_STORAGE = np.random.default_rng(0).normal(size=(len(SAMPLER_LABELS), 4))
SAMPLER_BS, SAMPLER_K = 8, 2
#: Keyword arguments for samplers that take them (batch-match pools fit the 72 items).
SAMPLER_KWARGS = {"samples_per_class": SAMPLER_K, "categories": SAMPLER_CATEGORIES, "pool_size": 24,
                  "length_before_new_iter": 40}
#: Values a loss owning parameters (proxies, class weights) gets from the data and the flags.
LOSS_DERIVED = {"n_classes": N_CLASSES, "embed_dim": D}


def takes(cls: type, name: str) -> bool:
    """Whether ``cls``'s constructor has a parameter ``name``."""
    return name in inspect.signature(cls.__init__).parameters


def build(kind: str, component: Any, *, root: str | None = None, params: Mapping[str, Any] | None = None,
          embed_dim: int = D, in_channels: int = 3, **overrides: Any) -> Any:
    """A fresh ``component`` of ``kind``; ``overrides`` replace constructor arguments (a sampler's
    ``seed``, ``rank``, ``world_size``). A dataset source gives its splits (data under ``root``,
    constructor arguments ``params``); an architecture name its network (``embed_dim``,
    ``in_channels``); a metric name its registry entry."""
    c = component
    if kind == "loss":
        from utilities.registry import Registry
        needs = Registry.needs_of(c)                             # what it declares, as criteria.select hands it
        return c(**{k: v for k, v in LOSS_DERIVED.items() if k in needs}, **overrides)
    if kind == "sampler":
        kwargs = {"labels": SAMPLER_LABELS, "batch_size": SAMPLER_BS, "seed": 3, "rank": 0, "world_size": 1,
                  **{k: v for k, v in SAMPLER_KWARGS.items() if takes(c, k)}, **overrides}
        sampler = c(**kwargs)
        if c.requires_storage:
            sampler.set_storage(SAMPLER_STORAGE)
        return sampler
    if kind == "architecture":
        import architectures
        if not isinstance(c, str):                               # an already built network
            return c
        return architectures.build(c, embed_dim=embed_dim, in_channels=in_channels, pretrained=False)
    if kind == "dataset":
        return dataset_splits(c, root, params or {})
    if kind == "metric":
        import metrics
        return metrics.METRICS.entry(c) if isinstance(c, str) else c
    return c(**overrides)                                        # miners, distances, reducers, regularizers


def dataset_source(cls: type, root: str | None, params: Mapping[str, Any]) -> Any:
    """The source ``cls`` with ``params`` (its flags; the rest keep their defaults) and the wired
    values ``datasets.select`` hands a reader (those it declares in ``wired_params``): the
    built-in run defaults under the source's preset, with ``--source root`` and no loader workers."""
    import datasets
    import parameters
    run = parameters.build_parser().parse_args([])
    vars(run).update(cls.preset, source_path=root or "", kernels=0)
    needs = datasets.DATASETS.needs_of(cls)
    return cls(**{k: v for k, v in datasets.wired_values(run).items() if k in needs}, **params)


def dataset_splits(cls: type, root: str | None, params: Mapping[str, Any]) -> dict[str, Any]:
    """``{split: dataset}`` as ``datasets.select`` makes them (train with the train transforms)."""
    import datasets
    source = dataset_source(cls, root, params)
    return datasets.to_splits(source, source.tables())
