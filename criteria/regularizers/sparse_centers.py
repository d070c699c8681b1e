"""Sparse-centers regularizer of SoftTriple."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from criteria.regularizers import WEIGHT_REGULARIZERS
from criteria.regularizers.base import BaseRegularizer


@WEIGHT_REGULARIZERS.register("sparse_centers")
class SparseCentersRegularizer(BaseRegularizer):
    """Merges redundant centers of a class (Qian et al., "SoftTriple Loss: Deep Metric Learning
    Without Triplet Sampling", ICCV 2019, Sec. 3.3).

    Formula::

        R(W) = Σ_c Σ_{t < s} sqrt(2 + ε - 2 <ŵ_c^t, ŵ_c^s>) / (C K (K - 1))

    over the K unit-normalised centers ŵ_c^1..K of each of the C classes (an L2,1 norm that
    drives centers of a class together, so unneeded ones collapse). Rows of the weight matrix
    are class-major: row ``c·K + k`` is center k of class c. Zero for K = 1.

    Parameters
    ----------
    centers_per_class : int
        K, the number of centers per class in the weight matrix.
    """

    def __init__(self, centers_per_class: int = 1):
        if centers_per_class < 1:
            raise ValueError(f"--weight_reg_centers_per_class must be >= 1, got {centers_per_class}")
        self.centers_per_class = int(centers_per_class)

    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        k = self.centers_per_class
        if k == 1:
            return tensor.sum() * 0.0
        if tensor.shape[0] % k:
            raise ValueError(f"--weight_reg_centers_per_class {k} does not divide the {tensor.shape[0]} weight rows")
        n_classes = tensor.shape[0] // k
        w = F.normalize(tensor, dim=1).view(n_classes, k, -1)
        sim = w @ w.transpose(1, 2)                                       # (C, K, K)
        upper = torch.triu(torch.ones(k, k, dtype=torch.bool, device=w.device), diagonal=1)
        dist = torch.sqrt((2.0 + 1e-5 - 2.0 * sim[:, upper]).clamp_min(1e-12))
        return dist.sum() / (n_classes * k * (k - 1))
