"""The original lifted structured loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import index_mask, tuple_pairs, upcast
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp


@LOSSES.register("lifted_structure")
class LiftedStructureLoss(BaseLoss):
    """Lifted structured loss (Song et al., "Deep Metric Learning via Lifted Structured Feature
    Embedding", CVPR 2016), the original form; ``lifted`` is the generalised form of Hermans et
    al.

    For a positive pair (i, j), with the negatives N(i) of i and N(j) of j::

        J_ij = log( Σ_{k ∈ N(i)} exp(α - d_ik) + Σ_{l ∈ N(j)} exp(α - d_jl) ) + d_ij - m_pos
        L    = 1 / (2|P|) Σ_{(i,j) ∈ P} [J_ij]_+²

    Every ordered positive pair gets the term ``[J_ij]_+² / 2`` (J is symmetric), so the
    default mean over ordered pairs is exactly the paper's average. The margins follow the one
    rule of :mod:`distances.base` (as PML's ``LiftedStructureLoss``): on a similarity,
    ``J_ij = log( Σ_k exp(s_ik - α) + Σ_l exp(s_jl - α) ) + m_pos - s_ij``, so α and ``m_pos``
    are thresholds on ``s``.

    Parameters
    ----------
    neg_margin : float
        The margin α of the negatives (the paper uses 1).
    pos_margin : float
        Subtracted from the positive distance (the paper has none: 0).
    """

    takes = ("pairs", "triplets")
    default_distance = "euclidean"
    term_names = ("loss",)

    def __init__(self, neg_margin: float = 1.0, pos_margin: float = 0.0, **base: Any):
        super().__init__(**base)
        self.neg_margin, self.pos_margin = neg_margin, pos_margin

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        closest_first = self.distance.closest_first
        dist = closest_first(upcast(self.distance(embeddings)))
        a1, p, a2, n = tuple_pairs(labels, indices_tuple)
        neg = index_mask(a2, n, labels.numel())
        slack = closest_first(self.neg_margin) - dist
        hinge = masked_logsumexp(torch.cat([slack[a1], slack[p]], 1), torch.cat([neg[a1], neg[p]], 1))
        values = (hinge + dist[a1, p] - closest_first(self.pos_margin)).relu().square() / 2
        return {"loss": LossTerm(values, "pos_pair", a1)}
