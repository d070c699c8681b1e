"""Margin loss with learnable boundaries, one per class or one shared."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.terms import LossTerm
from utilities.tuples import Triplets, map_triplets


@LOSSES.register("margin")
class MarginLoss(BaseLoss):
    """Margin loss (Wu et al., "Sampling Matters in Deep Embedding Learning", ICCV 2017).

    For a triplet (a, p, n) with class boundary ``beta_{y_a}`` and margin ``alpha``::

        l+(a, p) = [alpha + d(a, p) - beta_{y_a}]_+      l-(a, n) = [alpha - d(a, n) + beta_{y_a}]_+

    Both terms of every triplet are reduced together (default ``avg_nonzero``: the sum divided by
    the number of non-zero terms, as in the paper's code), plus ``nu · mean_t beta_{y_{a_t}}``,
    the paper's beta regulariser. The boundary follows the one rule of :mod:`distances.base`
    (as PML's ``MarginLoss``): on a similarity, ``l+ = [alpha + beta - s(a, p)]_+`` and
    ``l- = [alpha + s(a, n) - beta]_+``, so beta is a boundary on ``s`` itself.

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
    beta_per_class : bool
        One boundary per class (true, the paper's beta^(class)) or one boundary shared by every class (false, the paper's beta^(0); the Reality Check's "Margin" learns this one).
    """

    takes = ("triplets",)
    default_miner = "distance"
    wired_params = BaseLoss.wired_params + ("n_classes",)   # one learnable beta per class
    default_distance = "euclidean"
    default_reducer = "avg_nonzero"
    term_names = ("margin", "beta_reg")

    def __init__(self, n_classes: int = 1, margin: float = 0.2, beta: float = 1.2,
                 beta_lr: float = 0.0005, nu: float = 0.0, beta_constant: bool = False,
                 beta_per_class: bool = True, **base: Any):
        super().__init__(**base)
        self.margin, self.nu, self.beta_lr = margin, nu, beta_lr
        self.beta_constant, self.beta_per_class = beta_constant, beta_per_class
        self.beta = nn.Parameter(torch.full((n_classes if beta_per_class else 1,), float(beta)),
                                 requires_grad=not beta_constant)

    def param_groups(self) -> list[dict[str, Any]]:
        if self.beta_constant:
            return []
        return [{"params": [self.beta], "lr": self.beta_lr, "name": "loss_margin_beta"}]

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        dist = self.distance.closest_first(self.distance(embeddings))

        def values(t: Triplets) -> tuple[torch.Tensor, ...]:
            beta = self.beta[labels[t.anchors] if self.beta_per_class else torch.zeros_like(t.anchors)].to(dist.dtype)
            boundary = self.distance.closest_first(beta)     # beta itself on a distance
            pos_term = (self.margin + dist[t.anchors, t.positives] - boundary).relu()
            neg_term = (self.margin - dist[t.anchors, t.negatives] + boundary).relu()
            return pos_term, neg_term, beta

        (pos_term, neg_term, beta), a = map_triplets(labels, indices_tuple, values)
        values = torch.cat([pos_term, neg_term])
        self.stats = {"active_fraction": (values > 0).float().mean().detach() if values.numel() else 0.0}
        terms = {"margin": LossTerm(values, "triplet", torch.cat([a, a]))}
        if self.nu:
            reg = self.nu * beta.mean() if beta.numel() else self.connected_zero(self.beta)
            terms["beta_reg"] = LossTerm(reg, "reduced")
        return terms
