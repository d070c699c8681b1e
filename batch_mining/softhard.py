"""Soft-hard mining: random hard positives and hard negatives."""
from __future__ import annotations

import math

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import uniform_in_or, valid_anchors
from utilities.tuples import Triplets, empty_triplets


@MINERS.register("softhard")
class SofthardMiner(BaseMiner):
    """Soft-hard mining (the Revisiting-DML ``softhard`` miner; Roth et al., ICML 2020).

    For each anchor with a positive and a negative: the positive is drawn uniformly from the
    *hard* positives ``{p : d(a, p) > min_n d(a, n)}``, the negative uniformly from the hard
    negatives ``{n : d(a, n) < max_p d(a, p)}``; where a set is empty, uniformly from all
    positives (negatives). A softened batch-hard: every violating sample can be chosen.
    """

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_triplets(labels.device)
        dist = self.pairwise(embeddings)[anchors]
        pos, neg = pos[anchors], neg[anchors]
        farthest_pos = dist.masked_fill(~pos, -math.inf).max(1, keepdim=True).values
        closest_neg = dist.masked_fill(~neg, math.inf).min(1, keepdim=True).values
        positives = uniform_in_or(pos & (dist > closest_neg), pos)
        negatives = uniform_in_or(neg & (dist < farthest_pos), neg)
        return Triplets(anchors, positives, negatives)
