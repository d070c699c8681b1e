"""Distance-weighted sampling."""
from __future__ import annotations

import math

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets, empty_triplets, label_masks


def sample_rows(weights: torch.Tensor) -> torch.Tensor:
    """One column index per row, drawn with probability proportional to the row's weights."""
    return torch.multinomial(weights, 1).squeeze(1)


@MINERS.register("distance")
class DistanceWeightedMiner(BaseMiner):
    """Distance-weighted sampling (Wu et al., "Sampling Matters in Deep Embedding Learning", 2017).

    For unit-norm embeddings in R^n, pairwise distances follow the density
    ``q(d) ∝ d^(n-2) (1 - d^2/4)^((n-3)/2)``. Each anchor gets one positive drawn uniformly from
    its class and one negative drawn with probability ``∝ 1 / q(max(d, lower_cutoff))``,
    restricted to negatives with ``d < upper_cutoff``; if none is that close, uniformly among all
    its negatives. Anchors without a positive or a negative are dropped. Embeddings are
    expected to be L2-normalised (use an ``_normalize`` architecture).

    Parameters
    ----------
    lower_cutoff : float
        Distances below this are treated as equal to it, which caps the weight of very close
        (noisy) negatives.
    upper_cutoff : float
        Negatives at this distance or farther get zero weight.
    """

    output = "triplets"

    def __init__(self, lower_cutoff: float = 0.5, upper_cutoff: float = 1.4,
                 distance: BaseDistance | None = None):
        super().__init__(distance)
        self.lower_cutoff, self.upper_cutoff = lower_cutoff, upper_cutoff

    def negative_log_weights(self, dist: torch.Tensor, dim: int) -> torch.Tensor:
        """``-log q(d)`` with d clamped to ``[lower_cutoff, 2)``."""
        d = dist.clamp(min=self.lower_cutoff, max=2.0 - 1e-4)
        return -((dim - 2) * torch.log(d) + ((dim - 3) / 2.0) * torch.log1p(-0.25 * d * d))

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        bs, dim = embeddings.shape
        dist = self.distance(embeddings.float())
        pos, neg = label_masks(labels)
        anchors = torch.nonzero(pos.any(1) & neg.any(1)).squeeze(1)
        if anchors.numel() == 0:
            self.record(empty_triplets(labels.device), dist, bs)
            return empty_triplets(labels.device)
        log_w = self.negative_log_weights(dist[anchors], dim)
        in_range = neg[anchors] & (dist[anchors] < self.upper_cutoff)
        log_w = log_w.masked_fill(~in_range, -math.inf)
        has_any = in_range.any(1, keepdim=True)
        log_w = torch.where(has_any, log_w, torch.where(neg[anchors], 0.0, -math.inf))
        weights = torch.exp(log_w - log_w.max(1, keepdim=True).values)
        negatives = sample_rows(weights)
        positives = sample_rows(pos[anchors].float())
        triplets = Triplets(anchors, positives, negatives)
        self.record(triplets, dist, bs)
        return triplets
