"""Multi-similarity loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.terms import LossTerm
from utilities.masked_ops import masked_extreme, masked_logsumexp
from utilities.tuples import tuple_masks


@LOSSES.register("multisimilarity")
class MultiSimilarityLoss(BaseLoss):
    """Multi-similarity loss with its own pair mining (Wang et al., "Multi-Similarity Loss with
    General Pair Weighting for Deep Metric Learning", CVPR 2019).

    Mining with margin ε, per anchor a: keep negatives with ``s(a, n) + ε > min_p s(a, p)`` and
    positives with ``s(a, p) - ε < max_n s(a, n)``. For every anchor left with both::

        pos_loss(a) = (1/α) log(1 + Σ_{kept p} exp(-α (s(a, p) - λ)))
        neg_loss(a) = (1/β) log(1 + Σ_{kept n} exp( β (s(a, n) - λ)))

    each averaged over those anchors. When no anchor survives the loss is a zero connected to
    the graph (the Revisiting-DML tool crashed on ``torch.stack([])``). Given tuples restrict
    the candidate pairs before mining.

    Parameters
    ----------
    pos_weight : float
        alpha, the scale on positive similarities.
    neg_weight : float
        beta, the scale on negative similarities.
    margin : float
        epsilon, the mining margin.
    thresh : float
        lambda, the similarity threshold.
    """

    takes = ("pairs", "triplets", "sets")
    default_distance = "cosine"
    allowed_distances = ("cosine", "dot")
    distance_note = "the multi-similarity loss weights pairs by similarity"
    term_names = ("pos_loss", "neg_loss")

    def __init__(self, pos_weight: float = 2.0, neg_weight: float = 40.0, margin: float = 0.1,
                 thresh: float = 0.5, **base: Any):
        super().__init__(**base)
        self.pos_weight, self.neg_weight, self.margin, self.thresh = pos_weight, neg_weight, margin, thresh

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = self.distance(embeddings)
        pos, neg = tuple_masks(labels, indices_tuple)
        with torch.no_grad():
            hardest_pos = masked_extreme(sim, pos, dim=1, largest=False).unsqueeze(1)
            hardest_neg = masked_extreme(sim, neg, dim=1, largest=True).unsqueeze(1)
            keep_neg = neg & (sim + self.margin > hardest_pos)
            keep_pos = pos & (sim - self.margin < hardest_neg)
            rows = torch.nonzero(keep_pos.any(1) & keep_neg.any(1), as_tuple=True)[0]
        s = sim[rows]
        pos_loss = masked_logsumexp(-self.pos_weight * (s - self.thresh), keep_pos[rows], 1, add_one=True)
        neg_loss = masked_logsumexp(self.neg_weight * (s - self.thresh), keep_neg[rows], 1, add_one=True)
        self.stats = {"active_anchor_frac": rows.numel() / max(labels.numel(), 1)}
        return {"pos_loss": LossTerm(pos_loss / self.pos_weight, "element", rows),
                "neg_loss": LossTerm(neg_loss / self.neg_weight, "element", rows)}
