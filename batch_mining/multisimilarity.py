"""Multi-similarity pair mining."""
from __future__ import annotations

import math

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Pairs, label_masks


@MINERS.register("multisimilarity")
class MultiSimilarityMiner(BaseMiner):
    """Multi-similarity pair mining (Wang et al., "Multi-Similarity Loss with General Pair
    Weighting for Deep Metric Learning", CVPR 2019; PyTorch Metric Learning's
    ``MultiSimilarityMiner``).

    With similarities ``s``: a negative pair ``(a, n)`` is kept when
    ``s_an > min_p s_ap - epsilon`` and a positive pair ``(a, p)`` when
    ``s_ap < max_n s_an + epsilon``. With a distance the inequalities are mirrored. Default
    distance: cosine similarity.

    Parameters
    ----------
    epsilon : float
        The slack epsilon of both pair conditions.
    """

    output = "pairs"
    default_distance = "cosine"

    def __init__(self, epsilon: float = 0.1, distance: BaseDistance | None = None):
        super().__init__(distance)
        self.epsilon = epsilon

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        d = self.pairwise(embeddings)  # closest first: d = -s for a similarity
        pos, neg = label_masks(labels)
        hardest_pos = d.masked_fill(~pos, -math.inf).max(1, keepdim=True).values
        hardest_neg = d.masked_fill(~neg, math.inf).min(1, keepdim=True).values
        a1, p = torch.nonzero(pos & (d > hardest_neg - self.epsilon), as_tuple=True)
        a2, n = torch.nonzero(neg & (d < hardest_pos + self.epsilon), as_tuple=True)
        return Pairs(a1, p, a2, n)
