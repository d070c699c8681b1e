"""Mean over the elements inside a value window."""
from __future__ import annotations

from typing import Any

import torch

from criteria.reducers import REDUCERS
from criteria.reducers.base import BaseReducer
from criteria.terms import LossTerm


@REDUCERS.register("threshold")
class ThresholdReducer(BaseReducer):
    """Mean over the elements with ``low < l_i < high`` (each bound optional); zero if none.

    ``Σ_{i: low < l_i < high} l_i / |{i: low < l_i < high}|``.

    Parameters
    ----------
    low : float
        Keep only elements strictly above this value (none: no lower bound).
    high : float
        Keep only elements strictly below this value (none: no upper bound).
    """

    @classmethod
    def check_arguments(cls, *, low: float | None, high: float | None, **_: Any) -> None:
        if low is not None and high is not None and low >= high:
            raise ValueError(f"--reducer_low {low} must be below --reducer_high {high}")

    def __init__(self, low: float | None = None, high: float | None = None):
        self.check_arguments(low=low, high=high)
        self.low, self.high = low, high

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        values = term.values
        keep = torch.ones_like(values, dtype=torch.bool)
        if self.low is not None:
            keep &= values > self.low
        if self.high is not None:
            keep &= values < self.high
        return (values * keep).sum() / keep.sum().clamp_min(1)
