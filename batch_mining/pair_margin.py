"""Pairs selected by fixed margins."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Pairs, label_masks


@MINERS.register("pair_margin")
class PairMarginMiner(BaseMiner):
    """Pairs that violate fixed margins (PyTorch Metric Learning's ``PairMarginMiner``; the
    contrastive loss of Hadsell et al., CVPR 2006).

    Keeps positive pairs with ``d > pos_margin`` and negative pairs with ``d < neg_margin``; on
    a similarity, positive pairs with ``s < pos_margin`` and negative pairs with
    ``s > neg_margin``.

    Parameters
    ----------
    pos_margin : float
        Positive pairs beyond this are kept.
    neg_margin : float
        Negative pairs within this are kept.
    """

    output = "pairs"

    def __init__(self, pos_margin: float = 0.2, neg_margin: float = 0.8, distance: BaseDistance | None = None):
        super().__init__(distance)
        self.pos_margin, self.neg_margin = pos_margin, neg_margin

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        d = self.pairwise(embeddings)
        pos, neg = label_masks(labels)
        a1, p = torch.nonzero(pos & (d > self.distance.closest_first(self.pos_margin)), as_tuple=True)
        a2, n = torch.nonzero(neg & (d < self.distance.closest_first(self.neg_margin)), as_tuple=True)
        return Pairs(a1, p, a2, n)
