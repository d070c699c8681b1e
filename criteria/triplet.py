"""Triplet loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.terms import LossTerm
from utilities.tuples import Triplets, map_triplets


@LOSSES.register("triplet")
class TripletLoss(BaseLoss):
    """Triplet loss (Schroff et al., "FaceNet: A Unified Embedding for Face Recognition and
    Clustering", CVPR 2015).

    Formula::

        l(a, p, n) = [d(a, p) - d(a, n) + margin]_+        (similarities: [s(a, n) - s(a, p) + margin]_+)

    over the mined triplets, or all triplets of the batch (enumerated in chunks) when no miner
    is used; reduced by the mean. The default distance is the squared Euclidean one, as in the
    paper and the Revisiting-DML tool.

    Parameters
    ----------
    margin : float
        The margin between positive and negative distances.
    """

    takes = ("triplets",)
    default_miner = "distance"
    default_distance = "squared_euclidean"
    term_names = ("triplet",)

    def __init__(self, margin: float = 0.2, **base: Any):
        super().__init__(**base)
        self.margin = margin

    def triplet_values(self, dist: torch.Tensor, t: Triplets) -> torch.Tensor:
        return (self.distance.gap(dist[t.anchors, t.positives], dist[t.anchors, t.negatives]) + self.margin).relu()

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        dist = self.distance(embeddings)
        (values,), anchors = map_triplets(labels, indices_tuple, lambda t: (self.triplet_values(dist, t),))
        self.stats = {"active_fraction": (values > 0).float().mean().detach() if values.numel() else 0.0}
        return {self.term_names[0]: LossTerm(values, "triplet", anchors)}
