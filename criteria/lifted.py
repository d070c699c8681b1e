"""Generalised lifted structure loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.npair import l2_term
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp
from utilities.tuples import tuple_masks


@LOSSES.register("lifted")
class GeneralizedLiftedLoss(BaseLoss):
    """Generalised lifted structure loss (Hermans, Beyer and Leibe, "In Defense of the Triplet
    Loss for Person Re-Identification", 2017, Eq. 4; after Song et al., CVPR 2016).

    Formula::

        l(a) = [ log Σ_{p ∈ P(a)} exp d(a, p)  +  log Σ_{n ∈ N(a)} exp(neg_margin - d(a, n)) ]_+
        L    = mean_a l(a)  +  l2 · (1/B) Σ_i ||x_i||_2

    for every anchor with a positive and a negative. With given tuples, P(a) and N(a) are the
    mined positives and negatives of a. The margin follows the one rule of
    :mod:`distances.base` (as PML's ``GeneralizedLiftedStructureLoss``): on a similarity,
    ``log Σ_p exp(-s(a, p)) + log Σ_n exp(s(a, n) - neg_margin)``, so ``neg_margin`` is a
    threshold on ``s`` (negatives should have ``s(a, n) <= neg_margin``).

    Parameters
    ----------
    neg_margin : float
        The margin m on negative distances (a threshold in the measure's units).
    l2 : float
        Weight of the mean L2 norm of the embeddings (they are not normalised).
    """

    takes = ("pairs", "triplets", "sets")
    default_miner = "lifted"
    default_distance = "euclidean"
    term_names = ("lifted", "l2_reg")

    def __init__(self, neg_margin: float = 1.0, l2: float = 0.005, **base: Any):
        super().__init__(**base)
        self.neg_margin, self.l2 = neg_margin, l2

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        pos, neg = tuple_masks(labels, indices_tuple)
        rows = torch.nonzero(pos.any(1) & neg.any(1), as_tuple=True)[0]
        dist = self.distance.closest_first(self.distance(embeddings))[rows]
        neg_margin = self.distance.closest_first(self.neg_margin)
        values = (masked_logsumexp(dist, pos[rows], dim=1)
                  + masked_logsumexp(neg_margin - dist, neg[rows], dim=1)).relu()
        return {"lifted": LossTerm(values, "element", rows), **l2_term(embeddings, self.l2)}
