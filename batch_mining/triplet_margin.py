"""Triplets selected by their margin."""
from __future__ import annotations

from typing import Any, Literal

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from distances.base import BaseDistance
from utilities.tuples import Triplets, all_triplets

TYPES = ("all", "hard", "semihard", "easy")


@MINERS.register("triplet_margin")
class TripletMarginMiner(BaseMiner):
    """Triplets chosen by their margin ``m = d(a, n) - d(a, p)`` (PyTorch Metric Learning's
    ``TripletMarginMiner``; the triplet loss of Weinberger & Saul 2009 / Schroff et al. 2015).

    Among all valid triplets keep: ``all``: ``m <= margin`` (margin violated); ``hard``:
    ``m <= 0``; ``semihard``: ``0 < m <= margin``; ``easy``: ``m > margin``. On a similarity,
    ``m = s(a, p) - s(a, n)``.

    Parameters
    ----------
    margin : float
        The margin that triplets are compared with.
    type_of_triplets : str
        Which triplets to keep: all, hard, semihard or easy.
    """

    @classmethod
    def check_arguments(cls, *, type_of_triplets: str, **_: Any) -> None:
        if type_of_triplets not in TYPES:
            raise ValueError(f"--miner_triplet_margin_type_of_triplets must be one of {list(TYPES)}")

    def __init__(self, margin: float = 0.2, type_of_triplets: Literal["all", "hard", "semihard", "easy"] = "all",
                 distance: BaseDistance | None = None):
        self.check_arguments(type_of_triplets=type_of_triplets)
        super().__init__(distance)
        self.margin, self.type_of_triplets = margin, type_of_triplets

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        a, p, n = all_triplets(labels)
        dist = self.pairwise(embeddings)
        m = dist[a, n] - dist[a, p]
        keep = {"all": m <= self.margin, "hard": m <= 0, "semihard": (m > 0) & (m <= self.margin),
                "easy": m > self.margin}[self.type_of_triplets]
        return Triplets(a[keep], p[keep], n[keep])
