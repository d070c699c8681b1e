"""N-pair loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import upcast
from criteria.regularizers.lp import mean_lp_norm
from criteria.terms import LossTerm
from distances.base import BaseDistance
from utilities.masked_ops import masked_logsumexp
from utilities.tuples import NPairSets, npair_sets


def used_columns(sets: NPairSets) -> torch.Tensor:
    """The items that occur as a positive or a negative of some row, ascending: the only
    columns a set loss needs (with PML's one pair per class, N of the B items)."""
    used = sets.negatives.any(0)
    used[sets.positives] = True
    return torch.nonzero(used).flatten()


def local_index(cols: torch.Tensor, items: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The position of each of ``items`` within ``cols`` (all of them must occur there)."""
    where = torch.full((batch_size,), -1, dtype=torch.long, device=cols.device)
    where[cols] = torch.arange(cols.numel(), device=cols.device)
    return where[items]


def npair_values(embeddings: torch.Tensor, sets: NPairSets, distance: BaseDistance) -> torch.Tensor:
    """``log(1 + Σ_{n ∈ N_k} exp(s(a_k, n) - s(a_k, p_k)))`` for every row k of the sets
    (with ``gap``, so a distance gives ``d(a, p) - d(a, n)``).

    Only the similarities used are computed: the rows' anchors against :func:`used_columns`
    (with PML's one pair per class, an (N, N) matrix instead of (B, B)).
    """
    cols = used_columns(sets)
    if sets.anchors.numel() > embeddings.shape[0]:             # repeated anchors: rows once, then gathered
        sim = upcast(distance(embeddings, embeddings[cols]))[sets.anchors]
    else:
        sim = upcast(distance(embeddings[sets.anchors], embeddings[cols]))      # (P, |cols|)
    pos = sim.gather(1, local_index(cols, sets.positives, embeddings.shape[0]).unsqueeze(1))
    return masked_logsumexp(distance.gap(pos, sim), sets.negatives[:, cols], dim=1, add_one=True)


def l2_term(embeddings: torch.Tensor, weight: float) -> dict[str, LossTerm]:
    """``weight · (1/B) Σ_i ||x_i||_2`` as a reduced term (none when the weight is 0)."""
    return {"l2_reg": LossTerm(weight * mean_lp_norm(embeddings, 2.0), "reduced")} if weight else {}


@LOSSES.register("npair")
class NPairLoss(BaseLoss):
    """N-pair loss (Sohn, "Improved Deep Metric Learning with Multi-class N-pair Loss
    Objective", NeurIPS 2016).

    Formula::

        l(a, p) = log(1 + Σ_{n: y_n ≠ y_a} exp(x_a·x_n - x_a·x_p))  +  l2 · (1/B) Σ_i ||x_i||_2

    on unnormalised inner products, for every positive pair (a, p) of the batch with all of a's
    negatives (or the given tuples grouped by (a, p); the ``npair`` miner's sets, which the
    Revisiting-DML tool requires, give one random positive per anchor); mean over pairs. The l2
    term keeps the embedding norms in check (0.005 = the paper's 0.02 times the 0.25 of its code).

    Parameters
    ----------
    l2 : float
        Weight of the mean L2 norm of the embeddings.
    """

    takes = ("pairs", "triplets", "sets")
    default_miner = "npair"
    default_distance = "dot"
    allowed_distances = ("dot", "cosine")
    distance_note = "the n-pair loss is defined on inner products"
    term_names = ("npair", "l2_reg")

    def __init__(self, l2: float = 0.005, **base: Any):
        super().__init__(**base)
        self.l2 = l2

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sets = npair_sets(labels, indices_tuple)
        values = npair_values(embeddings, sets, self.distance)
        return {"npair": LossTerm(values, "pos_pair", sets.anchors), **l2_term(embeddings, self.l2)}
