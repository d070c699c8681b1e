"""Hard-aware deeply cascaded pair mining."""
from __future__ import annotations

import math
from typing import Any

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Pairs, label_masks


def hardest_fraction(values: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, fraction: float,
                     largest: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``ceil(fraction · M)`` pairs with the largest (or smallest) values, in no particular
    order (an unsorted ``topk`` is about 4x faster than a sorted one on 10^5 values)."""
    k = int(math.ceil(fraction * values.numel()))
    idx = torch.topk(values, k, largest=largest, sorted=False).indices
    return rows[idx], cols[idx]


@MINERS.register("hdc")
class HDCMiner(BaseMiner):
    """Hard-aware pair mining (Yuan et al., "Hard-Aware Deeply Cascaded Embedding", ICCV 2017;
    PyTorch Metric Learning's ``HDCMiner``).

    Keeps the hardest ``filter_percentage`` of the batch's positive pairs (largest ``d``) and of
    its negative pairs (smallest ``d``), ``ceil(filter_percentage · count)`` of each.

    Parameters
    ----------
    filter_percentage : float
        Fraction of positive and of negative pairs kept.
    """

    output = "pairs"

    @classmethod
    def check_arguments(cls, *, filter_percentage: float, **_: Any) -> None:
        if not 0.0 < filter_percentage <= 1.0:
            raise ValueError(f"--miner_hdc_filter_percentage must lie in (0, 1], got {filter_percentage}")

    def __init__(self, filter_percentage: float = 0.5, distance: BaseDistance | None = None):
        self.check_arguments(filter_percentage=filter_percentage)
        super().__init__(distance)
        self.filter_percentage = filter_percentage

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        d = self.pairwise(embeddings)
        pos, neg = label_masks(labels)
        a1, p = torch.nonzero(pos, as_tuple=True)
        a2, n = torch.nonzero(neg, as_tuple=True)
        a1, p = hardest_fraction(d.masked_select(pos), a1, p, self.filter_percentage, largest=True)
        a2, n = hardest_fraction(d.masked_select(neg), a2, n, self.filter_percentage, largest=False)
        return Pairs(a1, p, a2, n)
