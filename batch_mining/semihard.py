"""Semi-hard negative mining."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import uniform_in, uniform_in_or, valid_anchors
from distances.base import BaseDistance
from utilities.tuples import Triplets, empty_triplets

DEFAULT_MARGIN = 0.2


@MINERS.register("semihard")
class SemihardMiner(BaseMiner):
    """Semi-hard negatives (Schroff et al., "FaceNet", CVPR 2015; Revisiting-DML ``semihard``).

    Every anchor with a positive and a negative (others are dropped) gets a positive ``p`` drawn
    uniformly from its class, and a negative drawn uniformly from the semi-hard window
    ``d(a, p) < d(a, n) < d(a, p) + margin``; if the window is empty, uniformly from all its
    negatives. ``d`` is the loss's own distance (the same squared or plain Euclidean, or a
    negated similarity), so the window matches the margin the loss applies.

    Parameters
    ----------
    margin : float
        Width of the semi-hard window (default: the loss's margin, ``--loss_<loss>_margin``,
        handed over by the training objective; else 0.2).
    """

    follows_loss = ("distance", "margin")

    def __init__(self, margin: float | None = None, distance: BaseDistance | None = None):
        super().__init__(distance)
        self.margin = DEFAULT_MARGIN if margin is None else float(margin)

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_triplets(labels.device)
        dist = self.pairwise(embeddings)[anchors]
        positives = uniform_in(pos[anchors])
        d_ap = dist.gather(1, positives.unsqueeze(1))
        window = neg[anchors] & (dist > d_ap) & (dist < d_ap + self.margin)
        return Triplets(anchors, positives, uniform_in_or(window, neg[anchors]))
