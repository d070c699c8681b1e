"""Typed index tuples and the label masks they are built from.

Miners return, and losses accept, one of these ``NamedTuple`` types (they are plain tuples too,
so ``a, p, n = miner(embeddings, labels)`` unpacks them):

* :class:`Triplets` ``(anchors, positives, negatives)``;
* :class:`Pairs` ``(anchors1, positives, anchors2, negatives)``: positive pairs ``(a1, p)`` and
  negative pairs ``(a2, n)``;
* :class:`TupleSets` ``(anchors, positive_mask, negative_mask)``: per anchor a *set* of
  positives and a set of negatives (the N-pair and lifted-structure inputs).

Self-pairs are excluded by the explicit ``exclude_self`` argument, never by object identity.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, NamedTuple

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


def empty_sets(device: torch.device, batch_size: int) -> TupleSets:
    mask = torch.zeros(0, batch_size, dtype=torch.bool, device=device)
    return TupleSets(_empty(device), mask, mask.clone())


def tuple_kind(tuples: tuple) -> str:
    """``"triplets"``, ``"pairs"`` or ``"sets"``: the kind of a miner's output (a plain
    ``(anchors, positive_mask, negative_mask)`` tuple with 2-D masks counts as sets)."""
    if isinstance(tuples, TupleSets) or (len(tuples) == 3 and tuples[1].dim() == 2):
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


#: Default chunk size of :func:`triplet_chunks`, in triplets: the enumeration temporaries of a
#: chunk (a few int64 vectors of this length) stay near 6 MiB whatever the batch size.
TRIPLET_BUDGET = 1 << 18


def _triplets_of_rows(pos: torch.Tensor, neg: torch.Tensor, rows: torch.Tensor) -> Triplets:
    """Every ``(a, p, n)`` with ``pos[a, p]`` and ``neg[a, n]`` for the given anchor rows.

    The per-anchor product of the rows' positive and negative pairs (:func:`pairs_to_triplets`),
    so memory is O(#triplets), never O(rows × R × R).
    """
    a1, p = torch.nonzero(pos, as_tuple=True)
    a2, n = torch.nonzero(neg, as_tuple=True)
    a, pp, negatives = pairs_to_triplets(Pairs(a1, p, a2, n), pos.shape[0])
    return Triplets(rows[a], pp, negatives)


def triplet_chunks(pos: torch.Tensor, neg: torch.Tensor,
                   max_triplets: int = TRIPLET_BUDGET) -> Iterator[Triplets]:
    """All triplets of the (B, R) masks ``pos``/``neg``, in chunks of whole anchors.

    A chunk holds at most ``max_triplets`` triplets (or the triplets of a single anchor, if one
    anchor alone has more), so the temporary index tensors stay within a fixed budget whatever
    the batch size; the B × R × R cube is never formed.
    """
    counts = pos.sum(1) * neg.sum(1)
    anchors = torch.nonzero(counts, as_tuple=True)[0]
    if anchors.numel() == 0:
        return
    cum = torch.cumsum(counts[anchors], 0)
    budget = max(int(max_triplets), 1)
    lo, done = 0, 0
    while lo < anchors.numel():                       # one iteration per chunk
        hi = int(torch.searchsorted(cum, done + budget, right=True))
        hi = max(hi, lo + 1)
        done = int(cum[hi - 1])
        rows = anchors[lo:hi]
        yield _triplets_of_rows(pos[rows], neg[rows], rows)
        lo = hi


def map_triplets(labels: torch.Tensor, indices_tuple: tuple[torch.Tensor, ...] | None,
                 fn: Callable[[Triplets], tuple[torch.Tensor, ...]],
                 max_triplets: int | None = None) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
    """Apply ``fn`` to the given triplets, or to all triplets of ``labels`` chunk by chunk.

    ``fn`` returns per-triplet tensors; their concatenations and the triplets' anchors are
    returned. Pairs given as ``indices_tuple`` are turned into triplets per anchor first.
    ``max_triplets`` defaults to :data:`TRIPLET_BUDGET`. Only the enumeration is bounded: the
    per-triplet values ``fn`` returns (and what autograd keeps for them) are O(#triplets).
    """
    if indices_tuple is not None:
        triplets = Triplets(*indices_tuple) if len(indices_tuple) == 3 else pairs_to_triplets(indices_tuple, labels.numel())
        return tuple(fn(triplets)), triplets.anchors
    pos, neg = label_masks(labels)
    outputs, anchors = [], []
    for chunk in triplet_chunks(pos, neg, max_triplets or TRIPLET_BUDGET):
        outputs.append(tuple(fn(chunk)))
        anchors.append(chunk.anchors)
    if not outputs:
        return tuple(fn(empty_triplets(labels.device))), empty_triplets(labels.device).anchors
    return tuple(torch.cat(column) for column in zip(*outputs)), torch.cat(anchors)


def cat_triplets(chunks: Iterable[Triplets], device: torch.device) -> Triplets:
    parts = list(chunks)
    if not parts:
        return empty_triplets(device)
    return Triplets(*(torch.cat(column) for column in zip(*parts)))


def all_triplets(labels: torch.Tensor, exclude_self: bool = True,
                 ref_labels: torch.Tensor | None = None,
                 max_triplets: int = TRIPLET_BUDGET) -> Triplets:
    """Every valid triplet ``(a, p, n)``: ``labels[a] == ref[p] != ref[n]`` (``ref`` defaults to
    the batch). Enumerated in chunks (:func:`triplet_chunks`); memory is O(#triplets)."""
    pos, neg = label_masks(labels, ref_labels, exclude_self)
    return cat_triplets(triplet_chunks(pos, neg, max_triplets), labels.device)


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
    total = int(reps.sum())
    if total == 0:
        return empty_triplets(device)
    a = torch.repeat_interleave(a1, reps, output_size=total)
    pp = torch.repeat_interleave(p, reps, output_size=total)
    offset = torch.arange(total, device=device) - torch.repeat_interleave(
        torch.cumsum(reps, 0) - reps, reps, output_size=total)
    return Triplets(a, pp, ns[torch.repeat_interleave(starts[a1], reps, output_size=total) + offset])


class NPairSets(NamedTuple):
    """N-pair / lifted sets: one positive pair ``(anchors[k], positives[k])`` per row, with the
    boolean row ``negatives[k]`` (shape (P, R)) marking the negatives it is contrasted with."""
    anchors: torch.Tensor
    positives: torch.Tensor
    negatives: torch.Tensor


def sets_pair_weights(sets: tuple[torch.Tensor, ...], batch_size: int,
                      dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """``(pos_w, neg_w)``, shape (B, R), of :class:`TupleSets`: ``pos_w[i, j]`` counts the rows
    of anchor ``i`` whose positive set holds ``j`` (``neg_w`` likewise), so an anchor's sets are
    the union of its rows; an anchor without a row has empty sets."""
    anchors, pos_mask, neg_mask = sets
    shape = (batch_size, pos_mask.shape[1])
    pos_w = torch.zeros(shape, dtype=dtype, device=anchors.device).index_add_(0, anchors, pos_mask.to(dtype))
    neg_w = torch.zeros(shape, dtype=dtype, device=anchors.device).index_add_(0, anchors, neg_mask.to(dtype))
    return pos_w, neg_w


def pair_weights(indices_tuple: tuple[torch.Tensor, ...], batch_size: int,
                 ref_size: int | None = None, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair weights from mined tuples: ``(pos_w, neg_w)``, shape (B, R), where ``pos_w[i, j]``
    counts how often ``(i, j)`` occurs as a positive pair (as ``(a, p)`` of a triplet, in the
    positive half of pairs, or in a positive set of anchor ``i``: :func:`sets_pair_weights`) and
    ``neg_w`` likewise for negatives. ``> 0`` gives the masks that restrict a matrix-form loss to
    the mined tuples."""
    ref_size = batch_size if ref_size is None else ref_size
    kind = tuple_kind(indices_tuple)
    if kind == "sets":
        return sets_pair_weights(indices_tuple, batch_size, dtype)
    if kind == "triplets":
        a, p, n = indices_tuple
        a1, a2 = a, a
    else:
        a1, p, a2, n = indices_tuple
    device = a1.device
    pos_w = torch.zeros(batch_size, ref_size, dtype=dtype, device=device)
    neg_w = torch.zeros(batch_size, ref_size, dtype=dtype, device=device)
    pos_w.index_put_((a1, p), torch.ones(a1.numel(), dtype=dtype, device=device), accumulate=True)
    neg_w.index_put_((a2, n), torch.ones(a2.numel(), dtype=dtype, device=device), accumulate=True)
    return pos_w, neg_w


def element_weights(indices_tuple: tuple[torch.Tensor, ...], batch_size: int,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """How often each batch element occurs in the mined tuples (any role), shape (B,); for
    :class:`TupleSets`, as an anchor of a row or a member of a row's positive or negative set."""
    if tuple_kind(indices_tuple) == "sets":
        anchors, pos_mask, neg_mask = indices_tuple
        members = (pos_mask.to(dtype) + neg_mask.to(dtype)).sum(0)
        return torch.bincount(anchors, minlength=batch_size).to(dtype) + members
    flat = torch.cat([t.reshape(-1) for t in indices_tuple])
    return torch.bincount(flat, minlength=batch_size).to(dtype)


def tuple_masks(labels: torch.Tensor, indices_tuple: tuple[torch.Tensor, ...] | None,
                ref_labels: torch.Tensor | None = None,
                exclude_self: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Boolean (B, R) ``(positive, negative)`` pair masks: all pairs of the labels when
    ``indices_tuple`` is None, else the pairs occurring in the given pairs, triplets or sets
    (row ``i`` holds anchor ``i``'s positive and negative sets; :func:`pair_weights`)."""
    if indices_tuple is None:
        return label_masks(labels, ref_labels, exclude_self)
    ref = labels.numel() if ref_labels is None else ref_labels.numel()
    pos_w, neg_w = pair_weights(indices_tuple, labels.numel(), ref)
    return pos_w > 0, neg_w > 0


def mask_any(mask: torch.Tensor, dim: int) -> torch.Tensor:
    """``mask.any(dim)`` of a boolean mask, taken as the ``amax`` of its uint8 view: on CPU
    (PyTorch 2.x) the boolean reduction is not vectorised and is many times slower."""
    if mask.shape[dim] == 0:
        return mask.any(dim)
    return mask.view(torch.uint8).amax(dim) != 0


def mask_columns(mask: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """``mask[:, columns]`` of an (A, R) mask, as a ``gather``: on CPU (PyTorch 2.x) several
    times faster than ``index_select`` along dim 1 or advanced indexing."""
    return mask.gather(1, columns.expand(mask.shape[0], -1))


def npair_sets(labels: torch.Tensor, indices_tuple: tuple[torch.Tensor, ...] | None = None,
               ref_labels: torch.Tensor | None = None, exclude_self: bool = True) -> NPairSets:
    """Group tuples into :class:`NPairSets`.

    * ``None``: every positive pair ``(a, p)`` with all negatives of ``a``;
    * triplets: one row per distinct ``(a, p)``, its negatives are the ``n`` of those triplets;
    * pairs: every given positive pair with the given negatives of its anchor;
    * :class:`TupleSets`: one row per positive ``p`` of each set row ``k`` (``(anchors[k], p)``),
      its negatives are row ``k``'s negative set (N-pair sets give one row per anchor).

    Rows without a negative are dropped.
    """
    ref_size = labels.numel() if ref_labels is None else ref_labels.numel()
    if indices_tuple is None:
        pos, neg = label_masks(labels, ref_labels, exclude_self)
        a, p = torch.nonzero(pos, as_tuple=True)
        negatives = neg.index_select(0, a)
    elif tuple_kind(indices_tuple) == "sets":
        anchors, pos_mask, neg_mask = indices_tuple
        holders = torch.nonzero(mask_any(pos_mask, 0)).flatten()          # the columns holding a positive
        rows, which = torch.nonzero(mask_columns(pos_mask, holders), as_tuple=True)   # nonzero is slow: on those only
        a, p, negatives = anchors.index_select(0, rows), holders.index_select(0, which), neg_mask.index_select(0, rows)
    elif tuple_kind(indices_tuple) == "triplets":
        ta, tp, tn = indices_tuple
        keys, inverse = torch.unique(ta * ref_size + tp, return_inverse=True)
        a, p = torch.div(keys, ref_size, rounding_mode="floor"), keys % ref_size
        negatives = torch.zeros(keys.numel(), ref_size, dtype=torch.bool, device=labels.device)
        negatives[inverse, tn] = True
    else:
        a, p, a2, n = indices_tuple
        neg = torch.zeros(labels.numel(), ref_size, dtype=torch.bool, device=labels.device)
        neg[a2, n] = True
        negatives = neg.index_select(0, a)
    keep = mask_any(negatives, 1)
    if keep.numel() == 0 or bool(keep.amin()):               # the usual case: no row to drop
        return NPairSets(a, p, negatives)
    return NPairSets(a[keep], p[keep], negatives[keep])


# ---- conversion of a miner's output to what a loss takes ---------------------------------------
# (yielded kind, taken kind) -> conversion(tuples, batch_size). Sets are never converted.
CONVERSIONS: dict[tuple[str, str], Callable[[tuple, int], tuple]] = {
    ("pairs", "triplets"): pairs_to_triplets,
    ("triplets", "pairs"): lambda tuples, batch_size: triplets_to_pairs(tuples),
}


def conversion_target(output: str, takes: tuple[str, ...]) -> str | None:
    """The kind of ``takes`` a miner's ``output`` kind is handed over as, or ``None`` if none works.

    * pairs -> triplets: every ``(a, p, n)`` whose ``(a, p)`` and ``(a, n)`` are mined pairs with
      the same anchor (the per-anchor product);
    * triplets -> pairs: the ``(a, p)`` and ``(a, n)`` pairs of the triplets, de-duplicated;
    * sets are only handed to a loss that takes ``"sets"``.
    """
    if output in takes:
        return output
    for kind in takes:
        if (output, kind) in CONVERSIONS:
            return kind
    return None


def adapt(tuples: tuple, takes: tuple[str, ...], batch_size: int) -> tuple:
    """``tuples`` (a miner's output) converted to a kind of ``takes`` (see :func:`conversion_target`)."""
    kind = tuple_kind(tuples)
    target = conversion_target(kind, takes)
    if target is None:
        raise ValueError(f"miner output '{kind}' cannot be given to a loss that takes "
                         f"{'/'.join(takes) or 'no tuples'}")
    return tuples if target == kind else CONVERSIONS[(kind, target)](tuples, batch_size)
