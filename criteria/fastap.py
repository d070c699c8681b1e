"""FastAP: a histogram approximation of average precision."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import on_unit_sphere, require, tuple_masks, upcast
from criteria.terms import LossTerm


@LOSSES.register("fastap")
class FastAPLoss(BaseLoss):
    """FastAP (Cakir et al., "Deep Metric Learning to Rank", CVPR 2019).

    Distances from each query q to the rest of the batch are soft-binned into ``num_bins``
    triangular bins with centres ``c_0 < ... < c_K`` spanning the range of the distance on the
    unit sphere (embeddings are L2-normalised first, as in the paper): [0, 2] for the Euclidean
    distance, [0, 4] for its square (as PML), [-1, 1] for ``-s`` of the cosine;
    ``δ_k(d) = [1 - |d - c_k| / Δ]_+`` with ``Δ`` the range over ``num_bins``. With the
    positive and total histograms ``h⁺_k = Σ_{p ∈ P(q)} δ_k(d_qp)``,
    ``h_k = Σ_{j ∈ P(q) ∪ N(q)} δ_k(d_qj)`` and their cumulative sums ``H⁺_k, H_k``::

        FastAP_q = (1/|P(q)|) Σ_k h⁺_k H⁺_k / H_k         L_q = 1 - FastAP_q

    for every query with at least one positive. Works on the whole batch; a mined pair/triplet
    set given as ``indices_tuple`` restricts P(q) and N(q) to the mined pairs.

    Parameters
    ----------
    num_bins : int
        Number of histogram bins (the paper suggests 10).
    """

    takes = ("pairs", "triplets")
    default_distance = "euclidean"
    allowed_distances = ("euclidean", "cosine")
    distance_note = "its histogram spans the distance's range on the unit sphere"
    term_names = ("loss",)

    def __init__(self, num_bins: int = 10, **base: Any):
        super().__init__(**base)
        require(num_bins >= 1, "fastap", "num_bins", "must be at least 1", num_bins)
        self.num_bins = int(num_bins)
        self.low, self.high = self._range()

    def _range(self) -> tuple[float, float]:
        """The closest and farthest values of the measure between unit vectors, computed once,
        on the CPU. The far end is that of two opposite unit vectors (extra zero coordinates
        change nothing). The near end of a distance is 0 by definition, as in the paper and
        PML's ``FastAPLoss`` (``[0, 2^power]``), not the measured ``d(u, u)``, which the
        Euclidean distance clamps to 1e-6; that of a similarity is ``-s(u, u)``."""
        unit = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
        with torch.no_grad():
            ends = self.distance.closest_first(self.distance(unit))
        return (float(ends[0, 0]) if self.distance.is_similarity else 0.0), float(ends[0, 1])

    def histograms(self, dist: torch.Tensor, pos: torch.Tensor,
                   everyone: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The (B, K+1) histograms ``h⁺`` and ``h`` of each row's masked values.

        A value ``d`` has a non-zero pulse in at most two bins, the centres ``c_i ≤ d ≤ c_{i+1}``
        around it (the nearest one when ``d`` lies outside the range), so each histogram is two
        ``scatter_add`` calls over (B, B) instead of a (B, B, K+1) pulse tensor; the pulses are
        the formula's own ``[1 - |d - c| / Δ]_+``.
        """
        width = (self.high - self.low) / self.num_bins
        centres = torch.linspace(self.low, self.high, self.num_bins + 1, dtype=dist.dtype, device=dist.device)
        lower = ((dist.detach() - self.low) / width).floor().clamp(0, self.num_bins - 1).long()
        upper = lower + 1
        w_lower = (1 - (dist - centres[lower]).abs() / width).relu()
        w_upper = (1 - (dist - centres[upper]).abs() / width).relu()
        zero = torch.zeros(dist.shape[0], self.num_bins + 1, dtype=dist.dtype, device=dist.device)
        out = []
        for mask in (pos, everyone):
            out.append(zero.scatter_add(1, lower, w_lower.masked_fill(~mask, 0.0))
                       .scatter_add(1, upper, w_upper.masked_fill(~mask, 0.0)))
        return out[0], out[1]

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        dist = self.distance.closest_first(upcast(on_unit_sphere(self.distance, embeddings)))
        pos, neg = tuple_masks(labels, indices_tuple)
        h_pos, h_all = self.histograms(dist, pos, pos | neg)
        cum_pos, cum_all = h_pos.cumsum(1), h_all.cumsum(1)
        filled = cum_all > 0
        ratio = torch.where(filled, h_pos * cum_pos / torch.where(filled, cum_all, torch.ones_like(cum_all)),
                            torch.zeros_like(cum_all))
        n_pos = pos.sum(1)
        valid = n_pos > 0
        fast_ap = ratio.sum(1)[valid] / n_pos[valid]
        return {"loss": LossTerm(1 - fast_ap, "element", torch.nonzero(valid).flatten())}
