"""The reducer interface."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

import torch

from criteria.terms import LossTerm


class BaseReducer(metaclass=ABCMeta):
    """``reducer(term, labels) -> 0-dim tensor``. Empty terms reduce to a connected zero."""

    wired_params: tuple[str, ...] = ()

    @classmethod
    def check_arguments(cls, **params: Any) -> None:
        """Raise a one-line ``ValueError`` naming the flag when the parameters (as the flags set
        them) are invalid; ``__init__`` runs it too. Parsing calls it without building anything."""

    def __call__(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        if term.kind == "reduced":
            return term.values.reshape(())
        if term.values.numel() == 0:
            return term.values.sum() * 0.0
        return self.reduce(term, labels)

    @abstractmethod
    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        """Implemented by every registered subclass."""
