"""Intra-pair variance loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import pair_values, tuple_pairs, upcast
from criteria.terms import LossTerm


@LOSSES.register("intra_pair_variance")
class IntraPairVarianceLoss(BaseLoss):
    """Intra-pair variance loss (Yu & Tao, "Deep Metric Learning with Tuplet Margin Loss",
    ICCV 2019), which pulls the pair similarities towards their batch means.

    With ``μ⁺`` and ``μ⁻`` the means of the positive and of the negative pair similarities::

        L_pos(a, p) = [(1 - ε⁺) μ⁺ - s_ap]_+²        L_neg(a, n) = [s_an - (1 + ε⁻) μ⁻]_+²

    reduced separately (terms ``pos_loss`` and ``neg_loss``). The paper adds it to
    ``tuplet_margin`` with weight 0.5. Cosine similarity only.

    Parameters
    ----------
    pos_eps : float
        The slack ε⁺ of the positive pairs (the paper: 0.01).
    neg_eps : float
        The slack ε⁻ of the negative pairs (the paper: 0.01).
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    allowed_distances = ("cosine",)
    distance_note = "it compares similarities with their mean in relative terms"
    term_names = ("pos_loss", "neg_loss")

    def __init__(self, pos_eps: float = 0.01, neg_eps: float = 0.01, **base: Any):
        super().__init__(**base)
        self.pos_eps, self.neg_eps = pos_eps, neg_eps

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = upcast(self.distance(embeddings))
        pairs = None if indices_tuple is None else tuple_pairs(labels, indices_tuple)
        pos, a1, neg, a2 = pair_values(sim, labels, pairs)
        pos_loss = ((1 - self.pos_eps) * pos.mean() - pos).relu().square() if pos.numel() else pos
        neg_loss = (neg - (1 + self.neg_eps) * neg.mean()).relu().square() if neg.numel() else neg
        return {"pos_loss": LossTerm(pos_loss, "pos_pair", a1), "neg_loss": LossTerm(neg_loss, "neg_pair", a2)}
