"""PNP loss: penalising only the negatives ranked before positives."""
from __future__ import annotations

from typing import Any, Literal

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import require, similarities, soft_rank_counts, tuple_masks
from criteria.terms import LossTerm
from utilities.masked_ops import masked_mean

VARIANTS = ("O", "Ds", "Dq", "Iu", "Ib")


@LOSSES.register("pnp")
class PNPLoss(BaseLoss):
    """PNP loss (Li et al., "Rethinking the Optimization of Average Precision: Only Penalizing
    Negative Instances before Positive Ones is Enough", AAAI 2022).

    For a query q and a positive i, the soft number of negatives ranked before i is
    ``R_i = Σ_{n ∈ N(q)} sigmoid((s_qn - s_qi) / τ)`` (``s`` the similarity, ``-d`` for a
    distance). A variant maps it through ``f`` and the loss of q is the mean over its
    positives::

        L_q = (1/|P(q)|) Σ_{i ∈ P(q)} f(R_i)
        O : f(R) = R                          Ds: f(R) = log(1 + R)
        Iu: f(R) = (1 + R) log(1 + R)         Ib: f(R) = (bR - log(1 + bR)) / b²
        Dq: L_q = 1 - (1/|P(q)|) Σ_i (1 + R_i)^(-α)

    Ds/Dq give decreasing, Iu/Ib increasing gradients in R; the paper recommends PNP-D_q.
    Positives exclude the query itself; queries without a positive contribute nothing. A mined
    pair/triplet set given as ``indices_tuple`` restricts P(q) and N(q) to the mined pairs.

    Parameters
    ----------
    b : float
        The constant b of the Ib variant.
    alpha : float
        The exponent α of the Dq variant.
    anneal : float
        Sigmoid temperature τ.
    variant : {"O", "Ds", "Dq", "Iu", "Ib"}
        Which f to use.
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    term_names = ("loss",)

    def __init__(self, b: float = 2.0, alpha: float = 1.0, anneal: float = 0.01,
                 variant: Literal["O", "Ds", "Dq", "Iu", "Ib"] = "O", **base: Any):
        super().__init__(**base)
        require(variant in VARIANTS, "pnp", "variant", f"must be one of {', '.join(VARIANTS)}", variant)
        require(anneal > 0, "pnp", "anneal", "must be positive", anneal)
        self.b, self.alpha, self.anneal, self.variant = b, alpha, anneal, variant

    def _transform(self, rank: torch.Tensor) -> torch.Tensor:
        if self.variant == "Ds":
            return torch.log1p(rank)
        if self.variant == "Dq":
            return (1 + rank).pow(-self.alpha)
        if self.variant == "Iu":
            return (1 + rank) * torch.log1p(rank)
        if self.variant == "Ib":
            return (self.b * rank - torch.log1p(self.b * rank)) / self.b ** 2
        return rank

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = similarities(self.distance, embeddings)
        pos, neg = tuple_masks(labels, indices_tuple)
        before = soft_rank_counts(sim, neg, self.anneal)
        per_query = masked_mean(self._transform(before), pos)
        if self.variant == "Dq":
            per_query = 1 - per_query
        valid = pos.any(1)
        return {"loss": LossTerm(per_query[valid], "element", torch.nonzero(valid).flatten())}
