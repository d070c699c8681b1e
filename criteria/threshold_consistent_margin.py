"""Threshold-consistent margin (TCM) loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import tuple_pairs, upcast
from criteria.terms import LossTerm


@LOSSES.register("threshold_consistent_margin")
class ThresholdConsistentMarginLoss(BaseLoss):
    """Threshold-consistent margin loss (Zhang et al., "Threshold-Consistent Margin Loss for
    Open-World Deep Metric Learning", CVPR 2024).

    A regulariser that penalises positive pairs below a similarity margin m⁺ and negative
    pairs above m⁻, averaged over the violating pairs only::

        L = λ⁺ mean_{(a,p): s_ap ≤ m⁺} (m⁺ - s_ap) + λ⁻ mean_{(a,n): s_an ≥ m⁻} (s_an - m⁻)

    (terms ``pos_loss`` and ``neg_loss``, each 0 without violations). The paper adds it to a
    base loss: ``--loss multisimilarity+threshold_consistent_margin``. Cosine similarity only.

    Parameters
    ----------
    lambda_plus : float
        Weight λ⁺ of the positive term.
    lambda_minus : float
        Weight λ⁻ of the negative term.
    margin_plus : float
        Cosine margin m⁺ for positive pairs.
    margin_minus : float
        Cosine margin m⁻ for negative pairs.
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    allowed_distances = ("cosine",)
    distance_note = "its margins live on the cosine scale [-1, 1]"
    term_names = ("pos_loss", "neg_loss")

    def __init__(self, lambda_plus: float = 1.0, lambda_minus: float = 1.0, margin_plus: float = 0.9,
                 margin_minus: float = 0.5, **base: Any):
        super().__init__(**base)
        self.lambda_plus, self.lambda_minus = lambda_plus, lambda_minus
        self.margin_plus, self.margin_minus = margin_plus, margin_minus

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = upcast(self.distance(embeddings))
        a1, p, a2, n = tuple_pairs(labels, indices_tuple)
        pos, neg = sim[a1, p], sim[a2, n]
        pos_hit, neg_hit = pos <= self.margin_plus, neg >= self.margin_minus
        return {"pos_loss": LossTerm(self.lambda_plus * (self.margin_plus - pos[pos_hit]), "pos_pair", a1[pos_hit]),
                "neg_loss": LossTerm(self.lambda_minus * (neg[neg_hit] - self.margin_minus), "neg_pair", a2[neg_hit])}
