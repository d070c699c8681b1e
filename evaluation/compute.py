"""One evaluation pass: shared evidence (kNN, k-means) first, then every requested metric."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

import metrics as metric_registry
from evaluation.clustering import kmeans_assign
from evaluation.neighbours import knn_search


def to_numpy(x: Any, dtype: Any = None) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def compute(embeddings: Any, labels: Any, names: list[str], *, is_query: Any = None,
            is_gallery: Any = None, device: str = "cpu") -> dict[str, float]:
    """Metrics ``names`` for (N, D) ``embeddings`` and (N,) integer ``labels``.

    Without masks every item is both a query and a gallery item, and a query never retrieves
    itself. Queries with no relevant gallery item are excluded from retrieval metrics and
    counted in ``n_lone_queries``. One kNN search (depth max k) per distance space and one
    k-means per space serve all metrics.
    """
    emb = to_numpy(embeddings, np.float32)
    lab = to_numpy(labels, np.int64)
    n = len(lab)
    query = np.flatnonzero(to_numpy(is_query, bool)) if is_query is not None else np.arange(n)
    gallery = np.flatnonzero(to_numpy(is_gallery, bool)) if is_gallery is not None else np.arange(n)
    parsed = [metric_registry.parse(name) for name in names]

    results: dict[str, float] = {}
    knn_depth: dict[str, int] = {}
    kmeans_spaces: set[str] = set()
    for m in parsed:
        if m.meta["evidence"] == "knn":
            knn_depth[m.meta["space"]] = max(knn_depth.get(m.meta["space"], 0), m.arg or 1)
        elif m.meta["evidence"] == "kmeans":
            kmeans_spaces.add(m.meta["space"])

    hits: dict[str, np.ndarray] = {}
    if knn_depth:
        gallery_counts = np.bincount(lab[gallery], minlength=lab.max() + 1)
        relevant = gallery_counts[lab[query]] - np.isin(query, gallery)
        keep = relevant > 0
        results["n_lone_queries"] = float((~keep).sum())
        for space, depth in knn_depth.items():
            found = knn_search(emb, depth, space, query[keep], gallery)
            hits[space] = (found >= 0) & (lab[np.clip(found, 0, None)] == lab[query[keep]][:, None])
    clusters = {space: kmeans_assign(emb, len(np.unique(lab)), space) for space in kmeans_spaces}

    for m in parsed:
        fn = metric_registry.METRICS.get(m.family)
        if m.meta["evidence"] == "knn":
            results[m.name] = fn(hits[m.meta["space"]], m.arg)
        elif m.meta["evidence"] == "kmeans":
            results[m.name] = fn(lab, clusters[m.meta["space"]])
    return results
