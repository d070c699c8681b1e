"""Pairs sampled uniformly over a histogram of distances."""
from __future__ import annotations

from typing import Any

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Pairs, all_pairs


def per_bin_sample(values: torch.Tensor, num_bins: int, per_bin: int) -> torch.Tensor:
    """Indices into ``values``: ``per_bin`` draws (with replacement) from every non-empty bin of
    ``num_bins`` equal bins spanning ``[min, max]``."""
    if values.numel() == 0:
        return torch.empty(0, dtype=torch.long, device=values.device)
    lo, hi = values.min(), values.max()
    bins = ((values - lo) / (hi - lo).clamp_min(1e-12) * num_bins).long().clamp(0, num_bins - 1)
    order = torch.argsort(bins)
    counts = torch.bincount(bins, minlength=num_bins)
    starts = torch.cumsum(counts, 0) - counts
    full = torch.nonzero(counts).squeeze(1)
    offsets = (torch.rand(full.numel(), per_bin, device=values.device) * counts[full].unsqueeze(1)).long()
    return order[(starts[full].unsqueeze(1) + offsets).reshape(-1)]


@MINERS.register("uniform_histogram")
class UniformHistogramMiner(BaseMiner):
    """Pairs spread uniformly over their distance range (PyTorch Metric Learning's
    ``UniformHistogramMiner``).

    The positive-pair distances are split into ``num_bins`` equal bins between their minimum
    and maximum, and ``pos_per_bin`` pairs are drawn uniformly with replacement from every
    non-empty bin; likewise ``neg_per_bin`` for the negative pairs.

    Parameters
    ----------
    num_bins : int
        Number of equal-width distance bins.
    pos_per_bin : int
        Positive pairs drawn from each non-empty bin.
    neg_per_bin : int
        Negative pairs drawn from each non-empty bin.
    """

    output = "pairs"

    @classmethod
    def check_arguments(cls, *, num_bins: int, pos_per_bin: int, neg_per_bin: int, **_: Any) -> None:
        if min(num_bins, pos_per_bin, neg_per_bin) < 1:
            raise ValueError("uniform_histogram: num_bins, pos_per_bin and neg_per_bin must be >= 1")

    def __init__(self, num_bins: int = 100, pos_per_bin: int = 10, neg_per_bin: int = 10,
                 distance: BaseDistance | None = None):
        self.check_arguments(num_bins=num_bins, pos_per_bin=pos_per_bin, neg_per_bin=neg_per_bin)
        super().__init__(distance)
        self.num_bins, self.pos_per_bin, self.neg_per_bin = num_bins, pos_per_bin, neg_per_bin

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        d = self.raw_distances(embeddings)
        a1, p, a2, n = all_pairs(labels)
        keep_p = per_bin_sample(d[a1, p], self.num_bins, self.pos_per_bin)
        keep_n = per_bin_sample(d[a2, n], self.num_bins, self.neg_per_bin)
        return Pairs(a1[keep_p], p[keep_p], a2[keep_n], n[keep_n])
