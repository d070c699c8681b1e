"""Distances and similarities between embeddings, selectable by name.

Used by losses (``--loss_distance``) and miners (``--miner_distance_fn``). Every class derives
from :class:`distances.base.BaseDistance` and declares ``is_similarity``.
"""
from __future__ import annotations

from typing import Any

from utilities.registry import Registry

FLAG_TEMPLATE = "distance_{param}"
DISTANCES = Registry("distance", flag="--loss_distance", template=FLAG_TEMPLATE, supplies=())

from distances.base import BaseDistance  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)


def build(name: str, opt: Any = None, **overrides: Any) -> BaseDistance:
    """Build the distance ``name``, reading its ``--distance_<param>`` flags from ``opt``;
    ``overrides`` set parameters directly (a notebook or a test: ``build("lp", p=1.0)``)."""
    if not overrides:
        return DISTANCES.create(name, opt)
    return DISTANCES.get(name)(**{**DISTANCES.flag_values(name, opt), **overrides})


def names() -> list[str]:
    return DISTANCES.names()
