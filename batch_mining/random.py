"""Uniformly random triplets."""
from __future__ import annotations

from typing import Any

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import uniform_in
from distances.base import BaseDistance
from utilities.tuples import Triplets, empty_triplets, label_masks


@MINERS.register("random")
class RandomTripletMiner(BaseMiner):
    """Triplets drawn uniformly from all valid triplets of the batch (the Revisiting-DML
    ``random`` miner; Roth et al., ICML 2020).

    With ``P_a`` positives and ``N_a`` negatives for anchor ``a`` there are ``T = Σ_a P_a N_a``
    valid triplets. Drawing ``a`` with probability ``P_a N_a / T`` and then ``p`` and ``n``
    uniformly among its positives and negatives gives every valid triplet probability ``1/T``,
    without enumerating them. Draws are independent (with replacement).

    Parameters
    ----------
    n_triplets : int
        Triplets drawn per batch; 0 means the batch size (the old tool's choice).
    """

    @classmethod
    def check_arguments(cls, *, n_triplets: int, **_: Any) -> None:
        if n_triplets < 0:
            raise ValueError(f"n_triplets (--miner_<miner>_n_triplets) must be >= 0, got {n_triplets}")

    def __init__(self, n_triplets: int = 0, distance: BaseDistance | None = None):
        self.check_arguments(n_triplets=n_triplets)
        super().__init__(distance)
        self.n_triplets = n_triplets

    def draw_count(self, labels: torch.Tensor) -> int:
        return self.n_triplets or labels.numel()

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        pos, neg = label_masks(labels)
        per_anchor = pos.sum(1) * neg.sum(1)
        if not bool(per_anchor.any()):
            return empty_triplets(labels.device)
        anchors = torch.multinomial(per_anchor.float(), self.draw_count(labels), replacement=True)
        return Triplets(anchors, uniform_in(pos[anchors]), uniform_in(neg[anchors]))
