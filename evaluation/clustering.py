"""The shared k-means clustering (faiss)."""
from __future__ import annotations

import faiss
import numpy as np


def kmeans_assign(embeddings: np.ndarray, n_clusters: int, space: str, seed: int = 0,
                  n_iter: int = 20) -> np.ndarray:
    """Cluster id of every row after ``n_iter`` Lloyd iterations of k-means (faiss, fixed seed).

    With ``space == "cosine"`` rows are L2-normalised and centroids re-normalised (spherical
    k-means).
    """
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if space == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n_clusters = max(1, min(n_clusters, len(x)))
    km = faiss.Kmeans(x.shape[1], n_clusters, niter=n_iter, seed=seed, spherical=(space == "cosine"),
                      min_points_per_centroid=1, max_points_per_centroid=1_000_000, verbose=False)
    km.train(x)
    _, assign = km.index.search(x, 1)
    return assign[:, 0].astype(np.int64)
