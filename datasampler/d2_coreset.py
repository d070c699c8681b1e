"""D^2-weighted coreset batches from stored embeddings."""
from __future__ import annotations

import numpy as np

from datasampler import SAMPLERS
from datasampler.storage import StorageSampler


@SAMPLERS.register("d2_coreset")
class D2CoresetSampler(StorageSampler):
    """Anchors drawn with probability proportional to density times spread, then completed to
    P x K with other items of each anchor's class.

    Fit a Gaussian N(mu, Sigma) to the pool embeddings; start at the pool item nearest to a draw
    from it; then draw each next anchor i (of a class not yet chosen) with probability
    ``p_i ∝ N(e_i; mu, Sigma) * (sum_{s in S} ||e_i - e_s||^2)^lambda``, a density-weighted
    D^2 sampling in the spirit of k-means++ (Arthur & Vassilvitskii 2007), as in the Revisiting-DML
    tool (Roth et al., ICML 2020). Sigma gets a small ridge so that it is invertible.

    Parameters
    ----------
    d2_lambda : float
        The exponent lambda on the summed squared distances (``--data_d2_coreset_lambda``).
    """

    wired_params = StorageSampler.wired_params + ("d2_lambda",)

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2, pool_size: int = 512,
                 refresh_storage: bool = True, lowproj_dim: int = -1, d2_lambda: float = 1.0, seed: int = 0,
                 rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, pool_size, refresh_storage, lowproj_dim,
                         seed, rank, world_size)
        self.d2_lambda = d2_lambda

    def choose(self, pool_emb: np.ndarray, pool_classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mean = pool_emb.mean(0)
        cov = np.atleast_2d(np.cov(pool_emb.T))
        cov += np.eye(len(cov)) * (1e-6 * np.trace(cov) / len(cov) + 1e-12)
        centered = pool_emb - mean
        log_density = -0.5 * (centered * np.linalg.solve(cov, centered.T).T).sum(1)
        start = rng.multivariate_normal(mean, cov, method="eigh")
        pick = int(np.argmin(((pool_emb - start) ** 2).sum(1)))
        spread = np.zeros(len(pool_emb))
        available = np.ones(len(pool_emb), dtype=bool)
        chosen = []
        while True:
            chosen.append(pick)
            available &= pool_classes != pool_classes[pick]
            spread += ((pool_emb - pool_emb[pick]) ** 2).sum(1)   # one column, not the full matrix
            if len(chosen) == self.p or not available.any():
                return np.asarray(chosen)
            logits = np.where(available, log_density + self.d2_lambda * np.log(spread + 1e-12), -np.inf)
            prob = np.exp(logits - logits.max())
            pick = int(rng.choice(len(prob), p=prob / prob.sum()))
