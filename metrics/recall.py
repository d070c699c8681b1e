"""Retrieval metrics computed from the shared neighbour table."""
from __future__ import annotations

import numpy as np

from metrics import METRICS


@METRICS.register("e_recall", evidence="knn", space="euclidean", arg=True)
def e_recall(hits: np.ndarray, k: int) -> float:
    """Recall@k (Euclidean): the fraction of queries with a same-label item among their k nearest
    neighbours (Jegou et al. 2011; the DML usage of Song et al. 2016).

    ``hits`` is the (Q, K) boolean matrix ``label(neighbour_j(q)) == label(q)`` for the queries
    that have at least one relevant gallery item.
    """
    return float(hits[:, :k].any(1).mean()) if len(hits) else float("nan")
