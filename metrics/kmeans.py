"""The shared k-means clustering (faiss): one run per distance space."""
from __future__ import annotations

import numpy as np

from metrics.neighbours import faiss_gpu_available, prepare


def kmeans_assign(embeddings: np.ndarray, n_clusters: int, space: str, seed: int = 0,
                  n_iter: int = 20, device: str = "cpu") -> np.ndarray:
    """Cluster id of every row after exactly ``n_iter`` Lloyd iterations (fixed ``seed``).

    Every row is used (no subsampling: ``max_points_per_centroid`` is lifted) and faiss's early
    stop is disabled, so the iteration count is the one asked for. With ``space == "cosine"``
    the rows are L2-normalised and the centroids re-normalised after each step (spherical
    k-means); rows are then assigned by inner product with the normalised centroids.

    Rows are rescaled by :func:`metrics.neighbours.prepare` (an exact power of two), so faiss
    never sees an overflowing distance: it aborts the whole process (SIGABRT, "invalid cluster
    assignment") rather than raising when it does. Non-finite rows and empty shapes raise a
    ``ValueError`` here for the same reason.
    """
    import faiss  # lazy: `import metrics` (flag building, --help) stays light
    if np.ndim(embeddings) != 2 or 0 in np.shape(embeddings):
        raise ValueError(f"k-means needs a non-empty (N, D) matrix, got shape {np.shape(embeddings)}")
    x = prepare(embeddings, space)
    n_clusters = max(1, min(int(n_clusters), len(x)))
    options = dict(niter=n_iter, seed=seed, spherical=(space == "cosine"), min_points_per_centroid=1,
                   max_points_per_centroid=max(len(x), 1), verbose=False)
    if hasattr(faiss.ClusteringParameters(), "early_stop_threshold"):
        options["early_stop_threshold"] = -1.0        # the default (0.0) stops once the loss plateaus
    if device != "cpu" and faiss_gpu_available():
        options["gpu"] = True
    km = faiss.Kmeans(x.shape[1], n_clusters, **options)
    km.train(x)
    _, assign = km.index.search(x, 1)
    return assign[:, 0].astype(np.int64)
