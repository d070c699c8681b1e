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
