"""Batch matching by the Fréchet distance between batch and pool embeddings."""
from __future__ import annotations

from typing import Any

import numpy as np

from datasampler import SAMPLERS
from datasampler.batchmatch import BatchMatchSampler


def gaussian_stats(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return emb.mean(0), np.atleast_2d(np.cov(emb.T))


@SAMPLERS.register("fid_batchmatch")
class FIDBatchMatchSampler(BatchMatchSampler):
    """The candidate batch with the smallest Fréchet distance to the pool (see
    :class:`~datasampler.batchmatch.BatchMatchSampler`):

    ``FID = ||mu_p - mu_b||^2 + tr(Sigma_p) + tr(Sigma_b) - 2 tr((Sigma_p Sigma_b)^{1/2})``

    (Heusel et al., NeurIPS 2017), with ``tr((Sigma_p Sigma_b)^{1/2})`` the sum of the square roots
    of the eigenvalues of ``Sigma_p Sigma_b``. As in Roth et al. (ICML 2020).
    """

    def reference(self, pool_emb: np.ndarray) -> Any:
        return gaussian_stats(pool_emb)

    def cost(self, reference: Any, batch_emb: np.ndarray) -> float:
        (mu_p, cov_p), (mu_b, cov_b) = reference, gaussian_stats(batch_emb)
        eig = np.linalg.eigvals(cov_p @ cov_b).real
        cross = np.sqrt(np.clip(eig, 0.0, None)).sum()
        return float(((mu_p - mu_b) ** 2).sum() + np.trace(cov_p) + np.trace(cov_b) - 2.0 * cross)
