"""Angular loss (n-pair form)."""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.npair import l2_term, npair_values, used_columns
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp
from utilities.tuples import npair_sets


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
        npair = npair_values(embeddings, sets, self.distance)
        unit = F.normalize(embeddings, dim=1)
        a, p = sets.anchors, sets.positives
        cols = used_columns(sets)                                 # only the columns the sets use
        ends = unit[cols].T
        cos_ap = (unit[a] * unit[p]).sum(1, keepdim=True)
        f = 4.0 * self.tan_sq * (unit[a] @ ends + unit[p] @ ends) - 2.0 * (1.0 + self.tan_sq) * cos_ap
        angular = masked_logsumexp(f, sets.negatives[:, cols], dim=1, add_one=True)
        return {"npair": LossTerm(npair, "pos_pair", a),
                "angular": LossTerm(self.npair_ang_weight * angular, "pos_pair", a),
                **l2_term(embeddings, self.npair_l2)}
