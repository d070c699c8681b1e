"""Sum divided by a fixed number."""
from __future__ import annotations

import torch

from criteria.reducers import REDUCERS
from criteria.reducers.base import BaseReducer
from criteria.terms import LossTerm


@REDUCERS.register("divisor")
class DivisorReducer(BaseReducer):
    """``Σ_i l_i / divisor`` with a fixed divisor, so the loss scale does not depend on how many
    tuples were mined (a nominal batch size is a common choice).

    Parameters
    ----------
    divisor : float
        The number the sum is divided by.
    """

    def __init__(self, divisor: float = 1.0):
        if divisor <= 0:
            raise ValueError(f"--reducer_divisor must be positive, got {divisor}")
        self.divisor = float(divisor)

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        return term.values.sum() / self.divisor
