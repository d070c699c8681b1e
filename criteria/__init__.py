"""Losses, selectable by exact name with ``--loss``.

``select(opt)`` is the only place where flags become keyword arguments: each loss's own
parameters come from its ``--loss_<name>_<param>`` flags, generated from its signature.
"""
from __future__ import annotations

import inspect
from typing import Any

from torch import nn

import distances
from utilities.flags import kwargs_from
from utilities.registry import Registry

LOSSES = Registry("loss", flag="--loss")
FLAG_TEMPLATE = "loss_{name}_{param}"

from criteria import margin  # noqa: E402,F401


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def build(name: str, opt: Any) -> nn.Module:
    """Build one loss by name, wiring distance and class count from ``opt``."""
    cls = LOSSES.get(name)
    kwargs = kwargs_from(opt, cls, flag_template(name))
    accepted = inspect.signature(cls.__init__).parameters
    if "distance" in accepted:
        dist_name = getattr(opt, "loss_distance", None) or cls.default_distance
        kwargs["distance"] = distances.build(dist_name, opt)
    if "n_classes" in accepted:
        kwargs["n_classes"] = opt.n_classes
    if "embed_dim" in accepted:
        kwargs["embed_dim"] = opt.embed_dim
    return cls(**kwargs)


def select(opt: Any) -> nn.Module:
    """The loss named by ``opt.loss``."""
    return build(opt.loss, opt)


def names() -> list[str]:
    return LOSSES.names()
