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

from criteria.reducers import REDUCERS, FLAG_TEMPLATE as REDUCER_TEMPLATE  # noqa: E402
from criteria.regularizers import (  # noqa: E402
    EMBEDDING_FLAG_TEMPLATE, EMBEDDING_REGULARIZERS, WEIGHT_FLAG_TEMPLATE, WEIGHT_REGULARIZERS)
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "terms", "reducers", "regularizers"))

# Registries whose classes' parameters become flags (parameters.py) and that --list prints.
EXTRA_FLAG_REGISTRIES = ((REDUCERS, REDUCER_TEMPLATE), (EMBEDDING_REGULARIZERS, EMBEDDING_FLAG_TEMPLATE),
                         (WEIGHT_REGULARIZERS, WEIGHT_FLAG_TEMPLATE))
LISTED_REGISTRIES = (("reducers (--loss_reducer)", REDUCERS),
                     ("embedding regularizers (--embedding_regularizer)", EMBEDDING_REGULARIZERS),
                     ("weight regularizers (--weight_regularizer)", WEIGHT_REGULARIZERS))


def _build_component(registry: Registry, name: str | None, template: str, opt: Any) -> Any:
    if name is None:
        return None
    cls = registry.get(name)
    return cls(**(kwargs_from(opt, cls, template) if opt is not None else {}))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def build(name: str, opt: Any) -> nn.Module:
    """Build one loss by name, wiring distance and class count from ``opt``."""
    cls = LOSSES.get(name)
    kwargs = kwargs_from(opt, cls, flag_template(name))
    accepted = inspect.signature(cls.__init__).parameters
    takes_base = "distance" in accepted or any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    if takes_base:
        dist_name = getattr(opt, "loss_distance", None) or cls.default_distance
        kwargs["distance"] = distances.build(dist_name, opt)
        kwargs["reducer"] = _build_component(REDUCERS, getattr(opt, "loss_reducer", None) or cls.default_reducer,
                                             REDUCER_TEMPLATE, opt)
        kwargs["embedding_regularizer"] = _build_component(
            EMBEDDING_REGULARIZERS, getattr(opt, "embedding_regularizer", None), EMBEDDING_FLAG_TEMPLATE, opt)
        kwargs["embedding_reg_weight"] = getattr(opt, "embedding_reg_weight", 0.0)
        kwargs["weight_regularizer"] = _build_component(
            WEIGHT_REGULARIZERS, getattr(opt, "weight_regularizer", None), WEIGHT_FLAG_TEMPLATE, opt)
        kwargs["weight_reg_weight"] = getattr(opt, "weight_reg_weight", 0.0)
    if "n_classes" in accepted:
        kwargs["n_classes"] = opt.n_classes
    if "embed_dim" in accepted:
        kwargs["embed_dim"] = opt.embed_dim
    if "base_lr" in accepted:  # losses whose lr flag multiplies --lr (lrmulti)
        kwargs["base_lr"] = opt.lr
    return cls(**kwargs)


def select(opt: Any) -> nn.Module:
    """The loss named by ``opt.loss``."""
    return build(opt.loss, opt)


def names() -> list[str]:
    return LOSSES.names()
