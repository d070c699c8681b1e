"""Distance-weighted sampling with ρ-regularisation."""
from __future__ import annotations

from typing import Any

import torch

from batch_mining import MINERS
from batch_mining.distance import DistanceWeightedMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets


@MINERS.register("rho_distance")
class RhoDistanceMiner(DistanceWeightedMiner):
    """Distance-weighted sampling with ρ-regularisation (Roth et al., "Revisiting Training
    Strategies and Generalization Performance in Deep Metric Learning", ICML 2020, §5).

    Triplets ``(a, p, n)`` are drawn as by the ``distance`` miner; then, independently for each
    anchor with probability ``cp``, the negative is replaced by a positive: the triplet becomes
    ``(a, a, p)``, which pushes a same-class sample away and so raises the number of directions
    of significant variance (a flatter singular-value spectrum, smaller ρ). The fraction of
    flipped triplets is logged as ``rho_flip_frac``.

    Parameters
    ----------
    cp : float
        Probability to replace a negative with a positive.
    lower_cutoff : float
        Distances below this are treated as equal to it.
    upper_cutoff : float
        Negatives at this distance or farther get zero weight.
    """

    label_consistent = False

    @classmethod
    def check_arguments(cls, *, cp: float, **_: Any) -> None:
        if not 0.0 <= cp <= 1.0:
            raise ValueError(f"--miner_rho_distance_cp must lie in [0, 1], got {cp}")

    def __init__(self, cp: float = 0.2, lower_cutoff: float = 0.5, upper_cutoff: float = 1.4,
                 distance: BaseDistance | None = None):
        self.check_arguments(cp=cp)
        super().__init__(lower_cutoff, upper_cutoff, distance)
        self.cp = cp

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        a, p, n = super().mine(embeddings, labels)
        flip = torch.rand(a.shape, device=a.device) < self.cp
        self.extra_stats["rho_flip_frac"] = float(flip.float().mean()) if a.numel() else 0.0
        return Triplets(a, torch.where(flip, a, p), torch.where(flip, p, n))
