"""Mean, sum and mean-over-non-zero reductions."""
from __future__ import annotations

import torch

from criteria.reducers import REDUCERS
from criteria.reducers.base import BaseReducer
from criteria.terms import LossTerm


@REDUCERS.register("mean")
class MeanReducer(BaseReducer):
    """``(1/M) Σ_i l_i``."""

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        return term.values.mean()


@REDUCERS.register("sum")
class SumReducer(BaseReducer):
    """``Σ_i l_i``."""

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        return term.values.sum()


@REDUCERS.register("avg_nonzero")
class AvgNonZeroReducer(BaseReducer):
    """``Σ_i l_i / |{i : l_i > 0}|`` (zero when no element is active)."""

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        active = (term.values > 0).sum().clamp_min(1)
        return term.values.sum() / active
