"""The reducer interface."""
from __future__ import annotations

import torch

from criteria.terms import LossTerm


class BaseReducer:
    """``reducer(term, labels) -> 0-dim tensor``. Empty terms reduce to a connected zero."""

    wired_params: tuple[str, ...] = ()

    def __call__(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        if term.kind == "reduced":
            return term.values.reshape(())
        if term.values.numel() == 0:
            return term.values.sum() * 0.0
        return self.reduce(term, labels)

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: every registered subclass overrides it
