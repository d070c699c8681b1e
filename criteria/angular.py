"""Angular loss (n-pair form)."""
from __future__ import annotations

import math
from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import upcast
from criteria.npair import l2_term, npair_log_loss, set_columns
from criteria.terms import LossTerm
from distances.base import BaseDistance
from utilities.tuples import NPairSets, npair_sets


@LOSSES.register("angular")
class AngularLoss(BaseLoss):
    """Angular loss, n-pair form (Wang et al., "Deep Metric Learning with Angular Loss", ICCV 2017).

    Formula::

        f(a, p, n) = 4 tan²α (x̂_a + x̂_p)·x̂_n - 2 (1 + tan²α) x̂_a·x̂_p         (x̂ = x / ||x||)
        l(a, p)    = npair(a, p) + npair_ang_weight · log(1 + Σ_n exp f(a, p, n))
        L          = mean_(a,p) l(a, p) + npair_l2 · (1/B) Σ_i ||x_i||_2

    The angular term uses normalised embeddings, the n-pair term (see ``npair``) the raw inner
    products, as in the paper's combined objective. The pairs (a, p) and negative sets are those
    of ``npair`` (all of the batch, or the given tuples, e.g. the ``npair`` miner's sets).

    Parameters
    ----------
    alpha : float
        The angle bound alpha, in degrees.
    npair_ang_weight : float
        Weight lambda of the angular term relative to the n-pair term.
    npair_l2 : float
        Weight of the mean L2 norm of the (unnormalised) embeddings.
    """

    takes = ("pairs", "triplets", "sets")
    default_miner = "npair"
    default_distance = "dot"
    allowed_distances = ("dot",)
    distance_note = "the angular loss combines raw inner products (n-pair) with normalised ones (angular)"
    term_names = ("npair", "angular", "l2_reg")

    def __init__(self, alpha: float = 45.0, npair_ang_weight: float = 2.0, npair_l2: float = 0.005, **base: Any):
        super().__init__(**base)
        if not 0 < alpha < 90:
            raise ValueError(f"--loss_angular_alpha must be in (0, 90) degrees, got {alpha}")
        self.alpha, self.npair_ang_weight, self.npair_l2 = alpha, npair_ang_weight, npair_l2
        self.tan_sq = math.tan(math.radians(alpha)) ** 2

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sets = npair_sets(labels, indices_tuple)
        npair, angular = npair_and_angular_values(embeddings, sets, self.distance, self.tan_sq)
        return {"npair": LossTerm(npair, "pos_pair", sets.anchors),
                "angular": LossTerm(self.npair_ang_weight * angular, "pos_pair", sets.anchors),
                **l2_term(embeddings, self.npair_l2)}


def npair_and_angular_values(embeddings: torch.Tensor, sets: NPairSets, distance: BaseDistance,
                             tan_sq: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(npair, angular)``, shape (P,) each, for every row k of the sets: the n-pair term
    ``log(1 + Σ_{n ∈ N_k} exp(x_a·x_n - x_a·x_p))`` (as :func:`criteria.npair.npair_values`
    with the ``dot`` distance) and the angular term ``log(1 + Σ_{n ∈ N_k} exp f(a_k, p_k, n))``.

    Both are :func:`npair_log_loss` of logits ``z`` with ``f(a, p, n) = z_n - z_p``, from one
    product over the columns the sets use (:func:`set_columns`): ``[x_a ; x̂_a + x̂_p] · x_c^T``
    (2P × C). Its upper half is the n-pair logits ``x_a·x_c``; its lower half times
    ``4 tan²α / ||x_c||`` is ``z_n = 4 tan²α (x̂_a + x̂_p)·x̂_n``, and the positive's column
    holds ``z_p = 2 (1 + tan²α) x̂_a·x̂_p``, with ``x̂_a·x̂_p = x_a·x_p / (||x_a|| ||x_p||)``.
    The two cross entropies run as one over the stacked (2, P, C) logits.
    """
    cols = set_columns(sets, embeddings.shape[0])
    n_rows, n_cols = sets.anchors.numel(), cols.columns.numel()
    x = distance.prepare(embeddings.index_select(0, torch.cat([sets.anchors, cols.columns])))
    norm = torch.linalg.vector_norm(x, dim=1, keepdim=True).clamp_min(1e-12)     # as F.normalize
    x_a, x_c = x.split([n_rows, n_cols])
    norm_a, norm_c = norm.split([n_rows, n_cols])
    x_p, norm_p = x_c.index_select(0, cols.positives), norm_c.index_select(0, cols.positives)
    both = upcast(torch.cat([x_a, x_a / norm_a + x_p / norm_p]) @ x_c.T).view(2, n_rows, n_cols)
    scale = torch.cat([torch.ones_like(norm_c), (4.0 * tan_sq) / norm_c], 1).T.unsqueeze(1)      # (2, 1, C)
    s_ap = upcast((x_a * x_p).sum(1, keepdim=True))                                            # (P, 1)
    at_positive = torch.stack([s_ap, (2.0 * (1.0 + tan_sq)) * s_ap / (norm_a * norm_p)])        # (2, P, 1)
    logits = (both * scale.to(both.dtype)).scatter(2, cols.positives.view(1, -1, 1).expand(2, -1, 1), at_positive)
    npair, angular = npair_log_loss(logits, cols.positives, cols.negatives).unbind(0)
    return npair, angular
