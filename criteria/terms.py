"""Unreduced loss values, tagged with what each value belongs to."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class LossTerm:
    """The per-element values of one (sub-)loss before reduction.

    Attributes
    ----------
    values : Tensor
        Shape (M,): one loss value per element.
    kind : str
        What an element is: ``"element"`` (one embedding), ``"pos_pair"``, ``"neg_pair"``,
        ``"triplet"``, or ``"reduced"`` (already a scalar, reducers pass it through).
    anchors : Tensor, optional
        Shape (M,): the batch index of each element's anchor (the embedding itself for
        ``"element"``). Per-anchor and class-weighted reducers need it.
    """
    values: torch.Tensor
    kind: str
    anchors: torch.Tensor | None = None
