"""Catalyst's hard-cluster sampler, on batch indices."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import masked_arg
from utilities.tuples import Triplets, empty_triplets


@MINERS.register("hard_cluster")
class HardClusterMiner(BaseMiner):
    """Hardest triplets relative to class centroids (Catalyst's ``HardClusterSampler``).

    For every class ``c`` of the batch with at least two samples, with centroid ``μ_c`` (the
    mean embedding): the hardest positive is the member of ``c`` farthest from ``μ_c``; the
    hardest negative class ``c'`` is the one whose centroid is closest to ``μ_c``. Catalyst
    returns the centroids themselves; here tuples are batch indices, so each centroid is
    represented by its class's medoid (the member closest to it): one triplet
    ``(medoid(c), farthest(c), medoid(c'))`` per class. Distances are the miner's distance.
    """

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        classes, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
        if classes.numel() < 2 or not bool((counts >= 2).any()):
            return empty_triplets(labels.device)
        x = embeddings.float()
        one_hot = torch.nn.functional.one_hot(inverse, classes.numel()).T.float()   # (C, B)
        centroids = one_hot @ x / counts.unsqueeze(1).float()
        to_centroid = self.distance.closest_first(self.distance(centroids, x))     # (C, B)
        members = one_hot.bool()
        medoid, _ = masked_arg(to_centroid, members, largest=False)
        farthest, _ = masked_arg(to_centroid, members, largest=True)
        between = self.distance.closest_first(self.distance(centroids))
        between.fill_diagonal_(float("inf"))
        nearest_class = between.argmin(1)
        keep = counts >= 2
        return Triplets(medoid[keep], farthest[keep], medoid[nearest_class][keep])
