"""Catalyst's hard-triplets sampler."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from batch_mining import MINERS
from batch_mining.batch_hard import BatchHardMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets


@MINERS.register("hard_triplets")
class HardTripletsMiner(BatchHardMiner):
    """Catalyst's ``HardTripletsSampler``: for every anchor its hardest positive (farthest) and
    hardest negative (closest), optionally after L2-normalising the embeddings (the batch-hard
    rule of Hermans et al. 2017). Anchors without a positive or a negative are dropped.

    Parameters
    ----------
    norm_required : bool
        L2-normalise the embeddings before measuring distances.
    """

    def __init__(self, norm_required: bool = False, distance: BaseDistance | None = None):
        super().__init__(distance)
        self.norm_required = norm_required

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        if self.norm_required:
            embeddings = F.normalize(embeddings, dim=1)
        return super().mine(embeddings, labels)
