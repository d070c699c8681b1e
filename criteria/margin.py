"""Margin loss with learnable per-class boundaries."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from criteria import LOSSES
from criteria.base import BaseLoss
from distances.base import BaseDistance
from utilities.tuples import Triplets, all_triplets


@LOSSES.register("margin")
class MarginLoss(BaseLoss):
    """Margin loss (Wu et al., "Sampling Matters in Deep Embedding Learning", ICCV 2017).

    For a triplet (a, p, n) with class boundary ``beta_{y_a}`` and margin ``alpha``::

        l(a, p, n) = [alpha + d(a, p) - beta_{y_a}]_+ + [alpha - d(a, n) + beta_{y_a}]_+

    The loss is the sum over the mined triplets divided by the number of non-zero terms, plus
    ``nu * mean_t beta_{y_{a_t}}`` (the paper's beta regulariser, which pushes boundaries down).

    Parameters
    ----------
    margin : float
        The margin alpha around the boundary.
    beta : float
        Initial value of every class boundary beta.
    beta_lr : float
        Learning rate of the beta parameters (their own optimizer group).
    nu : float
        Weight of the beta regulariser.
    beta_constant : bool
        Keep beta fixed at its initial value (not trained).
    """

    accepts = ("triplets",)
    default_distance = "euclidean"

    def __init__(self, n_classes: int = 1, margin: float = 0.2, beta: float = 1.2,
                 beta_lr: float = 0.0005, nu: float = 0.0, beta_constant: bool = False,
                 distance: BaseDistance | None = None):
        super().__init__(distance)
        self.margin, self.nu, self.beta_lr = margin, nu, beta_lr
        self.beta_constant = beta_constant
        self.beta = nn.Parameter(torch.full((n_classes,), float(beta)),
                                 requires_grad=not beta_constant)

    def param_groups(self) -> list[dict[str, Any]]:
        if self.beta_constant:
            return []
        return [{"params": [self.beta], "lr": self.beta_lr, "weight_decay": 0.0, "name": "loss_margin_beta"}]

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices_tuple: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
        a, p, n = indices_tuple if indices_tuple is not None else all_triplets(labels)
        if a.numel() == 0:
            self.stats = {"active_fraction": 0.0}
            return self.connected_zero(embeddings) + self.connected_zero(self.beta)
        # On a similarity, beta is a boundary on -s (smaller is closer), so one formula serves.
        dist = self.distance.closest_first(self.distance(embeddings))
        d_ap, d_an = dist[a, p], dist[a, n]
        beta = self.beta[labels[a]].to(dist.dtype)
        pos_term = (self.margin + d_ap - beta).clamp_min(0)
        neg_term = (self.margin - d_an + beta).clamp_min(0)
        active = (pos_term > 0).sum() + (neg_term > 0).sum()
        loss = (pos_term.sum() + neg_term.sum()) / active.clamp_min(1)
        if self.nu:
            loss = loss + self.nu * beta.mean()
        self.stats = {"active_fraction": float(active) / (2 * a.numel())}
        return loss
