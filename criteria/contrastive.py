"""Contrastive loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import pair_values, tuple_pairs
from criteria.terms import LossTerm


@LOSSES.register("contrastive")
class ContrastiveLoss(BaseLoss):
    """Contrastive loss (Hadsell, Chopra and LeCun, "Dimensionality Reduction by Learning an
    Invariant Mapping", CVPR 2006), with a margin on each side.

    Formula::

        pos_loss(a, p) = [d(a, p) - pos_margin]_+        neg_loss(a, n) = [neg_margin - d(a, n)]_+

    (similarities: ``[pos_margin - s]_+`` and ``[s - neg_margin]_+``, so with ``cosine`` use e.g.
    ``pos_margin 1, neg_margin 0``). Each sub-loss is reduced separately (mean) and the two are
    added, as in the Revisiting-DML tool.

    Parameters
    ----------
    pos_margin : float
        Positive pairs closer than this are not penalised.
    neg_margin : float
        Negative pairs farther than this are not penalised.
    """

    takes = ("pairs", "triplets")
    default_miner = "distance"
    default_distance = "euclidean"
    term_names = ("pos_loss", "neg_loss")

    def __init__(self, pos_margin: float = 0.0, neg_margin: float = 1.0, **base: Any):
        super().__init__(**base)
        self.pos_margin, self.neg_margin = pos_margin, neg_margin

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        pairs = None if indices_tuple is None else tuple_pairs(labels, indices_tuple)
        v_pos, a1, v_neg, a2 = pair_values(self.distance(embeddings), labels, pairs)
        pos = self.distance.gap(v_pos, self.pos_margin).relu()
        neg = self.distance.gap(self.neg_margin, v_neg).relu()
        return {"pos_loss": LossTerm(pos, "pos_pair", a1), "neg_loss": LossTerm(neg, "neg_pair", a2)}
