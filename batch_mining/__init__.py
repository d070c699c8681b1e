"""Online batch miners, selectable by exact name with ``--batch_mining``.

Each miner's own parameters are ``--miner_<name>_<param>`` flags generated from its signature;
its distance is ``--miner_distance_fn`` (default: the miner's own, or the loss's distance for
miners with ``follows_loss_distance``).

``select`` returns ``None`` for ``--batch_mining none``. What a miner yields is handed to a loss
through :func:`utilities.tuples.adapt` (pairs <-> triplets; sets only to losses that take sets).
"""
from __future__ import annotations

from typing import Any

from torch import nn

import distances
from utilities.flags import kwargs_from
from utilities.registry import Registry
from utilities.tuples import adapt, conversion_target  # noqa: F401  (batch_mining.adapt for callers)

MINERS = Registry("miner", flag="--batch_mining")
FLAG_TEMPLATE = "miner_{name}_{param}"

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "sampling"))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def _loss_names(opt: Any) -> list[str]:
    return [n for n in opt.loss.split("+") if n]


def _loss_distance_name(opt: Any) -> str | None:
    """The distance the (first) loss uses: ``--loss_distance`` or that loss's default."""
    if opt.loss_distance:
        return opt.loss_distance
    import criteria
    for name in _loss_names(opt):
        if name in criteria.LOSSES:
            return criteria.LOSSES.get(name).default_distance
    return None


def _default_from_flags(cls: type, kwargs: dict[str, Any], opt: Any) -> None:
    """Fill each unset (``None``) argument named in ``cls.flag_defaults`` from another flag.

    The template may hold ``{loss}``: every loss of ``--loss a+b`` is tried in order, e.g.
    semihard's margin comes from ``--loss_<loss>_margin``.
    """
    for param, template in getattr(cls, "flag_defaults", {}).items():
        if kwargs.get(param) is not None:
            continue
        dests = [template.format(loss=n) for n in _loss_names(opt)] if "{loss}" in template else [template]
        for dest in dests:
            value = vars(opt).get(dest)       # a loss of --loss may lack this parameter
            if value is not None:
                kwargs[param] = value
                break


def build(name: str, opt: Any) -> nn.Module:
    """Build one miner by name, wiring its distance (and flag-derived defaults) from ``opt``."""
    cls = MINERS.get(name)
    kwargs = kwargs_from(opt, cls, flag_template(name))
    _default_from_flags(cls, kwargs, opt)
    dist_name = opt.miner_distance_fn
    if dist_name is None and cls.follows_loss_distance:
        dist_name = _loss_distance_name(opt)
    kwargs["distance"] = distances.build(dist_name or cls.default_distance, opt)
    return cls(**kwargs)


NO_MINER = "none"


def select(opt: Any) -> nn.Module | None:
    """The miner named by ``opt.batch_mining``; ``None`` for ``none`` (the loss uses the whole batch).

    ``parameters.py`` resolves an unnamed miner to the loss's ``default_miner`` (or ``none``)."""
    return None if opt.batch_mining == NO_MINER else build(opt.batch_mining, opt)


def names() -> list[str]:
    return MINERS.names()


def check(name: str) -> None:
    """Raise ``UnknownNameError`` unless ``name`` is a registered miner or ``none``."""
    if name != NO_MINER:
        MINERS.check(name)
