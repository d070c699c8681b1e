"""Online batch miners, selectable by exact name with ``--batch_mining``.

Each miner's own parameters are ``--miner_<name>_<param>`` flags generated from its signature;
its distance is ``--miner_distance_fn`` (default: the miner's own, or the loss's distance for
miners with ``follows_loss_distance``).

Conversion rules between what a miner yields and what a loss accepts (``adapt``):

* pairs -> triplets: every ``(a, p, n)`` whose ``(a, p)`` and ``(a, n)`` are mined pairs with the
  same anchor (the per-anchor product);
* triplets -> pairs: the ``(a, p)`` and ``(a, n)`` pairs of the triplets, de-duplicated;
* sets (N-pair / lifted-structure, :class:`~utilities.tuples.TupleSets`) are only given to
  losses that take ``"sets"`` (npair, angular, lifted, multisimilarity), never converted.

What a loss takes is ``consumed_tuples()``: its ``accepts`` for a loss that uses a miner, its
``tuple_kinds`` for a loss that mines for itself and can be restricted by given tuples.
"""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

import distances
from utilities.flags import kwargs_from
from utilities.registry import Registry
from utilities.tuples import pairs_to_triplets, triplets_to_pairs, tuple_kind

MINERS = Registry("miner", flag="--batch_mining")
FLAG_TEMPLATE = "miner_{name}_{param}"

# (yielded kind, accepted kind) -> conversion(tuples, batch_size)
CONVERSIONS: dict[tuple[str, str], Callable[[tuple, int], tuple]] = {
    ("pairs", "triplets"): pairs_to_triplets,
    ("triplets", "pairs"): lambda tuples, batch_size: triplets_to_pairs(tuples),
}

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "sampling"))


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def conversion_target(output: str, accepts: tuple[str, ...]) -> str | None:
    """The accepted kind a miner's ``output`` is given to a loss as, or ``None`` if none works."""
    if output in accepts:
        return output
    for kind in accepts:
        if (output, kind) in CONVERSIONS:
            return kind
    return None


def adapt(tuples: tuple, accepts: tuple[str, ...], batch_size: int) -> tuple:
    """Convert a miner's output to a kind the loss ``accepts`` (see the module docstring)."""
    if not accepts:
        return tuples
    kind = tuple_kind(tuples)
    target = conversion_target(kind, accepts)
    if target is None:
        raise ValueError(f"miner output '{kind}' cannot be given to a loss that takes {'/'.join(accepts)}")
    return tuples if target == kind else CONVERSIONS[(kind, target)](tuples, batch_size)


def consumed_kinds(loss: Any) -> tuple[str, ...]:
    """The tuple kinds ``loss`` takes (``BaseLoss.consumed_tuples``), looking through wrappers
    that hold the loss as ``.loss`` (cross-batch memory, the distributed step)."""
    while not hasattr(loss, "consumed_tuples") and hasattr(loss, "loss"):
        loss = loss.loss
    consumed = getattr(loss, "consumed_tuples", None)
    return tuple(consumed()) if consumed is not None else tuple(getattr(loss, "accepts", ()))


def adapt_for(loss: Any, tuples: tuple, batch_size: int) -> Any:
    """The miner's output as ``loss`` takes it: converted to a kind it consumes
    (:func:`consumed_kinds`), or, for a sum of losses (``--loss a+b``), a dict with each
    component's own conversion."""
    components = getattr(loss, "components", None)
    if components is not None:
        return {name: adapt_for(part, tuples, batch_size) for name, part in components.items()
                if getattr(part, "uses_miner", False)}
    return adapt(tuples, consumed_kinds(loss), batch_size)


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


def select(opt: Any) -> nn.Module:
    """The miner named by ``opt.batch_mining``."""
    return build(opt.batch_mining, opt)


def names() -> list[str]:
    return MINERS.names()
