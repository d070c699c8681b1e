"""Center-invariant regularizer."""
from __future__ import annotations

import torch

from criteria.regularizers import WEIGHT_REGULARIZERS
from criteria.regularizers.base import BaseRegularizer


@WEIGHT_REGULARIZERS.register("center_invariant")
class CenterInvariantRegularizer(BaseRegularizer):
    """Equal norms for all class vectors (Wu et al., "Deep Face Recognition with Center
    Invariant Loss", ACM MM Thematic Workshops 2017).

    Formula::

        R(W) = (1/C) Σ_c (||w_c||^2 - (1/C) Σ_k ||w_k||^2)^2 / 4

    so that no class's vector (and hence its embeddings' norms) dominates.
    """

    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        sq = tensor.pow(2).sum(1)
        return ((sq - sq.mean()) ** 2).mean() / 4.0
