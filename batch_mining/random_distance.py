"""Distance-weighted sampling on shuffled labels (a control)."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.distance import DistanceWeightedMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets


@MINERS.register("random_distance")
class RandomLabelDistanceMiner(DistanceWeightedMiner):
    """Distance-weighted sampling on randomly permuted labels: the random-label control of
    Roth et al. (ICML 2020, the Revisiting-DML tool's ``random_distance``).

    The batch's labels are shuffled (a uniform permutation per call) and triplets are then drawn
    exactly as by ``distance`` (Wu et al. 2017) with the shuffled labels, so the "positives" and
    "negatives" carry no class information beyond chance.

    As in the old tool, the cutoffs default to the ``distance`` miner's flags
    (``--miner_distance_lower_cutoff``, ``--miner_distance_upper_cutoff``).

    Parameters
    ----------
    lower_cutoff : float
        Distances below this are treated as equal to it (default: --miner_distance_lower_cutoff).
    upper_cutoff : float
        Negatives at this distance or farther get zero weight (default: --miner_distance_upper_cutoff).
    """

    label_consistent = False
    flag_defaults = {"lower_cutoff": "miner_distance_lower_cutoff", "upper_cutoff": "miner_distance_upper_cutoff"}

    def __init__(self, lower_cutoff: float | None = None, upper_cutoff: float | None = None,
                 distance: BaseDistance | None = None):
        super().__init__(0.5 if lower_cutoff is None else lower_cutoff,
                         1.4 if upper_cutoff is None else upper_cutoff, distance)

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        shuffled = labels[torch.randperm(labels.numel(), device=labels.device)]
        return super().mine(embeddings, shuffled)
