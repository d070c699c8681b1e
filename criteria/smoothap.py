"""Smooth-AP: a sigmoid relaxation of average precision."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import require, similarities, soft_rank_counts, tuple_masks
from criteria.terms import LossTerm
from utilities.masked_ops import masked_mean


@LOSSES.register("smoothap")
class SmoothAPLoss(BaseLoss):
    """Smooth-AP (Brown et al., "Smooth-AP: Smoothing the Path Towards Large-Scale Image
    Retrieval", ECCV 2020).

    Every item q of the batch is a query; P(q) are its positives and Ω(q) = P(q) ∪ N(q) all
    other items. With ``σ_τ(x) = sigmoid(x / τ)`` and ``s`` the similarity (``-d`` for a
    distance), the soft ranks of a positive i are::

        R(i, P) = 1 + Σ_{j ∈ P(q), j ≠ i} σ_τ(s_qj - s_qi)
        R(i, Ω) = 1 + Σ_{j ∈ Ω(q), j ≠ i} σ_τ(s_qj - s_qi)
        AP_q    = (1/|P(q)|) Σ_{i ∈ P(q)} R(i, P) / R(i, Ω)         L_q = 1 - AP_q

    for every query with at least one positive. The query is not among its own positives: as
    in the paper (Sec. 3), a query ranks the instances of a retrieval set, here the rest of
    the batch. The authors' code, and PML's ``SmoothAPLoss`` which follows it, rank the whole
    batch, the query included: ``P'(q) = P(q) ∪ {q}`` and ``Ω'(q) = Ω(q) ∪ {q}`` in the
    formulas above, averaged over *every* query (one alone in its class has AP 1). The query
    has the top score (``s_qq = 1`` on cosine), so it adds a term close to 1 and about one to
    each positive's two ranks: PML's loss is much lower than ours on the same batch (0.42
    against 0.79 on a 12-item test batch of five classes, τ = 0.1). ``include_query``
    reproduces PML exactly (on the equal class sizes PML requires). Positives are found from
    the labels, so the loss is exact for any class order and any class sizes in the batch (the
    reference implementation assumes equal, contiguous classes). The B x B x B comparison is
    chunked over queries (:func:`criteria.functional.soft_rank_counts`). A mined pair/triplet
    set given as ``indices_tuple`` restricts P(q) and N(q) to the mined pairs.

    Parameters
    ----------
    temperature : float
        Sigmoid temperature τ (the paper uses 0.01).
    include_query : bool
        Count the query among its own positives, as the reference code and PML do.
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    term_names = ("loss",)

    def __init__(self, temperature: float = 0.01, include_query: bool = False, **base: Any):
        super().__init__(**base)
        require(temperature > 0, "smoothap", "temperature", "must be positive", temperature)
        self.temperature = temperature
        self.include_query = bool(include_query)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = similarities(self.distance, embeddings)
        pos, neg = tuple_masks(labels, indices_tuple)
        if self.include_query:
            pos = pos | torch.eye(pos.shape[0], dtype=torch.bool, device=pos.device)
        rank_pos, rank_all = 1 + soft_rank_counts(sim, torch.stack([pos, pos | neg]), self.temperature)
        valid = pos.any(1)
        ap = masked_mean(rank_pos / rank_all, pos)
        return {"loss": LossTerm(1 - ap[valid], "element", torch.nonzero(valid).flatten())}
