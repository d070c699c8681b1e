"""Ranked list loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import on_unit_sphere, require, tuple_masks, upcast
from criteria.terms import LossTerm


def _weighted_mean(values: torch.Tensor, temperature: float, mask: torch.Tensor) -> torch.Tensor:
    """Row-wise ``Σ w v / Σ w`` over the mask with ``w = exp(T v)`` (0 for an empty row),
    computed as a softmax so that large temperatures cannot overflow."""
    logits = (temperature * values).masked_fill(~mask, float("-inf"))
    peak = logits.amax(1, keepdim=True).detach()
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    weights = torch.exp(logits - peak)                  # masked entries: exp(-inf) = 0, zero gradient
    return (weights * values).sum(1) / weights.sum(1).clamp_min(torch.finfo(values.dtype).tiny)


@LOSSES.register("ranked_list")
class RankedListLoss(BaseLoss):
    """Ranked list loss (Wang et al., "Ranked List Loss for Deep Metric Learning", CVPR 2019).

    On L2-normalised embeddings with distance d, each item i keeps the positives farther than
    ``α - m`` (P*) and the negatives closer than ``α`` (N*)::

        L_P(i) = Σ_{j ∈ P*} w_ij (d_ij - (α - m)) / Σ_{j ∈ P*} w_ij,   w_ij = exp(T_p (d_ij - (α - m)))
        L_N(i) = Σ_{k ∈ N*} w_ik (α - d_ik) / Σ_{k ∈ N*} w_ik,         w_ik = exp(T_n (α - d_ik))
        L_i    = (1 - λ) L_P(i) + λ L_N(i)

    averaged over all items (an empty P* or N* contributes 0). ``pos_temperature = 0`` and
    ``alpha = 1 + margin/2`` give the paper's RLL-Simpler. A mined pair/triplet set given as
    ``indices_tuple`` restricts the candidates to the mined pairs.

    Parameters
    ----------
    margin : float
        The margin m between the positive and the negative boundary (the paper: 0.4).
    neg_temperature : float
        Temperature T_n of the negative weights (the paper: 10).
    imbalance : float
        The weight λ of the negative part, in [0, 1].
    alpha : float, optional
        The negative boundary α (default ``1 + margin / 2``).
    pos_temperature : float
        Temperature T_p of the positive weights (0: a plain mean).
    """

    takes = ("pairs", "triplets")
    default_distance = "euclidean"
    allowed_distances = ("euclidean",)
    distance_note = "its boundaries are Euclidean distances on the unit sphere"
    term_names = ("loss",)

    def __init__(self, margin: float = 0.4, neg_temperature: float = 10.0, imbalance: float = 0.5,
                 alpha: float | None = None, pos_temperature: float = 0.0, **base: Any):
        super().__init__(**base)
        require(0.0 <= imbalance <= 1.0, "ranked_list", "imbalance", "must lie in [0, 1]", imbalance)
        self.margin, self.imbalance = margin, imbalance
        self.alpha = 1 + margin / 2 if alpha is None else alpha
        self.pos_temperature, self.neg_temperature = pos_temperature, neg_temperature

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        dist = upcast(on_unit_sphere(self.distance, embeddings))
        pos, neg = tuple_masks(labels, indices_tuple)
        pos_gap = dist - (self.alpha - self.margin)
        neg_gap = self.alpha - dist
        loss_p = _weighted_mean(pos_gap, self.pos_temperature, pos & (pos_gap > 0))
        loss_n = _weighted_mean(neg_gap, self.neg_temperature, neg & (neg_gap > 0))
        values = (1 - self.imbalance) * loss_p + self.imbalance * loss_n
        return {"loss": LossTerm(values, "element", torch.arange(labels.numel(), device=labels.device))}
