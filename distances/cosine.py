"""Cosine similarity."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from distances import DISTANCES
from distances.base import BaseDistance


@DISTANCES.register("cosine")
class CosineSimilarity(BaseDistance):
    """Cosine similarity ``<x, y> / (||x|| ||y||)``; a similarity (larger is closer).

    Parameters
    ----------
    normalize_embeddings : bool
        Has no effect: cosine normalises by definition (once, in :meth:`prepare`).
    """

    is_similarity = True
    default_normalize = True

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1)

    def _pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x @ y.T                       # rows already unit-norm (prepare)
