"""Distances and similarities between embeddings, selectable by name.

Used by losses (``--loss_distance``) and miners (``--miner_distance_fn``). Every class derives
from :class:`distances.base.BaseDistance` and declares ``is_similarity``.
"""
from __future__ import annotations

from typing import Any

from utilities.flags import kwargs_from
from utilities.registry import Registry

DISTANCES = Registry("distance", flag="--loss_distance")
FLAG_TEMPLATE = "distance_{param}"

from distances.base import BaseDistance  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)


def build(name: str, opt: Any = None, **overrides: Any) -> BaseDistance:
    """Build the distance ``name``, reading its ``--distance_<param>`` flags from ``opt``."""
    cls = DISTANCES.get(name)
    kwargs = kwargs_from(opt, cls, FLAG_TEMPLATE) if opt is not None else {}
    kwargs.update(overrides)
    return cls(**kwargs)


def names() -> list[str]:
    return DISTANCES.names()
