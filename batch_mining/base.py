"""The miner interface (CONTRACT §4): ``miner(embeddings, labels) -> typed index tuple``."""
from __future__ import annotations

import torch
from torch import nn

import distances
from distances.base import BaseDistance


class BaseMiner(nn.Module):
    """Base class of every online batch miner.

    Subclasses implement :meth:`mine`, which runs under ``torch.no_grad`` on the embeddings'
    device and returns a :class:`~utilities.tuples.Triplets` or :class:`~utilities.tuples.Pairs`.
    ``output`` declares which; ``stats`` holds the last call's statistics for ``train.csv``.
    """

    output: str = "triplets"
    default_distance: str = "euclidean"
    wired_params: tuple[str, ...] = ("distance",)

    def __init__(self, distance: BaseDistance | None = None):
        super().__init__()
        self.distance = distance if distance is not None else distances.build(self.default_distance)
        self.stats: dict[str, float] = {}

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            return self.mine(embeddings.detach(), labels)

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError  # abstract: every registered subclass overrides it

    def record(self, tuples: tuple[torch.Tensor, ...], dist: torch.Tensor, batch_size: int) -> None:
        """Store tuple count, mean positive/negative distance and the fraction of active anchors."""
        if len(tuples) == 3:
            a, p, n = tuples
            pos, neg, anchors = dist[a, p], dist[a, n], a
        else:
            a1, p, a2, n = tuples
            pos, neg, anchors = dist[a1, p], dist[a2, n], torch.cat([a1, a2])
        self.stats = {
            "n_tuples": float(len(tuples[0])),
            "mean_pos_dist": float(pos.mean()) if pos.numel() else float("nan"),
            "mean_neg_dist": float(neg.mean()) if neg.numel() else float("nan"),
            "active_anchor_frac": float(anchors.unique().numel()) / max(batch_size, 1),
        }
