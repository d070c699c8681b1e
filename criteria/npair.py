"""N-pair loss."""
from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import upcast
from criteria.regularizers.lp import mean_lp_norm
from criteria.terms import LossTerm
from distances.base import BaseDistance
from utilities.tuples import NPairSets, mask_columns, npair_sets


class SetColumns(NamedTuple):
    """:class:`NPairSets` restricted to the columns they use (:func:`set_columns`)."""
    columns: torch.Tensor       # (C,) the batch items used, ascending
    positives: torch.Tensor     # (P,) each row's positive, as a position in ``columns``
    negatives: torch.Tensor     # (P, C) boolean: each row's negatives among ``columns``


def set_columns(sets: NPairSets, batch_size: int) -> SetColumns:
    """The items that occur as a positive or a negative of some row, ascending: the only
    columns a set loss needs (with PML's one pair per class, N of the B items), with the sets
    re-indexed to them. When every item is used the sets are returned as they are."""
    if sets.negatives.shape[0] == 0:
        return SetColumns(sets.positives, sets.positives, sets.negatives[:, :0])
    used = sets.negatives.view(torch.uint8).amax(0).index_fill_(0, sets.positives, 1)    # uint8: see mask_any
    if bool(used.amin() != 0):
        return SetColumns(torch.arange(batch_size, device=used.device), sets.positives, sets.negatives)
    columns = torch.nonzero(used).flatten()
    position = torch.cumsum(used, 0) - 1                     # position of each used item in columns
    return SetColumns(columns, position.index_select(0, sets.positives), mask_columns(sets.negatives, columns))


def rows_and_columns(embeddings: torch.Tensor, anchors: torch.Tensor,
                     columns: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(embeddings[anchors], embeddings[columns])`` in one gather (one scatter backward)."""
    rows, cols = embeddings.index_select(0, torch.cat([anchors, columns])).split([anchors.numel(), columns.numel()])
    return rows, cols


def npair_values(embeddings: torch.Tensor, sets: NPairSets, distance: BaseDistance) -> torch.Tensor:
    """``log(1 + Σ_{n ∈ N_k} exp(s(a_k, n) - s(a_k, p_k)))`` for every row k of the sets
    (with ``gap``, so a distance gives ``d(a, p) - d(a, n)``).

    Only the similarities used are computed: the rows' anchors against :func:`set_columns`
    (with PML's one pair per class, an (N, N) matrix instead of (B, B)).
    """
    cols = set_columns(sets, embeddings.shape[0])
    if sets.anchors.numel() > embeddings.shape[0]:             # repeated anchors: rows once, then gathered
        sim = upcast(distance(embeddings, embeddings.index_select(0, cols.columns))).index_select(0, sets.anchors)
    else:
        sim = upcast(distance(*rows_and_columns(embeddings, sets.anchors, cols.columns)))   # (P, C)
    return npair_log_loss(distance.gap(0.0, sim), cols.positives, cols.negatives)    # z_n - z_p = gap(v_p, v_n)


def npair_log_loss(logits: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """``log(1 + Σ_{n ∈ N_k} exp(z_kn - z_kp))`` for every row k of the (..., P, C) ``logits``,
    whose row k has its positive in column ``positives[k]`` and its negatives where the (P, C)
    ``negatives`` is true (shared by the leading dimensions); shape (..., P).

    It is the cross entropy of column ``p_k`` among the columns ``{p_k} ∪ N_k``, the form in
    which Sohn wrote the loss: one fused log-softmax, cheaper than a masked log-sum-exp with
    ``add_one``. Where every row's negatives are all the other columns (Sohn's n-pair batch)
    no mask is applied. A row's positive must not also be one of its negatives.
    """
    n_rows, n_cols = negatives.shape
    if int(negatives.view(torch.uint8).sum()) != n_rows * (n_cols - 1):   # else Sohn's batch: no mask
        logits = torch.where(negatives.scatter(1, positives.unsqueeze(1), True), logits, -torch.inf)
    if logits.dim() == 2:
        return F.cross_entropy(logits, positives, reduction="none")
    lead = logits.shape[:-1]
    flat = F.cross_entropy(logits.reshape(lead.numel(), n_cols), positives.repeat(lead[:-1].numel()), reduction="none")
    return flat.view(lead)


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
