"""The regularizer interface: ``regularizer(tensor) -> 0-dim tensor``."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

import torch


class BaseRegularizer(metaclass=ABCMeta):
    """A penalty on the batch embeddings (B, D) or on a loss's weight matrix (C, D).

    Subclasses implement :meth:`compute`; an empty input gives a connected zero.
    """

    wired_params: tuple[str, ...] = ()

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.numel() == 0:
            return tensor.sum() * 0.0
        return self.compute(tensor)

    @abstractmethod
    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        """Implemented by every registered subclass."""
