"""Masked reductions shared by the losses, written once and safe for empty masks."""
from __future__ import annotations

import torch


def masked_logsumexp(x: torch.Tensor, mask: torch.Tensor, dim: int = -1,
                     add_one: bool = False) -> torch.Tensor:
    """``log Σ_{j: mask_j} exp(x_j)`` along ``dim`` (``log(1 + Σ ...)`` with ``add_one``).

    An empty row gives 0 (with ``add_one``: ``log 1``; without: 0 by convention), and neither
    the value nor the gradient is ever NaN: masked entries are replaced *before* ``exp`` so no
    ``inf · 0`` appears in the backward pass.
    """
    mask = mask.expand_as(x)
    big_neg = torch.finfo(x.dtype).min
    peak = x.masked_fill(~mask, big_neg).amax(dim, keepdim=True).detach()
    peak = torch.where(mask.any(dim, keepdim=True), peak, torch.zeros_like(peak))
    if add_one:
        peak = peak.clamp_min(0.0)
    safe = torch.where(mask, x, peak)
    total = (torch.exp(safe - peak) * mask).sum(dim, keepdim=True)
    if add_one:
        total = total + torch.exp(-peak)
    out = torch.log(total.clamp_min(torch.finfo(x.dtype).tiny)) + peak
    if not add_one:
        out = torch.where(mask.any(dim, keepdim=True), out, torch.zeros_like(out))
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
