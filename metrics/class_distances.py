"""Class compactness and separation in cosine distance (Roth et al., ICML 2020, §5).

Evidence: :func:`class_sums` gives, for every class with at least two items, its size n_c, the
sum s_c of its L2-normalised embeddings and its (raw) mean μ_c. Singleton classes are skipped.
With unit vectors, Σ_{i≠j} u_i·u_j = ‖s_c‖² − n_c, so nothing pairwise is ever materialised.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics import METRICS


@dataclass
class ClassSums:
    sizes: np.ndarray         # (C,) n_c >= 2
    unit_sums: np.ndarray     # (C, D) float64 s_c = Σ_i x_i / ‖x_i‖
    unit_sq: np.ndarray       # (C,) Σ_i ‖x_i/‖x_i‖‖², n_c unless the class holds zero vectors
    means: np.ndarray         # (C, D) float64 μ_c = mean_i x_i


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Float64 rows divided by their L2 norm at any scale (zero rows stay zero). No fixed
    floor on the norm: cosine is scale-invariant, so 1e-30-scaled rows are still normalised.
    Float64 holds the squares of any float32 value, so the norm neither overflows nor underflows."""
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x, dtype=np.float64), where=norm > 0)


def class_sums(embeddings: np.ndarray, labels: np.ndarray) -> ClassSums:
    """Per-class sums (float64) over the classes with two or more items."""
    _, lab = np.unique(labels, return_inverse=True)
    order = np.argsort(lab, kind="stable")
    sizes = np.bincount(lab)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    x = np.asarray(embeddings, dtype=np.float64)[order]
    keep = sizes >= 2
    if not len(x):
        empty = np.zeros((0, x.shape[1]))
        return ClassSums(sizes[keep], empty, np.zeros(0), empty)
    u = unit_rows(x)
    unit = np.add.reduceat(u, starts, axis=0)[keep]
    unit_sq = np.add.reduceat((u ** 2).sum(1), starts)[keep]
    raw = np.add.reduceat(x, starts, axis=0)[keep]
    return ClassSums(sizes[keep], unit, unit_sq, raw / sizes[keep, None])


def mean_intra(sums: ClassSums) -> float:
    """Mean over classes of the mean pairwise cosine distance within the class."""
    n = sums.sizes.astype(np.float64)
    if len(n) == 0:
        return float("nan")
    mean_cos = ((sums.unit_sums ** 2).sum(1) - sums.unit_sq) / (n * (n - 1))
    return float(np.mean(1.0 - mean_cos))


def mean_inter(sums: ClassSums) -> float:
    """Mean cosine distance between the normalised class means, over ordered pairs c ≠ d."""
    c = len(sums.sizes)
    if c < 2:
        return float("nan")
    unit = unit_rows(sums.means)
    mean_cos = ((unit.sum(0) ** 2).sum() - (unit ** 2).sum()) / (c * (c - 1))
    return float(1.0 - mean_cos)


@METRICS.register("dists", evidence="class_distances", arg=("intra", "inter", "intra_over_inter"),
                  lower_is_better=("intra", "intra_over_inter"))
def dists(sums: ClassSums, which: str) -> float:
    """Cosine compactness (dists@intra), separation of class means (dists@inter) and their ratio.

    ``dists@intra`` = mean_c [1/(n_c(n_c−1)) Σ_{i≠j∈c} (1 − cos(x_i, x_j))];
    ``dists@inter`` = 1/(C(C−1)) Σ_{c≠d} (1 − cos(μ_c, μ_d)) over class means μ_c;
    ``dists@intra_over_inter`` = intra / inter. Singleton classes are skipped in both."""
    if which == "intra":
        return mean_intra(sums)
    if which == "inter":
        return mean_inter(sums)
    inter = mean_inter(sums)
    return mean_intra(sums) / inter if inter > 0 else float("nan")
