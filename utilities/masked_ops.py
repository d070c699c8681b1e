"""Masked reductions shared by the losses, written once and safe for empty masks."""
from __future__ import annotations

import torch


def masked_logsumexp(x: torch.Tensor, mask: torch.Tensor, dim: int = -1,
                     add_one: bool = False) -> torch.Tensor:
    """``log Σ_{j: mask_j} exp(x_j)`` along ``dim`` (``log(1 + Σ ...)`` with ``add_one``).

    An empty row gives 0 (with ``add_one``: ``log 1``; without: 0 by convention), and neither
    the value nor the gradient is ever NaN: masked entries are ``-inf`` before ``exp`` (so they
    contribute ``exp(-inf) = 0`` with a zero gradient, never ``inf · 0``), the peak of an empty
    row is replaced by 0, and the sum is clamped away from 0 before ``log``. ``mask`` is boolean
    (broadcast against ``x``); no float copy of it is made. Five passes over ``x`` forward.
    """
    if x.shape[dim] == 0:                                    # nothing to sum: every row is empty
        return x.sum(dim)
    filled = x.masked_fill(~mask, -torch.inf)
    peak = filled.amax(dim, keepdim=True).detach()
    if add_one:
        peak = peak.clamp_min(0.0)                           # also turns an empty row's -inf into 0
    else:
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    total = torch.exp(filled - peak).sum(dim, keepdim=True)
    if add_one:
        total = total + torch.exp(-peak)
    out = torch.log(total.clamp_min(torch.finfo(total.dtype).tiny)) + peak
    if not add_one:
        out = out.masked_fill(~mask.expand_as(x).any(dim, keepdim=True), 0.0)
    return out.squeeze(dim)


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Mean over the masked entries along ``dim`` (0 for an empty row)."""
    mask = mask.expand_as(x)
    count = mask.sum(dim).clamp_min(1)
    return torch.where(mask, x, torch.zeros_like(x)).sum(dim) / count


def masked_extreme(x: torch.Tensor, mask: torch.Tensor, dim: int = -1,
                   largest: bool = True) -> torch.Tensor:
    """Max (or min) over the masked entries along ``dim``; ``∓inf`` for an empty row."""
    fill = -torch.inf if largest else torch.inf
    filled = x.masked_fill(~mask.expand_as(x), fill)
    return filled.amax(dim) if largest else filled.amin(dim)


def masked_log_share(x: torch.Tensor, part: torch.Tensor, among: torch.Tensor | None = None) -> torch.Tensor:
    """``log( Σ_{j: part_j} exp(x_j) / Σ_{j: among_j} exp(x_j) )`` along the last dimension: the
    log of the softmax probability mass of ``part`` within ``among`` (``part`` ⊆ ``among``),
    i.e. ``logsumexp_part(x) − logsumexp_among(x)`` from one softmax and one weighted sum
    (instead of two :func:`masked_logsumexp`, five passes each).

    ``among=None`` means every entry; an entry of ``x`` at ``-inf`` then counts as absent (zero
    probability, zero gradient). ``part`` is boolean, or 0/1 in ``x``'s dtype (used as it is, no copy; a boolean
    mask is cast once), broadcastable to ``x``.

    A row whose share is below ``sqrt(tiny)`` of the dtype (float32: 1e-19, a value below −43)
    would lose digits to underflowing probabilities, or be ``log 0`` when every probability in
    ``part`` underflows; such rows (usually none) are recomputed exactly, value and gradient, as
    the difference of two :func:`masked_logsumexp`, so they stay finite and correct. An empty
    ``part`` (or one only at ``-inf``) gives 0 with a zero gradient, and so does a row with
    nothing in ``among`` (then every row takes the exact path: the softmax is NaN there).
    """
    if x.shape[-1] == 0:
        return x.sum(-1)
    filled = x if among is None else x.masked_fill(~among, -torch.inf)
    weights = part if part.dtype == x.dtype else part.to(x.dtype)
    share = (torch.softmax(filled, -1) * weights).sum(-1)
    low = ~(share >= torch.finfo(share.dtype).tiny ** 0.5)     # also NaN: no candidate in the row
    if not bool(low.any()):
        return share.log()
    if bool(share.isnan().any()):        # the softmax is NaN there: keep it out of the graph
        return _exact_log_share(filled, weights.expand_as(x) > 0)
    rows = low.nonzero(as_tuple=True)
    exact = _exact_log_share(filled[rows], weights.expand_as(x)[rows] > 0)
    return share.masked_fill(low, 1.0).log().index_put(rows, exact)


def _exact_log_share(x: torch.Tensor, part: torch.Tensor) -> torch.Tensor:
    """:func:`masked_log_share` as two :func:`masked_logsumexp` (``-inf`` entries absent; 0
    for an empty ``part``): slower, never NaN, no underflow."""
    live = x.detach() > -torch.inf
    part = part & live
    return (masked_logsumexp(x, part) - masked_logsumexp(x, live)).masked_fill(~part.any(-1), 0.0)
