"""The training objective: the one owner of a training step's mine -> convert -> loss."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

import batch_mining
import criteria
from criteria.base import LossModule


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


def select(opt: Any, *, n_classes: int) -> Objective:
    """The objective of ``--loss`` and ``--batch_mining`` (``none``: no miner; parsing resolved
    an unnamed miner to the loss's ``default_miner``); ``n_classes`` comes from the data."""
    return Objective(criteria.select(opt, n_classes=n_classes), batch_mining.select(opt))
