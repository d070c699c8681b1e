"""Vectorised sampling and selection primitives shared by the miners (no loops over anchors)."""
from __future__ import annotations

import math

import torch

from utilities.tuples import label_masks


def sample_rows(weights: torch.Tensor) -> torch.Tensor:
    """One column index per row, drawn with probability proportional to the row's weights.

    Every row must have a positive sum.
    """
    if weights.shape[0] == 0:
        return torch.empty(0, dtype=torch.long, device=weights.device)
    return torch.multinomial(weights.float(), 1).squeeze(1)


def uniform_in(mask: torch.Tensor) -> torch.Tensor:
    """One column per row, uniform among the row's ``True`` entries."""
    return sample_rows(mask.float())


def uniform_in_or(preferred: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    """Uniform among ``preferred`` where a row has any, else uniform among ``fallback``."""
    has = preferred.any(1, keepdim=True)
    return uniform_in(torch.where(has, preferred, fallback))


def valid_anchors(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(anchors, pos, neg)``: the indices having at least one positive and one negative, and
    the (B, B) positive (self excluded) and negative masks."""
    pos, neg = label_masks(labels)
    anchors = torch.nonzero(pos.any(1) & neg.any(1)).squeeze(1)
    return anchors, pos, neg


def masked_arg(values: torch.Tensor, mask: torch.Tensor, largest: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the column of the largest (or smallest) value among ``mask``; and whether any."""
    fill = -math.inf if largest else math.inf
    masked = values.masked_fill(~mask, fill)
    idx = masked.argmax(1) if largest else masked.argmin(1)
    return idx, mask.any(1)


def sphere_log_inverse_density(dist: torch.Tensor, dim: int, lower_cutoff: float) -> torch.Tensor:
    """``-log q(d)`` for the distance density of uniform points on the unit sphere in R^dim.

    ``q(d) ∝ d^(dim-2) (1 - d²/4)^((dim-3)/2)`` (Wu et al. 2017, eq. 4); ``d`` is clamped to
    ``[lower_cutoff, 2)`` so very close (noisy) pairs get a capped weight.
    """
    d = dist.clamp(min=lower_cutoff, max=2.0 - 1e-4)
    return -((dim - 2) * torch.log(d) + ((dim - 3) / 2.0) * torch.log1p(-0.25 * d * d))


def distance_weighted_choice(dist: torch.Tensor, neg: torch.Tensor, dim: int,
                             lower_cutoff: float, upper_cutoff: float) -> torch.Tensor:
    """One negative per row with probability ``∝ 1/q(max(d, lower_cutoff))`` among the row's
    negatives with ``d < upper_cutoff``; uniform among all its negatives if none is that close.

    Every row must have at least one negative.
    """
    log_w = sphere_log_inverse_density(dist, dim, lower_cutoff)
    in_range = neg & (dist < upper_cutoff)
    allowed = torch.where(in_range.any(1, keepdim=True), in_range, neg)
    log_w = torch.where(in_range.any(1, keepdim=True), log_w, torch.zeros_like(log_w))
    log_w = log_w.masked_fill(~allowed, -math.inf)
    return sample_rows(torch.exp(log_w - log_w.max(1, keepdim=True).values))


def unit_sphere_distance(distance: torch.nn.Module, embeddings: torch.Tensor) -> torch.Tensor:
    """The plain Euclidean distance matrix (square root taken if the distance is squared), which
    the sphere-density miners need whatever ``--distance_squared`` says."""
    dist = distance(embeddings.float())
    return dist.clamp_min(1e-12).sqrt() if getattr(distance, "squared", False) else dist
