"""Unnormalised inner product."""
from __future__ import annotations

import torch

from distances import DISTANCES
from distances.base import BaseDistance


@DISTANCES.register("dot")
class DotProductSimilarity(BaseDistance):
    """Inner product ``<x, y>``; a similarity (larger is closer).

    Unlike ``cosine``, the embeddings are used as they are unless ``normalize_embeddings`` is
    set (then it equals cosine). N-pair and angular losses are defined on it.

    Parameters
    ----------
    normalize_embeddings : bool
        L2-normalise the embeddings before measuring (default false).
    """

    is_similarity = True

    def _pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x @ y.T
