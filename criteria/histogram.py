"""Histogram loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.terms import LossTerm
from utilities.tuples import tuple_masks


def soft_histogram(values: torch.Tensor, nbins: int) -> torch.Tensor:
    """Normalised histogram of values in [-1, 1] on ``nbins`` nodes ``t_r = -1 + rΔ``,
    ``Δ = 2 / (nbins - 1)``, with linear (triangular) assignment: a value between t_r and t_{r+1}
    gives ``(t_{r+1} - v)/Δ`` to bin r and ``(v - t_r)/Δ`` to bin r+1. Differentiable in the
    values; scatter-adds on the values' device (no host round trip, no (M, nbins) tensor)."""
    step = 2.0 / (nbins - 1)
    position = ((values + 1.0) / step).clamp(0.0, nbins - 1.0)
    lower = position.detach().floor().clamp(max=nbins - 2).long()
    upper_share = position - lower
    hist = torch.zeros(nbins, dtype=values.dtype, device=values.device)
    hist = hist.index_add(0, lower, 1.0 - upper_share).index_add(0, lower + 1, upper_share)
    return hist / values.numel()


@LOSSES.register("histogram")
class HistogramLoss(BaseLoss):
    """Histogram loss (Ustinova and Lempitsky, "Learning Deep Embeddings with Histogram Loss",
    NeurIPS 2016).

    Formula::

        L = Σ_r h⁻_r Σ_{q ≤ r} h⁺_q

    the probability that a random negative pair is more similar than a random positive pair,
    with h⁺, h⁻ the soft histograms of the positive and negative pair cosine similarities
    (see :func:`soft_histogram`). Zero when the batch has no positive or no negative pair.

    Parameters
    ----------
    nbins : int
        Number of histogram nodes on [-1, 1].
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    allowed_distances = ("cosine",)
    distance_note = "the histogram is taken over similarities in [-1, 1]"
    term_names = ("histogram",)

    def __init__(self, nbins: int = 65, **base: Any):
        super().__init__(**base)
        if nbins < 2:
            raise ValueError(f"--loss_histogram_nbins must be at least 2, got {nbins}")
        self.nbins = nbins

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = self.distance(embeddings)
        pos, neg = tuple_masks(labels, indices_tuple)
        if not pos.any() or not neg.any():
            return {"histogram": LossTerm(self.connected_zero(embeddings), "reduced")}
        h_pos = soft_histogram(sim[pos], self.nbins)
        h_neg = soft_histogram(sim[neg], self.nbins)
        return {"histogram": LossTerm((h_neg * torch.cumsum(h_pos, 0)).sum(), "reduced")}
