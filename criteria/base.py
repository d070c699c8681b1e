"""The loss interface (CONTRACT §4): ``loss(embeddings, labels, indices_tuple=None) -> 0-dim``."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

import distances
from distances.base import BaseDistance


class BaseLoss(nn.Module):
    """Base class of every loss.

    Class attributes declare what the loss works with, so that ``parameters.py`` can reject a
    bad combination before any data is read:

    * ``accepts``: the tuple kinds (``"triplets"``, ``"pairs"``) it takes as ``indices_tuple``;
      empty for losses that use no miner (proxy and classification losses).
    * ``default_distance`` and ``allowed_distances`` (``None`` means any).
    * ``wired_params``: constructor arguments that ``criteria.select`` fills in itself; every
      other argument becomes a ``--loss_<name>_<param>`` flag.

    Losses that own parameters expose their learning rate through :meth:`param_groups`.
    """

    accepts: tuple[str, ...] = ("triplets",)
    default_distance: str = "euclidean"
    allowed_distances: tuple[str, ...] | None = None
    wired_params: tuple[str, ...] = ("distance", "n_classes", "embed_dim")

    def __init__(self, distance: BaseDistance | None = None):
        super().__init__()
        self.distance = distance if distance is not None else distances.build(self.default_distance)
        self.stats: dict[str, float] = {}

    @property
    def uses_miner(self) -> bool:
        return bool(self.accepts)

    def param_groups(self) -> list[dict[str, Any]]:
        """Optimizer parameter groups for the loss's own parameters (none by default)."""
        return []

    @staticmethod
    def connected_zero(embeddings: torch.Tensor) -> torch.Tensor:
        """A zero that keeps the autograd graph connected (for batches with nothing to learn)."""
        return embeddings.sum() * 0.0
