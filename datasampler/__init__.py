"""Batch samplers, selectable by exact name with ``--data_sampler``.

``select(opt, labels)`` is the only place where flags become sampler arguments. Every sampler
needs the run's ``labels, batch_size, seed, rank, world_size``; the sampler flags of the
Revisiting-DML tool keep their names and are handed over as values a sampler may declare it needs
(:data:`FLAG_KWARGS`, ``wired_params``), as are the super-class ``categories``; any other
constructor argument gets a generated ``--data_<sampler>_<param>`` flag.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from utilities.registry import Registry

FLAG_TEMPLATE = "data_{name}_{param}"

# constructor argument -> its value from the old tool's explicit sampler flags
FLAG_KWARGS: dict[str, Callable[[Any], Any]] = {
    "samples_per_class": lambda opt: opt.samples_per_class,
    "pool_size": lambda opt: opt.data_batchmatch_bigbs,
    "n_candidates": lambda opt: opt.data_batchmatch_ncomps,
    "refresh_storage": lambda opt: not opt.data_storage_no_update,
    "d2_lambda": lambda opt: opt.data_d2_coreset_lambda,
    "lowproj_dim": lambda opt: opt.data_sampler_lowproj_dim,
    "softened": lambda opt: opt.data_gc_softened,
}
SAMPLERS = Registry("sampler", flag="--data_sampler", template=FLAG_TEMPLATE,
                    supplies=("labels", "batch_size", "seed", "rank", "world_size", "categories", *FLAG_KWARGS))

from datasampler.base import BaseBatchSampler  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "storage", "batchmatch"))


def select(opt: Any, labels: np.ndarray, rank: int = 0, world_size: int = 1,
           categories: np.ndarray | None = None) -> BaseBatchSampler:
    """The batch sampler named by ``opt.data_sampler`` over the training ``labels``.

    ``categories`` (super-class of every item) is passed to samplers that take it.
    """
    if "samples_per_class" in SAMPLERS.needs(opt.data_sampler):   # samplers that draw K images per class
        check_class_sizes(labels, opt.samples_per_class)
    return SAMPLERS.create(opt.data_sampler, opt, labels=labels, batch_size=opt.bs, seed=opt.seed, rank=rank,
                           world_size=world_size, categories=categories,
                           **{name: value(opt) for name, value in FLAG_KWARGS.items()})


def check_class_sizes(labels: np.ndarray, samples_per_class: int) -> None:
    """Reject ``--samples_per_class`` above the smallest training class: such a class would have
    to repeat images inside one batch, which silently creates trivial positive pairs. (Built
    directly with keyword arguments, the K-per-class samplers still draw a smaller class with
    replacement.)"""
    counts = np.bincount(np.asarray(labels))
    present = np.flatnonzero(counts)
    smallest = present[np.argmin(counts[present])]
    if samples_per_class > counts[smallest]:
        raise ValueError(f"--samples_per_class {samples_per_class} is larger than the smallest training "
                         f"class (class {smallest} has {counts[smallest]} images)")


def names() -> list[str]:
    return SAMPLERS.names()
