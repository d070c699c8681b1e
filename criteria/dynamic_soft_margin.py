"""Dynamic soft margin loss (CDF-weighted triplet loss)."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import on_unit_sphere, require, tuple_triplets, upcast
from criteria.terms import LossTerm


@LOSSES.register("dynamic_soft_margin")
class DynamicSoftMarginLoss(BaseLoss):
    """Dynamic soft margin loss (Zhang & Rusinkiewicz, "Learning Local Descriptors with a
    CDF-Based Dynamic Soft Margin", ICCV 2019).

    For every triplet t, ``Δ_t = d(a, p) - d(a, n)`` on L2-normalised embeddings. A running
    histogram ``h`` of Δ over ``num_bins`` equal bins of ``[min_val, -min_val]`` (linear
    interpolation between neighbouring bins) estimates its distribution; ``F`` is its CDF::

        h ← (1 - η) h + η h_batch     (h_batch normalised; the first batch sets h)
        L = (1/T) Σ_t F(Δ_t) Δ_t

    The weight ``F(Δ_t)`` is a constant (no gradient): triplets that are harder than most get
    a larger weight, so the margin adapts to the data. The histogram is updated in training
    mode only, before weighting, and is saved with the loss's state.

    Parameters
    ----------
    min_val : float
        Lower end of the histogram range (the upper end is ``-min_val``).
    num_bins : int
        Number of histogram bins.
    momentum : float
        Weight η of the current batch in the running histogram.
    """

    takes = ("triplets", "pairs")
    default_distance = "euclidean"
    allowed_distances = ("euclidean",)
    distance_note = "its histogram spans the differences of unit-sphere Euclidean distances"
    term_names = ("loss",)

    def __init__(self, min_val: float = -2.0, num_bins: int = 10, momentum: float = 0.01, **base: Any):
        super().__init__(**base)
        require(num_bins >= 2, "dynamic_soft_margin", "num_bins", "must be at least 2", num_bins)
        require(min_val < 0, "dynamic_soft_margin", "min_val", "must be negative", min_val)
        require(0 < momentum <= 1, "dynamic_soft_margin", "momentum", "must lie in (0, 1]", momentum)
        self.min_val, self.num_bins, self.momentum = min_val, int(num_bins), momentum
        self.bin_width = 2 * abs(min_val) / num_bins
        self.register_buffer("histogram", torch.zeros(self.num_bins, dtype=torch.float64))

    def _positions(self, delta: torch.Tensor) -> torch.Tensor:
        return ((delta.detach().double() - self.min_val) / self.bin_width).clamp(0, self.num_bins - 1)

    @torch.no_grad()
    def update_histogram(self, delta: torch.Tensor) -> None:
        pos = self._positions(delta)
        low = pos.floor().clamp(max=self.num_bins - 2)
        frac = pos - low
        low = low.long()
        batch = torch.zeros_like(self.histogram)
        batch.index_add_(0, low, 1 - frac)
        batch.index_add_(0, low + 1, frac)
        batch /= batch.sum()
        if self.histogram.sum() > 0:
            batch = (1 - self.momentum) * self.histogram + self.momentum * batch
        self.histogram.copy_(batch / batch.sum())

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        dist = upcast(on_unit_sphere(self.distance, embeddings))
        a, p, n = tuple_triplets(labels, indices_tuple)
        delta = dist[a, p] - dist[a, n]
        if delta.numel() and self.training:
            self.update_histogram(delta)
        cdf = self.histogram.cumsum(0).to(delta.dtype)
        weights = cdf[self._positions(delta).floor().long()]
        return {"loss": LossTerm(weights * delta, "triplet", a)}
