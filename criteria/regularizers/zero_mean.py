"""Zero-mean regularizer of the SNR loss."""
from __future__ import annotations

import torch

from criteria.regularizers import EMBEDDING_REGULARIZERS
from criteria.regularizers.base import BaseRegularizer


def component_sums(x: torch.Tensor) -> torch.Tensor:
    """``Σ_d x_{i,d}`` for every row i, shape (N,)."""
    return x.sum(1)


@EMBEDDING_REGULARIZERS.register("zero_mean")
class ZeroMeanRegularizer(BaseRegularizer):
    """``R(X) = (1/B) Σ_i |Σ_d x_{i,d}|``: pushes every embedding's components to zero mean.

    From the SNR loss (Yuan et al., "Signal-To-Noise Ratio: A Robust Distance Metric for Deep
    Metric Learning", CVPR 2019, Eq. 9), where it makes the variance of an embedding its power,
    so the SNR distance is well defined.
    """

    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        return component_sums(tensor).abs().mean()
