"""Online batch miners, selectable by exact name with ``--batch_mining``.

Each miner's own parameters are ``--miner_<name>_<param>`` flags generated from its signature;
its distance is ``--miner_distance_fn``, else, for a miner that follows its loss
(``follows_loss``), the loss's distance, else the miner's own default. What a miner takes from
the loss (its distance name, its margin) is handed to :func:`select` by the training objective
(``training.objective``), which owns the loss-miner pair: this package knows nothing of losses.

``select`` returns ``None`` for ``--batch_mining none``. What a miner yields is handed to a loss
through :func:`utilities.tuples.adapt` (pairs <-> triplets; sets only to losses that take sets).
"""
from __future__ import annotations

from typing import Any

from torch import nn

import distances
from utilities.registry import Registry

FLAG_TEMPLATE = "miner_{name}_{param}"
MINERS = Registry("miner", flag="--batch_mining", template=FLAG_TEMPLATE, supplies=("distance",))

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "sampling"))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def build(name: str, opt: Any, **from_loss: Any) -> nn.Module:
    """Build one miner by name from the flags ``opt``.

    ``from_loss`` holds the loss's settings (``distance``: a distance name, ``margin``), given by
    the training objective; the miner takes those it declares in ``follows_loss``, each only where
    its own flag is unset. An unset argument named in ``flag_defaults`` takes that other flag."""
    cls = MINERS.get(name)
    dist_name = opt.miner_distance_fn or _follows(cls, from_loss).get("distance") or cls.default_distance
    return MINERS.create(name, opt, unset=_unset(cls, opt, from_loss), distance=distances.build(dist_name, opt))


def _follows(cls: type, from_loss: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in from_loss.items() if key in cls.follows_loss}


def _unset(cls: type, opt: Any, from_loss: dict[str, Any]) -> dict[str, Any]:
    """Values for the miner's own arguments whose flag is unset: another flag (``flag_defaults``),
    or the loss's setting it follows."""
    unset = {param: getattr(opt, dest) for param, dest in cls.flag_defaults.items()}
    unset.update({key: value for key, value in _follows(cls, from_loss).items() if key != "distance"})
    return unset


def check_arguments(opt: Any, **from_loss: Any) -> None:
    """Check the arguments of the miner named by ``opt.batch_mining`` as :func:`build` would pass
    them, without building it (parsing, before any data); a one-line ``ValueError`` if invalid."""
    if opt.batch_mining != NO_MINER:
        cls = MINERS.get(opt.batch_mining)
        MINERS.check_arguments(opt.batch_mining, opt, unset=_unset(cls, opt, from_loss))


NO_MINER = "none"


def select(opt: Any, **from_loss: Any) -> nn.Module | None:
    """The miner named by ``opt.batch_mining``; ``None`` for ``none`` (the loss uses the whole batch).

    ``from_loss``: the loss's settings the miner may follow (see :func:`build`); without them a
    miner uses its own defaults. Parsing resolves an unnamed miner to the loss's ``default_miner``
    (``training.objective.default_miner``)."""
    return None if opt.batch_mining == NO_MINER else build(opt.batch_mining, opt, **from_loss)


def names() -> list[str]:
    return MINERS.names()


def check(name: str) -> None:
    """Raise ``UnknownNameError`` unless ``name`` is a registered miner or ``none``."""
    if name != NO_MINER:
        MINERS.check(name)
