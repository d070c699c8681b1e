"""The training objective: the one owner of the loss-miner pair and of a training step's
mine -> convert -> loss.

It decides, in one place each:

* which miner a loss gets when ``--batch_mining`` is not given (:func:`default_miner`);
* whether a loss and a miner fit (:func:`pairing_problem`, from registration metadata only: the
  losses' ``takes`` and ``allowed_distances``, the miner's ``output`` and ``allowed_distances``),
  used both at parse time (``parameters.validate``, before any data is read) and here when the
  objective is built;
* what a miner takes from its loss (:func:`loss_settings`: the loss's distance and margin),
  handed to ``batch_mining.select`` as plain arguments.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

import batch_mining
import criteria
from criteria.base import LossModule
from utilities.tuples import conversion_target


class Objective(nn.Module):
    """``L(E, y) = loss(E, y, convert(share(miner(E, y))))`` for one batch of embeddings.

    The miner (``None``: the loss forms its own tuples from the whole batch) runs without
    gradient on the batch; the loss converts its output to the kinds it takes
    (:meth:`criteria.base.LossModule.convert`: pairs <-> triplets, per part for a sum of
    losses). The training loop calls only this object, and
    :class:`training.distributed.DistributedObjective` gathers the embeddings around it.

    Parameters
    ----------
    loss : LossModule
        A dmlbench loss (``criteria.select``).
    miner : nn.Module or None
        The batch miner (``batch_mining.select``), or ``None``.
    """

    def __init__(self, loss: LossModule, miner: nn.Module | None = None):
        super().__init__()
        self.loss, self.miner = loss, miner

    def share(self, tuples: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """The mined tuples every process uses (a single process keeps its own)."""
        return tuples

    def tuples(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Any:
        """The miner's output in the form the loss takes, or ``None`` without a miner."""
        if self.miner is None:
            return None
        return self.loss.convert(self.share(self.miner(embeddings, labels)), labels.numel())

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss(embeddings, labels, self.tuples(embeddings, labels))

    @property
    def stats(self) -> dict[str, Any]:
        """The last step's miner statistics (``miner_*``) and loss statistics, for ``train.csv``."""
        return {**(self.miner.stats if self.miner is not None else {}), **self.loss.stats}

    def param_groups(self) -> list[dict[str, Any]]:
        """The optimizer groups of the loss's own parameters (proxies, class boundaries)."""
        return self.loss.param_groups()


def loss_parts(loss: str) -> list[str]:
    """The loss names of ``--loss a+b``."""
    return [name for name in loss.split("+") if name]


def default_miner(loss: str) -> str:
    """The miner of ``--loss`` when ``--batch_mining`` is not given: the first ``default_miner``
    of its parts (losses defined on mined tuples), else ``none``."""
    parts = [criteria.LOSSES.get(name) for name in loss_parts(loss)]
    return next((cls.default_miner for cls in parts if cls.default_miner), batch_mining.NO_MINER)


def pairing_problem(loss: str, miner: str, loss_distance: str | None = None,
                    miner_distance: str | None = None) -> str | None:
    """Why ``--loss loss --batch_mining miner`` (with these distance flags) cannot run, in one
    line naming the flags; ``None`` when it can. Reads registration metadata only.

    A miner's output reaches a loss as is or through a conversion (``utilities.tuples.adapt``:
    pairs <-> triplets); every loss of ``a+b`` that takes tuples must be able to take it, and a
    miner named for losses that take none is refused. Each distance flag must suit its side.
    """
    classes = {name: criteria.LOSSES.get(name) for name in loss_parts(loss)}
    for name, cls in classes.items():
        allowed = cls.allowed_distances
        if loss_distance and allowed is not None and loss_distance not in allowed:
            why = f": {cls.distance_note}" if cls.distance_note else ""
            return (f"--loss_distance {loss_distance} does not suit --loss {name}{why} "
                    f"(allowed: {', '.join(allowed)})")
    if miner == batch_mining.NO_MINER:
        return None
    miner_cls = batch_mining.MINERS.get(miner)
    if not any(cls.takes for cls in classes.values()):
        return (f"--batch_mining {miner}: --loss {loss} takes no mined tuples (it uses its own proxies "
                "or classes); drop the flag or pass --batch_mining none")
    for name, cls in classes.items():
        if cls.takes and conversion_target(miner_cls.output, cls.takes) is None:
            return (f"--loss {name} takes {'/'.join(cls.takes)} but --batch_mining {miner} yields "
                    f"{miner_cls.output}, and no conversion exists (only pairs <-> triplets convert)")
    allowed = miner_cls.allowed_distances
    if miner_distance and allowed is not None and miner_distance not in allowed:
        return (f"--miner_distance_fn {miner_distance} does not suit --batch_mining {miner} "
                f"(allowed: {', '.join(allowed)})")
    return None


def loss_settings(opt: Any) -> dict[str, Any]:
    """What a miner may take from the loss (``follows_loss``): ``distance``, the name of the
    (first) loss's distance (``--loss_distance`` or its default), and ``margin``, the first
    margin among the losses' own parameters (``--loss_<loss>_margin``), or ``None``."""
    names = loss_parts(opt.loss)
    margins = (criteria.LOSSES.flag_values(name, opt).get("margin") for name in names)
    return {"distance": opt.loss_distance or criteria.LOSSES.get(names[0]).default_distance,
            "margin": next((m for m in margins if m is not None), None)}


def check_miner_arguments(opt: Any) -> None:
    """The paired miner's argument values, checked without building it (``parameters.validate``)."""
    batch_mining.check_arguments(opt, **loss_settings(opt))


def select_miner(opt: Any) -> nn.Module | None:
    """The miner of ``--batch_mining`` paired with ``--loss``: it follows the loss's settings."""
    return batch_mining.select(opt, **loss_settings(opt))


def select(opt: Any, *, n_classes: int) -> Objective:
    """The objective of ``--loss`` and ``--batch_mining`` (``none``: no miner; parsing resolved
    an unnamed miner to :func:`default_miner`); ``n_classes`` comes from the data."""
    problem = pairing_problem(opt.loss, opt.batch_mining, opt.loss_distance, opt.miner_distance_fn)
    if problem:
        raise ValueError(problem)
    return Objective(criteria.select(opt, n_classes=n_classes), select_miner(opt))
