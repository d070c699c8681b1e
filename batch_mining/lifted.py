"""Lifted-structure sets: every positive and every negative per anchor."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import valid_anchors
from utilities.tuples import TupleSets, empty_sets


@MINERS.register("lifted")
class LiftedMiner(BaseMiner):
    """Lifted-structure sets (Oh Song et al., "Deep Metric Learning via Lifted Structured
    Feature Embedding", CVPR 2016; the Revisiting-DML ``lifted`` miner).

    Every anchor with a positive and a negative gets all of its positives and all of its
    negatives (every sample of another class). Output: :class:`TupleSets`; only losses that
    accept ``"sets"`` take it.
    """

    output = "sets"

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> TupleSets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_sets(labels.device, labels.numel())
        return TupleSets(anchors, pos[anchors], neg[anchors])
