"""Batch matching by moments and the histogram of pairwise distances."""
from __future__ import annotations

from typing import Any

import numpy as np

from datasampler import SAMPLERS
from datasampler.batchmatch import BatchMatchSampler
from datasampler.storage import squared_distances

N_BINS = 50


def pair_distances(emb: np.ndarray) -> np.ndarray:
    rows, cols = np.triu_indices(len(emb), 1)
    return np.sqrt(squared_distances(emb)[rows, cols])


@SAMPLERS.register("disthist_batchmatch")
class DistHistBatchMatchSampler(BatchMatchSampler):
    """The candidate batch closest to the pool in mean, spread and distance histogram (see
    :class:`~datasampler.batchmatch.BatchMatchSampler`):

    ``cost = ||mu_p - mu_b|| + ||sigma_p - sigma_b|| + w * W1(h_p, h_b)``

    with per-dimension means mu and standard deviations sigma, and h the 50-bin histograms of
    pairwise Euclidean distances over the pool's distance range. W1 is the 1-Wasserstein distance
    between the two histograms with that range scaled to [0, 1]:
    ``W1 = (1/50) sum_j |H_p(j) - H_b(j)|`` over the cumulative histograms H. After the
    distance-histogram batch matching of Roth et al. (ICML 2020).

    Parameters
    ----------
    hist_weight : float
        w, the weight of the histogram term.
    """

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2, pool_size: int = 512,
                 refresh_storage: bool = True, lowproj_dim: int = -1, n_candidates: int = 10,
                 hist_weight: float = 75.0, seed: int = 0, rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, pool_size, refresh_storage, lowproj_dim,
                         n_candidates, seed, rank, world_size)
        self.hist_weight = hist_weight

    def reference(self, pool_emb: np.ndarray) -> Any:
        dists = pair_distances(pool_emb)
        edges = np.linspace(dists.min(), max(dists.max(), dists.min() + 1e-12), N_BINS + 1)
        return pool_emb.mean(0), pool_emb.std(0), edges, self.cumulative(dists, edges)

    @staticmethod
    def cumulative(dists: np.ndarray, edges: np.ndarray) -> np.ndarray:
        hist = np.histogram(np.clip(dists, edges[0], edges[-1]), bins=edges)[0]
        return np.cumsum(hist) / max(hist.sum(), 1)

    def cost(self, reference: Any, batch_emb: np.ndarray) -> float:
        mu, sigma, edges, cdf = reference
        w1 = np.abs(cdf - self.cumulative(pair_distances(batch_emb), edges)).mean()
        return float(np.linalg.norm(mu - batch_emb.mean(0)) + np.linalg.norm(sigma - batch_emb.std(0))
                     + self.hist_weight * w1)
