"""Weighted sum of losses (``--loss a+b --loss_weights 1,0.5``)."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from criteria.base import LossModule


class WeightedLossSum(LossModule):
    """``L = Σ_k w_k L_k(embeddings, labels, tuples_k)``.

    A miner's output is converted for each component separately (:meth:`convert` gives a dict
    ``{name: tuples}``); a component that takes no tuples gets ``None`` and uses its own.
    ``indices_tuple`` may also be one tuple for every component. The statistics are prefixed by
    the component's name, and every component's own parameters are optimised.

    Parameters
    ----------
    losses : dict[str, LossModule]
        The components by name (the ``--loss`` names).
    weights : list[float]
        One weight per component.
    """

    def __init__(self, losses: dict[str, LossModule], weights: list[float]):
        super().__init__()
        if len(losses) != len(weights):
            raise ValueError(f"--loss_weights: {len(weights)} weights for {len(losses)} losses")
        self.components = nn.ModuleDict(losses)
        self.weights = [float(w) for w in weights]

    @property
    def takes(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(dict.fromkeys(k for loss in self.components.values() for k in loss.takes))

    @property
    def stats(self) -> dict[str, Any]:  # type: ignore[override]
        return {f"{name}/{key}": value for name, loss in self.components.items() for key, value in loss.stats.items()}

    def convert(self, tuples: tuple[torch.Tensor, ...], batch_size: int) -> dict[str, Any]:
        return {name: loss.convert(tuples, batch_size) for name, loss in self.components.items() if loss.takes}

    def param_groups(self) -> list[dict[str, Any]]:
        return [group for loss in self.components.values() for group in loss.param_groups()]

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, indices_tuple: Any = None) -> torch.Tensor:
        total = embeddings.sum() * 0.0
        for weight, (name, loss) in zip(self.weights, self.components.items()):
            tuples = indices_tuple.get(name) if isinstance(indices_tuple, dict) else indices_tuple
            total = total + weight * loss(embeddings, labels, tuples if loss.takes else None)
        return total
