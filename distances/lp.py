"""Minkowski (Lp) distance."""
from __future__ import annotations

import torch

from distances import DISTANCES
from distances.base import BaseDistance


@DISTANCES.register("lp")
class LpDistance(BaseDistance):
    """Minkowski distance ``||x - y||_p = (Σ_d |x_d - y_d|^p)^(1/p)``.

    ``p = 2`` is the Euclidean distance, ``p = 1`` the Manhattan distance. Computed with
    ``torch.cdist``, whose gradient is zero (not NaN) for coincident points.

    Parameters
    ----------
    normalize_embeddings : bool
        L2-normalise the embeddings before measuring (default false).
    p : float
        The order p of the norm (p >= 1 for a metric).
    """

    is_similarity = False

    def __init__(self, normalize_embeddings: bool | None = None, p: float = 2.0):
        super().__init__(normalize_embeddings)
        if p <= 0:
            raise ValueError(f"--distance_p must be positive, got {p}")
        self.p = float(p)

    def _pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cdist(x, y, p=self.p)
