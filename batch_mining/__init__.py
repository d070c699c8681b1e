"""Online batch miners, selectable by exact name with ``--batch_mining``.

Each miner's own parameters are ``--miner_<name>_<param>`` flags generated from its signature;
its distance is ``--miner_distance_fn`` (default: the miner's own).
"""
from __future__ import annotations

from typing import Any

from torch import nn

import distances
from utilities.flags import kwargs_from
from utilities.registry import Registry

MINERS = Registry("miner", flag="--batch_mining")
FLAG_TEMPLATE = "miner_{name}_{param}"

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def build(name: str, opt: Any) -> nn.Module:
    """Build one miner by name, wiring its distance from ``opt``."""
    cls = MINERS.get(name)
    kwargs = kwargs_from(opt, cls, flag_template(name))
    dist_name = getattr(opt, "miner_distance_fn", None) or cls.default_distance
    kwargs["distance"] = distances.build(dist_name, opt)
    return cls(**kwargs)


def select(opt: Any) -> nn.Module:
    """The miner named by ``opt.batch_mining``."""
    return build(opt.batch_mining, opt)


def names() -> list[str]:
    return MINERS.names()
