"""Math shared by the pair- and list-based losses, written once.

* :func:`tuple_pairs` / :func:`tuple_triplets` (and ``utilities.tuples.tuple_masks``): the pairs, triplets or
  (B, B) pair masks a loss works on, either every pair of the batch (``indices_tuple=None``) or
  exactly the mined ones (pairs or triplets, converted as needed);
* :func:`pair_values`: a matrix's values at those pairs, each gathered once;
* :func:`upcast`: half/bfloat16 matrices to float32 before exponentials and divisions;
* :func:`similarities`: any distance as a "larger is closer" score matrix;
* :func:`soft_rank_counts`: the sigmoid-relaxed count of items ranked before each item, per
  query, chunked over queries (the B x B x B kernel of Smooth-AP and PNP).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from distances.base import BaseDistance
from utilities.tuples import (Pairs, Triplets, all_pairs, all_triplets,  # noqa: F401
                              pairs_to_triplets, triplets_to_pairs, tuple_masks)

# Elements of one (queries, B, B) block of soft_rank_counts (~32 MiB per float64 temporary).
RANK_CHUNK_ELEMENTS = 1 << 22


def tuple_pairs(labels: torch.Tensor, indices_tuple: tuple[torch.Tensor, ...] | None) -> Pairs:
    """Every positive and negative pair (``None``), the given pairs, or the pairs of triplets."""
    if indices_tuple is None:
        return all_pairs(labels)
    if len(indices_tuple) == 3:
        return triplets_to_pairs(indices_tuple)
    return Pairs(*indices_tuple)


def tuple_triplets(labels: torch.Tensor, indices_tuple: tuple[torch.Tensor, ...] | None) -> Triplets:
    """Every triplet (``None``), the given triplets, or the per-anchor product of given pairs."""
    if indices_tuple is None:
        return all_triplets(labels)
    if len(indices_tuple) == 4:
        return pairs_to_triplets(indices_tuple, labels.numel())
    return Triplets(*indices_tuple)


def pair_values(matrix: torch.Tensor, labels: torch.Tensor,
                pairs: tuple[torch.Tensor, ...] | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(v_pos, a1, v_neg, a2)``: the matrix's values at the positive and negative pairs, each
    gathered once, and their anchors. ``pairs=None`` means every pair of the labels, in
    :func:`all_pairs` order, read with ``masked_select`` (whose backward scatters into the
    matrix instead of accumulating a quarter-million indexed zeros)."""
    if pairs is None:
        pos, neg = tuple_masks(labels, None)
        a1 = torch.repeat_interleave(torch.arange(pos.shape[0], device=pos.device), pos.sum(1))
        a2 = torch.repeat_interleave(torch.arange(neg.shape[0], device=neg.device), neg.sum(1))
        return matrix.masked_select(pos), a1, matrix.masked_select(neg), a2
    a1, p, a2, n = pairs
    return matrix[a1, p], a1, matrix[a2, n], a2


def index_mask(rows: torch.Tensor, cols: torch.Tensor, size: int) -> torch.Tensor:
    """A (size, size) boolean mask, true at ``(rows[k], cols[k])``."""
    mask = torch.zeros(size, size, dtype=torch.bool, device=rows.device)
    mask[rows, cols] = True
    return mask


def require(ok: bool, loss: str, param: str, rule: str, value: object) -> None:
    """Raise a one-line ``ValueError`` naming the loss's flag when a parameter is invalid."""
    if not ok:
        raise ValueError(f"--loss_{loss}_{param} {rule}, got {value}")


def upcast(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 when it is float16/bfloat16 (autocast), unchanged otherwise."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def on_unit_sphere(distance: BaseDistance, embeddings: torch.Tensor) -> torch.Tensor:
    """``distance`` between the L2-normalised embeddings, normalised once (not again when the
    distance normalises itself, as ``cosine`` does)."""
    return distance(embeddings if distance.normalize_embeddings else F.normalize(embeddings, dim=-1))


def similarities(distance: BaseDistance, embeddings: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """The (B, B) score matrix of ``distance``, larger meaning closer (``-d`` for a distance),
    times ``scale`` in the same pass; always a new tensor (a caller may edit it in place)."""
    return distance.closest_first(upcast(distance(embeddings))) * -scale


def _sigmoid_blocks(scores: torch.Tensor, temperature: float, chunk_elements: int):
    """Yield ``(rows, σ)`` per block of queries, ``σ[q, i, j] = sigmoid((s_qj − s_qi) / T)``."""
    n_q, n = scores.shape
    rows = max(1, chunk_elements // max(n * n, 1))
    for start in range(0, n_q, rows):
        block = slice(start, start + rows)
        s = scores[block]
        yield block, torch.sigmoid((s.unsqueeze(1) - s.unsqueeze(2)) / temperature)


class _SoftRankCounts(torch.autograd.Function):
    """Chunked forward and an analytic, equally chunked backward, so that no B x B x B tensor
    is ever stored: memory is one block of queries plus (K, B, B) matrices.

    With ``C_k[q, i] = Σ_j m_k[q, j] σ_qij − ½ m_k[q, i]`` (the ``j = i`` term is σ(0) = ½) and
    ``w_qij = σ_qij (1 − σ_qij) / T``, the gradient is
    ``∂L/∂s_qj = m_k[q, j] Σ_i G_k[q, i] w_qij − G_k[q, j] Σ_l m_k[q, l] w_qjl``
    (the ``j = i`` terms cancel).
    """

    @staticmethod
    def forward(ctx, scores, masks, temperature, chunk_elements):
        weights = masks.to(scores.dtype)                       # (K, B, B)
        out = scores.new_empty(weights.shape)
        for block, sig in _sigmoid_blocks(scores, temperature, chunk_elements):
            out[:, block] = torch.einsum("qij,kqj->kqi", sig, weights[:, block]) - 0.5 * weights[:, block]
        ctx.save_for_backward(scores, weights)
        ctx.temperature, ctx.chunk_elements = temperature, chunk_elements
        return out

    @staticmethod
    def backward(ctx, grad_out):
        scores, weights = ctx.saved_tensors
        grad = torch.zeros_like(scores)
        for block, sig in _sigmoid_blocks(scores, ctx.temperature, ctx.chunk_elements):
            w = sig * (1 - sig) / ctx.temperature
            g, m = grad_out[:, block], weights[:, block]
            grad[block] = (m * torch.einsum("kqi,qij->kqj", g, w)).sum(0) \
                - (g * torch.einsum("qij,kqj->kqi", w, m)).sum(0)
        return grad, None, None, None


def soft_rank_counts(scores: torch.Tensor, masks: torch.Tensor, temperature: float,
                     chunk_elements: int = RANK_CHUNK_ELEMENTS) -> torch.Tensor:
    """``C[q, i] = Σ_{j ≠ i, mask[q, j]} σ((s_qj − s_qi) / T)``: how many of query q's masked
    items are (softly) ranked before item i.

    ``masks`` is one (B, B) mask or a stack (K, B, B) of masks sharing the sigmoids (the
    result has the same shape). Queries are processed in blocks of ``chunk_elements / B²``, in
    the forward and in the (analytic) backward pass, so memory stays at one block plus (B, B)
    matrices instead of B³.
    """
    single = masks.dim() == 2
    out = _SoftRankCounts.apply(scores, masks.unsqueeze(0) if single else masks,
                                float(temperature), int(chunk_elements))
    return out[0] if single else out
