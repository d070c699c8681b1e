"""Ranking metrics: per-query values computed from the shared neighbour table.

Every function takes a :class:`metrics.ranking.Ranking` of the non-lone queries (R_q >= 1) and
returns one float64 value per query; the engine averages them over queries (``micro``) or per
class first (``macro``). Notation: rel_i = 1 when the i-th neighbour has the query's label,
P@i = (1/i) Σ_{j<=i} rel_j.

A k beyond the ranking is well defined, not an error: a query's ranking holds the G gallery
items other than itself (G−1 when it is in the gallery), and rel_i = 0 for every i past them.
So ``e_recall@k`` with k >= N is 1 for every query with a relevant item (all of them are "among
the k nearest"), ``precision@k`` keeps its 1/k, and ``map@k`` divides by min(R_q, k) = R_q,
as ``mAP_1000`` on a test set of fewer than 1000 items always has. The search itself is capped
at the gallery size, so a large k costs nothing.
"""
from __future__ import annotations

import numpy as np

from metrics import METRICS
from metrics.ranking import Ranking, precision_at_ranks


@METRICS.register("e_recall", evidence="ranking", space="euclidean", arg="k")
@METRICS.register("c_recall", evidence="ranking", space="cosine", arg="k")
@METRICS.register("cmc", evidence="ranking", space="euclidean", arg="k")
@METRICS.register("precision_at_1", evidence="ranking", space="euclidean", fixed_arg=1, depth=1)
def recall_at_k(ranking: Ranking, k: int) -> np.ndarray:
    """Recall@k, max_{i<=k} rel_i: whether a same-label item is among the k nearest (e_: Euclidean,
    c_: cosine; cmc@k and precision_at_1 alias e_recall@k and e_recall@1).

    References: Jegou et al., "Product quantization for nearest neighbor search", TPAMI 2011;
    the DML usage of Oh Song et al., CVPR 2016."""
    return ranking.hits[:, :k].any(axis=1).astype(np.float64)


@METRICS.register("precision", evidence="ranking", space="euclidean", arg="k")
def precision_at_k(ranking: Ranking, k: int) -> np.ndarray:
    """Precision@k = (1/k) Σ_{i<=k} rel_i (Manning et al., Introduction to IR, 2008, chapter 8)."""
    return ranking.hits[:, :k].sum(axis=1, dtype=np.int64) / k


@METRICS.register("r_precision", evidence="ranking", space="euclidean", depth="R")
def r_precision(ranking: Ranking, k: int | None = None) -> np.ndarray:
    """R-precision = (1/R_q) Σ_{i<=R_q} rel_i (Musgrave et al., "A metric learning reality
    check", ECCV 2020)."""
    out = np.empty(len(ranking))
    depth = int(ranking.relevant.max(initial=0))
    for rows, hits in ranking.blocks(depth):
        within = np.arange(hits.shape[1]) < ranking.relevant[rows, None]
        out[rows] = (hits & within).sum(axis=1) / ranking.relevant[rows]
    return out


@METRICS.register("map_at_r", evidence="ranking", space="euclidean", depth="R")
@METRICS.register("mAP_c", evidence="ranking", space="euclidean", depth="R")
def map_at_r(ranking: Ranking, k: int | None = None) -> np.ndarray:
    """MAP@R = (1/R_q) Σ_{i<=R_q} P@i · rel_i (Musgrave et al., ECCV 2020). ``mAP_c`` is the
    same quantity (the Revisiting-DML tool divided by the class size, counting the query)."""
    out = np.empty(len(ranking))
    depth = int(ranking.relevant.max(initial=0))
    for rows, hits in ranking.blocks(depth):
        within = np.arange(hits.shape[1]) < ranking.relevant[rows, None]
        out[rows] = (precision_at_ranks(hits) * (hits & within)).sum(axis=1) / ranking.relevant[rows]
    return out


@METRICS.register("map", evidence="ranking", space="euclidean", arg="k")
@METRICS.register("mAP_1000", evidence="ranking", space="euclidean", fixed_arg=1000, depth=1000)
@METRICS.register("mAP_lim", evidence="ranking", space="euclidean", fixed_arg=1023, depth=1023)
def map_at_k(ranking: Ranking, k: int) -> np.ndarray:
    """mAP@k = (1/min(R_q, k)) Σ_{i<=k} P@i · rel_i; mAP_1000 = map@1000, mAP_lim = map@min(1023, N−1).

    ``mAP_lim`` equals ``map@1023`` because a ranking never holds more than the N−1 other
    gallery items (Revisiting-DML's names; Musgrave et al., ECCV 2020 for the definition)."""
    out = np.empty(len(ranking))
    for rows, hits in ranking.blocks(k):
        out[rows] = (precision_at_ranks(hits) * hits).sum(axis=1) / np.minimum(ranking.relevant[rows], k)
    return out


@METRICS.register("mrr", evidence="ranking", space="euclidean", depth=100, first_hit=True)
def mean_reciprocal_rank(ranking: Ranking, k: int | None = None) -> np.ndarray:
    """Reciprocal rank 1/rank_q of the first relevant item, over the whole gallery (Voorhees,
    TREC-8 QA track, 1999); the mean over queries is the MRR. The shared search reads at least
    100 neighbours for it; queries with no relevant item among them are ranked exactly over the
    whole gallery."""
    assert ranking.first_hit is not None, "the engine computes first_hit when mrr is requested"
    return 1.0 / ranking.first_hit
