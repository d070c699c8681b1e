"""Mean per anchor, then mean over anchors."""
from __future__ import annotations

import torch

from criteria.reducers import REDUCERS
from criteria.reducers.base import BaseReducer
from criteria.terms import LossTerm


def element_anchors(term: LossTerm, reducer: str) -> torch.Tensor:
    """The anchor of every element of ``term`` (elements are their own anchors)."""
    if term.anchors is not None:
        return term.anchors
    if term.kind == "element":
        return torch.arange(term.values.numel(), device=term.values.device)
    raise ValueError(f"--loss_reducer {reducer}: this loss term ({term.kind}) carries no anchors")


@REDUCERS.register("per_anchor")
class PerAnchorReducer(BaseReducer):
    """``(1/|A|) Σ_{a ∈ A} (1/|E_a|) Σ_{i ∈ E_a} l_i``: the mean of each anchor's elements, then
    the mean over the anchors A that have elements, so anchors with many tuples do not dominate."""

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        anchors = element_anchors(term, "per_anchor")
        size = int(max(labels.numel(), int(anchors.max()) + 1))
        sums = torch.zeros(size, dtype=term.values.dtype, device=term.values.device)
        sums = sums.index_add(0, anchors, term.values)
        counts = torch.bincount(anchors, minlength=size)
        present = counts > 0
        return (sums[present] / counts[present]).mean()
