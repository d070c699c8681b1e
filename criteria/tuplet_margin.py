"""Tuplet margin loss."""
from __future__ import annotations

import math
from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import index_mask, tuple_pairs, upcast
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp

# Cosines are kept this far inside [-1, 1]: d/ds acos(s) is infinite at the ends.
COS_EPS = 1e-6


@LOSSES.register("tuplet_margin")
class TupletMarginLoss(BaseLoss):
    """Tuplet margin loss (Yu & Tao, "Deep Metric Learning with Tuplet Margin Loss", ICCV 2019).

    For a positive pair (a, p) at angle ``θ_ap = acos(s_ap)`` and the negatives n of a::

        L_ap = log(1 + Σ_n exp(s · (cos θ_an - cos(θ_ap - β))))

    The angular margin β slackens the positive; the paper pairs this loss with
    ``intra_pair_variance`` (``--loss tuplet_margin+intra_pair_variance --loss_weights 1,0.5``).
    Cosine similarity only.

    Parameters
    ----------
    margin : float
        The angular margin β in degrees (the paper: 5.73°, i.e. 0.1 rad).
    scale : float
        The scale s (the paper: 64).
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    allowed_distances = ("cosine",)
    distance_note = "its margin is an angle between embeddings"
    term_names = ("loss",)

    def __init__(self, margin: float = 5.73, scale: float = 64.0, **base: Any):
        super().__init__(**base)
        self.margin, self.scale = margin, scale

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        cos = upcast(self.distance(embeddings)).clamp(-1 + COS_EPS, 1 - COS_EPS)
        a1, p, a2, n = tuple_pairs(labels, indices_tuple)
        neg = index_mask(a2, n, labels.numel())
        beta = math.radians(self.margin)
        cos_ap = cos[a1, p]
        shifted = cos_ap * math.cos(beta) + torch.sqrt(1 - cos_ap ** 2) * math.sin(beta)  # cos(θ - β)
        values = masked_logsumexp(self.scale * (cos[a1] - shifted.unsqueeze(1)), neg[a1], add_one=True)
        return {"loss": LossTerm(values, "pos_pair", a1)}
