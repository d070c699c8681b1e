"""N-pair sets: one positive and every negative per anchor."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import uniform_in, valid_anchors
from utilities.tuples import TupleSets, empty_sets


@MINERS.register("npair")
class NPairMiner(BaseMiner):
    """N-pair sets (Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss
    Objective", NeurIPS 2016; the Revisiting-DML ``npair`` miner).

    Every anchor with a positive and a negative gets one positive drawn uniformly from its class
    and, as its negative set, every sample of another class. Output: :class:`TupleSets` with a
    one-hot positive mask; only losses that accept ``"sets"`` take it.
    """

    output = "sets"

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> TupleSets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_sets(labels.device, labels.numel())
        one_pos = F.one_hot(uniform_in(pos[anchors]), labels.numel()).bool()
        return TupleSets(anchors, one_pos, neg[anchors])
