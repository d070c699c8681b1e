"""Batch-hard triplets."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import masked_arg, valid_anchors
from utilities.tuples import Triplets, empty_triplets


@MINERS.register("batch_hard")
class BatchHardMiner(BaseMiner):
    """Batch-hard triplets (Hermans et al., "In Defense of the Triplet Loss for Person
    Re-Identification", 2017; PyTorch Metric Learning's ``BatchHardMiner``).

    Every anchor with a positive and a negative gives one triplet: its farthest positive
    ``argmax_p d(a, p)`` and its closest negative ``argmin_n d(a, n)``.
    """

    def hardest_triplets(self, dist: torch.Tensor, labels: torch.Tensor) -> Triplets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_triplets(labels.device)
        positives, _ = masked_arg(dist[anchors], pos[anchors], largest=True)
        negatives, _ = masked_arg(dist[anchors], neg[anchors], largest=False)
        return Triplets(anchors, positives, negatives)

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        return self.hardest_triplets(self.pairwise(embeddings), labels)
