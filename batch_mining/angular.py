"""Triplets selected by the angle at the negative."""
from __future__ import annotations

import math

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets, all_triplets


@MINERS.register("angular")
class AngularMiner(BaseMiner):
    """Triplets whose angle at the negative exceeds a threshold (Wang et al., "Deep Metric
    Learning with Angular Loss", ICCV 2017; PyTorch Metric Learning's ``AngularMiner``).

    With the centre ``c = (x_a + x_p) / 2``, the angle is
    ``θ = atan(||x_a - x_p|| / (2 ||x_n - c||))``; triplets with ``θ > angle`` are kept. The
    norms are computed from the Gram matrix, so no per-triplet D-dimensional vector is formed.

    Parameters
    ----------
    angle : float
        The threshold angle, in degrees.
    """

    allowed_distances = ("euclidean",)

    def __init__(self, angle: float = 20.0, distance: BaseDistance | None = None):
        super().__init__(distance)
        self.angle = angle

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        a, p, n = all_triplets(labels)
        x = self.distance.prepare(embeddings.float())
        gram = x @ x.T
        sq = gram.diagonal()
        ap = (sq[a] + sq[p] - 2 * gram[a, p]).clamp_min(0).sqrt()
        nc_sq = sq[n] - gram[n, a] - gram[n, p] + (sq[a] + 2 * gram[a, p] + sq[p]) / 4
        theta = torch.atan2(ap, 2 * nc_sq.clamp_min(0).sqrt())
        keep = theta > math.radians(self.angle)
        return Triplets(a[keep], p[keep], n[keep])
