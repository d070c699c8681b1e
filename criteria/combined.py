"""Weighted sum of losses (``--loss a+b --loss_weights 1,0.5``)."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


class WeightedLossSum(nn.Module):
    """``L = Σ_k w_k L_k(embeddings, labels, tuples_k)``.

    Each component gets the miner's tuples only if it uses a miner (its ``accepts`` is not
    empty); losses with their own mining get ``None``. ``indices_tuple`` may be one tuple for
    every component, or a dict of per-component tuples (``batch_mining.adapt_for`` converts the
    miner's output separately for each component's accepted kind). The statistics are prefixed by the
    component's name, and every component's own parameters are optimised.

    Parameters
    ----------
    losses : dict[str, nn.Module]
        The components by name (the ``--loss`` names).
    weights : list[float]
        One weight per component.
    """

    def __init__(self, losses: dict[str, nn.Module], weights: list[float]):
        super().__init__()
        if len(losses) != len(weights):
            raise ValueError(f"--loss_weights: {len(weights)} weights for {len(losses)} losses")
        self.components = nn.ModuleDict(losses)
        self.weights = [float(w) for w in weights]

    @property
    def uses_miner(self) -> bool:
        return any(getattr(loss, "uses_miner", False) for loss in self.components.values())

    @property
    def stats(self) -> dict[str, float]:
        return {f"{name}/{key}": value for name, loss in self.components.items()
                for key, value in (getattr(loss, "stats", None) or {}).items()}

    def param_groups(self) -> list[dict[str, Any]]:
        return [group for loss in self.components.values() for group in loss.param_groups()]

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices_tuple: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
        total = embeddings.sum() * 0.0
        for weight, (name, loss) in zip(self.weights, self.components.items()):
            tuples = indices_tuple.get(name) if isinstance(indices_tuple, dict) else indices_tuple
            tuples = tuples if getattr(loss, "uses_miner", False) else None
            total = total + weight * loss(embeddings, labels, tuples)
        return total
