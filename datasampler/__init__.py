"""Batch samplers, selectable by exact name with ``--data_sampler``."""
from __future__ import annotations

from typing import Any

import numpy as np

from utilities.registry import Registry

SAMPLERS = Registry("sampler", flag="--data_sampler")

from datasampler.base import BaseBatchSampler  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)


def select(opt: Any, labels: np.ndarray, rank: int = 0, world_size: int = 1) -> BaseBatchSampler:
    """The batch sampler named by ``opt.data_sampler`` over the training ``labels``."""
    cls = SAMPLERS.get(opt.data_sampler)
    return cls(labels=labels, batch_size=opt.bs, samples_per_class=opt.samples_per_class,
               seed=opt.seed, rank=rank, world_size=world_size)


def names() -> list[str]:
    return SAMPLERS.names()
