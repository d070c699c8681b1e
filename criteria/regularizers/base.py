"""The regularizer interface: ``regularizer(tensor) -> 0-dim tensor``."""
from __future__ import annotations

import torch


class BaseRegularizer:
    """A penalty on the batch embeddings (B, D) or on a loss's weight matrix (C, D).

    Subclasses implement :meth:`compute`; an empty input gives a connected zero.
    """

    wired_params: tuple[str, ...] = ()

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.numel() == 0:
            return tensor.sum() * 0.0
        return self.compute(tensor)

    def compute(self, tensor: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # abstract: every registered subclass overrides it
