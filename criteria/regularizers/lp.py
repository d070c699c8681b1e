"""Mean Lp norm of the rows."""
from __future__ import annotations

import torch

from criteria.regularizers import EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS
from criteria.regularizers.base import BaseRegularizer


def mean_lp_norm(x: torch.Tensor, p: float = 2.0, power: float = 1.0) -> torch.Tensor:
    """``(1/N) Σ_i ||x_i||_p^power`` (the row norms of x). Zero rows get a zero gradient."""
    norms = torch.linalg.vector_norm(x, ord=p, dim=1)
    return norms.pow(power).mean()


@EMBEDDING_REGULARIZERS.register("lp")
@WEIGHT_REGULARIZERS.register("lp")
class LpRegularizer(BaseRegularizer):
    """Mean Lp norm of the rows: ``R(X) = (1/N) Σ_i ||x_i||_p^power``.

    On embeddings it keeps unnormalised embeddings from growing (as the l2 terms of n-pair,
    angular and lifted losses do); on a weight matrix it is weight decay on each class vector.

    Parameters
    ----------
    p : float
        The order of the norm.
    power : float
        The power the norm is raised to (2 with p = 2: squared L2).
    """

    def __init__(self, p: float = 2.0, power: float = 1.0):
        self.p, self.power = float(p), float(power)

    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        return mean_lp_norm(tensor, self.p, self.power)
