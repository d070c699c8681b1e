"""Sum divided by a fixed number."""
from __future__ import annotations

from typing import Any

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

    @classmethod
    def check_arguments(cls, *, divisor: float, **_: Any) -> None:
        if divisor <= 0:
            raise ValueError(f"--reducer_divisor must be positive, got {divisor}")

    def __init__(self, divisor: float = 1.0):
        self.check_arguments(divisor=divisor)
        self.divisor = float(divisor)

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        return term.values.sum() / self.divisor
