"""Quadruplet loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.terms import LossTerm
from utilities.tuples import Triplets, map_triplets


def sample_other_class(labels: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """For each k, a batch index drawn uniformly among the items whose label differs from both
    ``labels[first[k]]`` and ``labels[second[k]]``; -1 where there is none.

    O(k) without a (k, B) mask: in label-sorted order the excluded items are two blocks, and a
    uniform rank among the rest is shifted past them.
    """
    order = torch.argsort(labels, stable=True)
    _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    c1, c2 = inverse[first], inverse[second]
    s1, s2 = torch.minimum(starts[c1], starts[c2]), torch.maximum(starts[c1], starts[c2])
    l1 = torch.where(starts[c1] <= starts[c2], counts[c1], counts[c2])
    l2 = torch.where(starts[c1] <= starts[c2], counts[c2], counts[c1])
    l2 = torch.where(c1 == c2, torch.zeros_like(l2), l2)
    available = labels.numel() - l1 - l2
    rank = (torch.rand(first.numel(), device=labels.device) * available.clamp_min(1)).long()
    rank = torch.minimum(rank, (available - 1).clamp_min(0))
    rank = rank + torch.where(rank >= s1, l1, torch.zeros_like(l1))
    rank = rank + torch.where(rank >= s2, l2, torch.zeros_like(l2))
    picked = order[rank.clamp(max=labels.numel() - 1)]
    return torch.where(available > 0, picked, torch.full_like(picked, -1))


@LOSSES.register("quadruplet")
class QuadrupletLoss(BaseLoss):
    """Quadruplet loss (Chen et al., "Beyond triplet loss: a deep quadruplet network for person
    re-identification", CVPR 2017).

    Formula::

        l(a, p, n, n') = [d(a, p) - d(a, n) + alpha_1]_+  +  [d(a, p) - d(n, n') + alpha_2]_+

    For each triplet the fourth item n' is drawn uniformly among the items whose class differs
    from both a's and n's (the Revisiting-DML tool compared indices, not labels, so n' could
    share a's or n's class). Triplets with no such n' contribute only the first term. Each term
    is reduced by the mean.

    Parameters
    ----------
    margin_alpha_1 : float
        Margin of the triplet term.
    margin_alpha_2 : float
        Margin of the quadruplet term (positive pair vs a pair of two other classes).
    """

    takes = ("triplets",)
    default_miner = "distance"
    default_distance = "euclidean"
    term_names = ("triplet", "quadruplet")

    def __init__(self, margin_alpha_1: float = 0.2, margin_alpha_2: float = 0.2, **base: Any):
        super().__init__(**base)
        self.margin_alpha_1, self.margin_alpha_2 = margin_alpha_1, margin_alpha_2

    def _values(self, dist: torch.Tensor, labels: torch.Tensor, t: Triplets) -> tuple[torch.Tensor, ...]:
        a, p, n = t
        d_ap = dist[a, p]
        fourth = sample_other_class(labels, a, n)
        has = fourth >= 0
        trip = (self.distance.gap(d_ap, dist[a, n]) + self.margin_alpha_1).relu()
        quad = (self.distance.gap(d_ap[has], dist[n[has], fourth[has]]) + self.margin_alpha_2).relu()
        return trip, quad, a[has]

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        dist = self.distance(embeddings)
        (trip, quad, quad_anchors), anchors = map_triplets(
            labels, indices_tuple, lambda t: self._values(dist, labels, t))
        return {"triplet": LossTerm(trip, "triplet", anchors),
                "quadruplet": LossTerm(quad, "triplet", quad_anchors)}
