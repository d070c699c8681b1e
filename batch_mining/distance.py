"""Distance-weighted sampling."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import distance_weighted_choice, uniform_in, unit_sphere_distance, valid_anchors
from distances.base import BaseDistance
from utilities.tuples import Triplets, empty_triplets


@MINERS.register("distance")
class DistanceWeightedMiner(BaseMiner):
    """Distance-weighted sampling (Wu et al., "Sampling Matters in Deep Embedding Learning", 2017).

    For unit-norm embeddings in R^n, pairwise distances follow the density
    ``q(d) ∝ d^(n-2) (1 - d^2/4)^((n-3)/2)``. Each anchor gets one positive drawn uniformly from
    its class and one negative drawn with probability ``∝ 1 / q(max(d, lower_cutoff))``,
    restricted to negatives with ``d < upper_cutoff``; if none is that close, uniformly among all
    its negatives. Anchors without a positive or a negative are dropped. Embeddings are
    expected to be L2-normalised (use an ``_normalize`` architecture); the distance is the
    plain Euclidean one.

    Parameters
    ----------
    lower_cutoff : float
        Distances below this are treated as equal to it, which caps the weight of very close
        (noisy) negatives.
    upper_cutoff : float
        Negatives at this distance or farther get zero weight.
    """

    output = "triplets"
    allowed_distances = ("euclidean",)

    def __init__(self, lower_cutoff: float = 0.5, upper_cutoff: float = 1.4,
                 distance: BaseDistance | None = None):
        super().__init__(distance)
        self.lower_cutoff, self.upper_cutoff = lower_cutoff, upper_cutoff

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_triplets(labels.device)
        dist = unit_sphere_distance(self.distance, embeddings)[anchors]
        negatives = distance_weighted_choice(dist, neg[anchors], embeddings.shape[1],
                                             self.lower_cutoff, self.upper_cutoff)
        return Triplets(anchors, uniform_in(pos[anchors]), negatives)
