"""PADS-style sampling from a distribution over distance bins."""
from __future__ import annotations

from typing import Any, Literal

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import sample_rows, uniform_in, unit_sphere_distance, valid_anchors
from distances.base import BaseDistance
from utilities.tuples import Triplets, empty_triplets

# Bin centres c get weight 1 inside these ranges and 0 outside (``uniform``: everywhere).
MODE_RANGES = {"uniform": (float("-inf"), float("inf")), "hards": (float("-inf"), 0.5),
               "semihards": (0.3, 0.7), "veryhards": (float("-inf"), 0.3)}
FLOOR = 1e-15  # bins outside the mode keep a negligible weight, as in the old tool


@MINERS.register("parametric")
class ParametricMiner(BaseMiner):
    """Negatives sampled from a fixed distribution over anchor-negative distance bins, as the
    sampling distribution of PADS (Roth, Milbich & Ommer, "PADS: Policy-Adapted Sampling for
    Visual Similarity Learning", CVPR 2020), here with a fixed (not learned) distribution.

    The interval ``support_lim = [lo, hi]`` is split into ``n_support - 1`` equal bins. The mode
    gives bin ``k`` (centre ``c_k``) the probability ``π_k ∝ 1`` where ``c_k`` lies in the mode's
    range (uniform: all; hards: ``c ≤ 0.5``; semihards: ``0.3 ≤ c ≤ 0.7``; veryhards:
    ``c ≤ 0.3``) and ``≈ 0`` elsewhere. For each anchor: a positive uniformly from its class; a
    bin ``k`` with probability ``∝ π_k`` among the bins holding at least one of its negatives
    inside ``[lo, hi]``; then a negative uniformly inside that bin. An anchor with no negative
    in ``[lo, hi]`` gets a uniform negative. The distance is plain Euclidean on (expected)
    unit-norm embeddings.

    Parameters
    ----------
    mode : str
        The distribution over bins: uniform, hards, semihards or veryhards.
    n_support : int
        Number of support points (bin edges); there are n_support - 1 bins.
    support_lim : list[float]
        The distance interval [lo, hi] covered by the bins.
    """

    allowed_distances = ("euclidean",)

    @classmethod
    def check_arguments(cls, *, mode: str, n_support: int, support_lim: list[float], **_: Any) -> None:
        if mode not in MODE_RANGES:
            raise ValueError(f"--miner_parametric_mode must be one of {list(MODE_RANGES)}, got {mode!r}")
        if n_support < 2:
            raise ValueError(f"--miner_parametric_n_support must be >= 2, got {n_support}")
        if len(support_lim) != 2 or not support_lim[0] < support_lim[1]:
            raise ValueError(f"--miner_parametric_support_lim needs two increasing values, got {list(support_lim)}")

    def __init__(self, mode: Literal["uniform", "hards", "semihards", "veryhards"] = "uniform",
                 n_support: int = 30, support_lim: list[float] = (0.1, 1.9),
                 distance: BaseDistance | None = None):
        self.check_arguments(mode=mode, n_support=n_support, support_lim=support_lim)
        super().__init__(distance)
        self.mode, self.n_support, self.support_lim = mode, n_support, [float(v) for v in support_lim]
        edges = torch.linspace(self.support_lim[0], self.support_lim[1], n_support, dtype=torch.float64)
        centres = (edges[1:] + edges[:-1]) / 2
        low, high = MODE_RANGES[mode]
        probs = ((centres >= low) & (centres <= high)).double().clamp_min(FLOOR)
        self.register_buffer("edges", edges.float(), persistent=False)
        self.register_buffer("bin_probs", (probs / probs.sum()).float(), persistent=False)

    def bin_of(self, dist: torch.Tensor) -> torch.Tensor:
        """The bin index of each distance (values outside the support are clipped to the ends)."""
        return torch.bucketize(dist.contiguous(), self.edges[1:-1].to(dist.device).contiguous(), right=True)

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        anchors, pos, neg = valid_anchors(labels)
        if anchors.numel() == 0:
            return empty_triplets(labels.device)
        dist = unit_sphere_distance(self.distance, embeddings)[anchors]
        neg = neg[anchors]
        lo, hi = self.support_lim
        inside = neg & (dist >= lo) & (dist <= hi)
        bins = self.bin_of(dist)
        per_bin = torch.zeros(len(anchors), self.n_support - 1, device=dist.device)
        per_bin.scatter_add_(1, bins, inside.float())
        weights = self.bin_probs.to(dist.device)[bins] / per_bin.gather(1, bins).clamp_min(1.0)
        weights = torch.where(inside, weights, torch.zeros_like(weights))
        weights = torch.where(inside.any(1, keepdim=True), weights, neg.float())
        return Triplets(anchors, uniform_in(pos[anchors]), sample_rows(weights))
