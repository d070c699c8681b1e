"""Typed index tuples and the label masks they are built from.

Miners return, and losses accept, one of these ``NamedTuple`` types (they are plain tuples too,
as CONTRACT §4 requires):

* :class:`Triplets` ``(anchors, positives, negatives)``;
* :class:`Pairs` ``(anchors1, positives, anchors2, negatives)``: positive pairs ``(a1, p)`` and
  negative pairs ``(a2, n)``;
* :class:`TupleSets` ``(anchors, positive_mask, negative_mask)``: per anchor a *set* of
  positives and a set of negatives (the N-pair and lifted-structure inputs).

Self-pairs are excluded by the explicit ``exclude_self`` argument, never by object identity.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class Triplets(NamedTuple):
    """Index triplets: ``labels[anchors] == labels[positives] != labels[negatives]``."""
    anchors: torch.Tensor
    positives: torch.Tensor
    negatives: torch.Tensor


class Pairs(NamedTuple):
    """Positive pairs ``(anchors1, positives)`` and negative pairs ``(anchors2, negatives)``."""
    anchors1: torch.Tensor
    positives: torch.Tensor
    anchors2: torch.Tensor
    negatives: torch.Tensor


class TupleSets(NamedTuple):
    """Anchors with sets of positives and negatives, as boolean (A, B) masks over the batch.

    Row ``i`` belongs to batch index ``anchors[i]``; ``positive_mask[i, j]`` selects ``j`` as one
    of its positives and ``negative_mask[i, j]`` as one of its negatives. N-pair sets have one
    positive per row, lifted-structure sets every positive.
    """
    anchors: torch.Tensor
    positive_mask: torch.Tensor
    negative_mask: torch.Tensor


def _empty(device: torch.device) -> torch.Tensor:
    return torch.empty(0, dtype=torch.long, device=device)


def empty_triplets(device: torch.device) -> Triplets:
    return Triplets(_empty(device), _empty(device), _empty(device))


def empty_pairs(device: torch.device) -> Pairs:
    return Pairs(_empty(device), _empty(device), _empty(device), _empty(device))


def empty_sets(device: torch.device, batch_size: int) -> TupleSets:
    mask = torch.zeros(0, batch_size, dtype=torch.bool, device=device)
    return TupleSets(_empty(device), mask, mask.clone())


def tuple_kind(tuples: tuple) -> str:
    """``"triplets"``, ``"pairs"`` or ``"sets"``: the kind of a miner's output."""
    if isinstance(tuples, TupleSets):
        return "sets"
    if len(tuples) == 3:
        return "triplets"
    if len(tuples) == 4:
        return "pairs"
    raise ValueError(f"not an index tuple: {len(tuples)} elements")


def label_masks(labels: torch.Tensor, ref_labels: torch.Tensor | None = None,
                exclude_self: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean ``(positive, negative)`` masks of shape (B, R).

    ``positive[i, j]`` is true when ``labels[i] == ref_labels[j]``; with ``exclude_self`` (only
    meaningful when the reference set is the batch itself) the diagonal is false.
    """
    ref = labels if ref_labels is None else ref_labels
    same = labels.view(-1, 1) == ref.view(1, -1)
    pos, neg = same.clone(), ~same
    if exclude_self:
        n = min(pos.shape)
        idx = torch.arange(n, device=labels.device)
        pos[idx, idx] = False
    return pos, neg


def all_pairs(labels: torch.Tensor, ref_labels: torch.Tensor | None = None,
              exclude_self: bool = True) -> Pairs:
    """Every positive and every negative pair of the batch (row-major order)."""
    pos, neg = label_masks(labels, ref_labels, exclude_self)
    a1, p = torch.nonzero(pos, as_tuple=True)
    a2, n = torch.nonzero(neg, as_tuple=True)
    return Pairs(a1, p, a2, n)


def all_triplets(labels: torch.Tensor, exclude_self: bool = True) -> Triplets:
    """Every valid triplet ``(a, p, n)`` of the batch.

    Built per anchor from the positive and negative counts, so memory is O(#triplets) rather
    than O(B^3).
    """
    pos, neg = label_masks(labels, None, exclude_self)
    a_pos, p = torch.nonzero(pos, as_tuple=True)            # sorted by anchor
    n_neg = neg.sum(1)                                      # negatives per anchor
    reps = n_neg[a_pos]                                     # each (a, p) pairs with every negative of a
    if reps.sum() == 0:
        return empty_triplets(labels.device)
    a = torch.repeat_interleave(a_pos, reps)
    pp = torch.repeat_interleave(p, reps)
    neg_idx = torch.nonzero(neg, as_tuple=True)[1]          # negatives, grouped by anchor
    starts = torch.cumsum(n_neg, 0) - n_neg                 # first negative of each anchor
    pair_start = torch.repeat_interleave(starts[a_pos], reps)
    offset = torch.arange(a.numel(), device=labels.device) - torch.repeat_interleave(
        torch.cumsum(reps, 0) - reps, reps)
    return Triplets(a, pp, neg_idx[pair_start + offset])


def triplets_to_pairs(triplets: tuple[torch.Tensor, ...]) -> Pairs:
    """The positive pairs ``(a, p)`` and negative pairs ``(a, n)`` of the triplets, de-duplicated."""
    a, p, n = triplets
    pos = torch.unique(torch.stack([a, p], 1), dim=0) if a.numel() else torch.empty(0, 2, dtype=torch.long, device=a.device)
    neg = torch.unique(torch.stack([a, n], 1), dim=0) if a.numel() else torch.empty(0, 2, dtype=torch.long, device=a.device)
    return Pairs(pos[:, 0], pos[:, 1], neg[:, 0], neg[:, 1])


def pairs_to_triplets(pairs: tuple[torch.Tensor, ...], batch_size: int) -> Triplets:
    """Every ``(a, p, n)`` such that ``(a, p)`` is a given positive pair and ``(a, n)`` a given
    negative pair with the same anchor (the per-anchor product)."""
    a1, p, a2, n = pairs
    device = a1.device
    if a1.numel() == 0 or a2.numel() == 0:
        return empty_triplets(device)
    order_neg = torch.argsort(a2, stable=True)
    a2s, ns = a2[order_neg], n[order_neg]
    n_neg = torch.bincount(a2s, minlength=batch_size)
    starts = torch.cumsum(n_neg, 0) - n_neg
    reps = n_neg[a1]
    if reps.sum() == 0:
        return empty_triplets(device)
    a = torch.repeat_interleave(a1, reps)
    pp = torch.repeat_interleave(p, reps)
    offset = torch.arange(a.numel(), device=device) - torch.repeat_interleave(torch.cumsum(reps, 0) - reps, reps)
    return Triplets(a, pp, ns[torch.repeat_interleave(starts[a1], reps) + offset])
