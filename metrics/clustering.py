"""Clustering metrics: agreement between the labels and the shared k-means assignment.

All are computed from the sparse contingency table n_ij = |{items with label i in cluster j}|,
with row sums a_i (class sizes) and column sums b_j (cluster sizes), N items in total.
``c_`` variants read the clustering of the L2-normalised embeddings (spherical k-means).
"""
from __future__ import annotations

import numpy as np

from metrics import METRICS


def contingency(labels: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero cells n_ij, class sizes a_i and cluster sizes b_j (int64), without a dense table."""
    _, lab = np.unique(labels, return_inverse=True)
    _, clu = np.unique(clusters, return_inverse=True)
    _, cells = np.unique(lab.astype(np.int64) * (clu.max() + 1) + clu, return_counts=True)
    return cells, np.bincount(lab), np.bincount(clu)


def entropy(counts: np.ndarray) -> float:
    """Shannon entropy (nats) of the distribution counts / sum(counts)."""
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information(labels: np.ndarray, clusters: np.ndarray) -> tuple[float, float, float]:
    """I(Y; C), H(Y), H(C) in nats."""
    cells, a, b = contingency(labels, clusters)
    h_joint = entropy(cells)
    h_y, h_c = entropy(a), entropy(b)
    return max(h_y + h_c - h_joint, 0.0), h_y, h_c


@METRICS.register("nmi", evidence="clustering", space="euclidean")
@METRICS.register("c_nmi", evidence="clustering", space="cosine")
def nmi(labels: np.ndarray, clusters: np.ndarray) -> float:
    """NMI = I(Y; C) / ((H(Y) + H(C)) / 2), arithmetic normalisation as scikit-learn's default
    (Strehl & Ghosh, JMLR 2002; Manning et al., Introduction to IR, 2008, §16.3). Two constant
    partitions count as identical (1.0)."""
    mi, h_y, h_c = mutual_information(labels, clusters)
    if h_y == 0.0 and h_c == 0.0:
        return 1.0
    return float(min(mi / max((h_y + h_c) / 2.0, 1e-300), 1.0))


@METRICS.register("ami", evidence="clustering", space="euclidean", range=(-1.0, 1.0))
@METRICS.register("c_ami", evidence="clustering", space="cosine", range=(-1.0, 1.0))
def ami(labels: np.ndarray, clusters: np.ndarray) -> float:
    """AMI = (I − E[I]) / (mean(H(Y), H(C)) − E[I]), E[I] under the hypergeometric model of
    random partitions with the same sizes (Vinh, Epps & Bailey, JMLR 2010); arithmetic mean,
    computed by scikit-learn. Its cost grows with (#classes × #clusters)."""
    from sklearn.metrics import adjusted_mutual_info_score  # lazy: scikit-learn takes ~1 s to import
    return float(adjusted_mutual_info_score(labels, clusters))


@METRICS.register("f1", evidence="clustering", space="euclidean")
@METRICS.register("c_f1", evidence="clustering", space="cosine")
def pair_f1(labels: np.ndarray, clusters: np.ndarray) -> float:
    """Pair-counting F1 = 2PR / (P + R) with TP = Σ_ij C(n_ij, 2), P = TP / Σ_j C(b_j, 2),
    R = TP / Σ_i C(a_i, 2): precision and recall of "same cluster" as a predictor of "same class"
    over all item pairs (Manning et al., Introduction to IR, 2008, §16.3). 0 when no pair is
    predicted or relevant."""
    cells, a, b = contingency(labels, clusters)
    pairs = lambda x: float((x * (x - 1) // 2).sum())  # noqa: E731
    tp, predicted, relevant = pairs(cells), pairs(b), pairs(a)
    if tp == 0.0:
        return 0.0
    precision, recall = tp / predicted, tp / relevant
    return 2 * precision * recall / (precision + recall)
