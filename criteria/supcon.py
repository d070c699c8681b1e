"""Supervised contrastive loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import require, similarities, tuple_masks
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp, masked_mean


@LOSSES.register("supcon")
class SupConLoss(BaseLoss):
    """Supervised contrastive loss (Khosla et al., "Supervised Contrastive Learning",
    NeurIPS 2020), the L_out form.

    For an anchor i with positives P(i) and all other items A(i) = P(i) ∪ N(i)::

        L_i = -(1/|P(i)|) Σ_{p ∈ P(i)} log( exp(s_ip / τ) / Σ_{k ∈ A(i)} exp(s_ik / τ) )

    ``s`` is the similarity (``-d`` for a distance). Anchors without a positive contribute
    nothing. With mined tuples, P(i) and N(i) are the mined positive and negative pairs of i.

    Parameters
    ----------
    temperature : float
        Temperature τ (the paper uses 0.1).
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    default_reducer = "avg_nonzero"
    term_names = ("loss",)

    def __init__(self, temperature: float = 0.1, **base: Any):
        super().__init__(**base)
        require(temperature > 0, "supcon", "temperature", "must be positive", temperature)
        self.temperature = temperature

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        logits = similarities(self.distance, embeddings) / self.temperature
        pos, neg = tuple_masks(labels, indices_tuple)
        values = masked_logsumexp(logits, pos | neg) - masked_mean(logits, pos)
        valid = pos.any(1)
        return {"loss": LossTerm(values[valid], "element", torch.nonzero(valid).flatten())}
