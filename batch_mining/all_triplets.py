"""Catalyst's all-triplets sampler."""
from __future__ import annotations

from typing import Any

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets, all_triplets


@MINERS.register("all_triplets")
class AllTripletsMiner(BaseMiner):
    """Every valid triplet of the batch (Catalyst's ``AllTripletsSampler``), or a uniformly
    random subset (without replacement) of ``max_output_triplets`` of them.

    Parameters
    ----------
    max_output_triplets : int
        Keep at most this many triplets (default: all).
    """

    @classmethod
    def check_arguments(cls, *, max_output_triplets: int | None, **_: Any) -> None:
        if max_output_triplets is not None and max_output_triplets < 1:
            raise ValueError("--miner_all_triplets_max_output_triplets must be >= 1")

    def __init__(self, max_output_triplets: int | None = None, distance: BaseDistance | None = None):
        self.check_arguments(max_output_triplets=max_output_triplets)
        super().__init__(distance)
        self.max_output_triplets = max_output_triplets

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        triplets = all_triplets(labels)
        count = triplets.anchors.numel()
        if self.max_output_triplets is None or count <= self.max_output_triplets:
            return triplets
        keep = torch.randperm(count, device=labels.device)[: self.max_output_triplets]
        return Triplets(*(t[keep] for t in triplets))
