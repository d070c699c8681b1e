"""Neighbourhood components analysis loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import similarities, tuple_masks
from criteria.terms import LossTerm
from utilities.masked_ops import masked_log_share


@LOSSES.register("nca")
class NCALoss(BaseLoss):
    """NCA loss (Goldberger et al., "Neighbourhood Components Analysis", NeurIPS 2005; as a
    deep metric learning loss in Movshovitz-Attias et al., "No Fuss Distance Metric Learning
    using Proxies", ICCV 2017).

    Each item i picks a neighbour j ≠ i with probability ``softmax_j(-λ d_ij)``; the loss is the
    negative log-probability of picking a positive::

        L_i = -log( Σ_{p ∈ P(i)} exp(-λ d_ip) / Σ_{k ∈ P(i) ∪ N(i)} exp(-λ d_ik) )

    for every item with at least one positive. Goldberger et al. use the squared Euclidean
    distance (``--distance_squared``); on a similarity, ``d`` is ``-s``. A mined pair/triplet
    set given as ``indices_tuple`` restricts P(i) and N(i) to the mined pairs.

    Computed as ``-log Σ_{p ∈ P(i)} softmax_i(-λ d)_p`` (one softmax over the candidates, the
    self-pair at ``-inf``; :func:`utilities.masked_ops.masked_log_share`), exact also where every
    positive's probability underflows (PML drops such rows as ``log 0``).

    Parameters
    ----------
    softmax_scale : float
        The scale λ in the softmax (the paper: 1).
    """

    takes = ("pairs", "triplets")
    default_distance = "euclidean"
    term_names = ("loss",)

    def __init__(self, softmax_scale: float = 1.0, **base: Any):
        super().__init__(**base)
        self.softmax_scale = softmax_scale

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        logits = similarities(self.distance, embeddings, self.softmax_scale)
        if indices_tuple is None:              # every pair: all k ≠ i compete, P(i) = same label
            with torch.no_grad():              # p_ii = 0, so the softmax already gives the self-pair
                logits.fill_diagonal_(-torch.inf)   # a zero gradient: no CopySlices pass needed
            same = torch.eq(labels.view(-1, 1), labels.view(1, -1), out=logits.new_empty(logits.shape))
            share = masked_log_share(logits, same)  # the diagonal of ``same`` adds p_ii = 0
            valid = same.sum(1) > 1
        else:
            pos, neg = tuple_masks(labels, indices_tuple)
            share = masked_log_share(logits, pos, pos | neg)
            valid = pos.any(1)
        if bool(valid.all()):
            return {"loss": LossTerm(-share, "element", torch.arange(share.numel(), device=share.device))}
        rows = valid.nonzero().flatten()
        return {"loss": LossTerm(-share[rows], "element", rows)}
