"""Clustering metrics computed from the shared k-means assignment."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from metrics import METRICS


@METRICS.register("nmi", evidence="kmeans", space="euclidean")
def nmi(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Normalised mutual information ``I(Y; C) / mean(H(Y), H(C))`` (arithmetic mean, as in
    scikit-learn) between labels and k-means clusters (Manning et al., IR book, 2008)."""
    return float(normalized_mutual_info_score(labels, clusters))
