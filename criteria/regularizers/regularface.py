"""RegularFace regularizer."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from criteria.regularizers import WEIGHT_REGULARIZERS
from criteria.regularizers.base import BaseRegularizer
from utilities.masked_ops import masked_extreme


@WEIGHT_REGULARIZERS.register("regularface")
class RegularFaceRegularizer(BaseRegularizer):
    """Exclusive regularization (Zhao et al., "RegularFace: Deep Face Recognition via Exclusive
    Regularization", CVPR 2019).

    Formula::

        R(W) = (1/C) Σ_i max_{j ≠ i} cos(w_i, w_j)

    which spreads the class vectors apart (zero for a single class).
    """

    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.shape[0] < 2:
            return tensor.sum() * 0.0
        w = F.normalize(tensor, dim=1)
        cos = w @ w.T
        off_diag = ~torch.eye(w.shape[0], dtype=torch.bool, device=w.device)
        return masked_extreme(cos, off_diag, dim=1, largest=True).mean()
