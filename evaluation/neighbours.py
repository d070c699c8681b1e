"""The shared k-nearest-neighbour search (faiss)."""
from __future__ import annotations

import faiss
import numpy as np


def knn_search(embeddings: np.ndarray, k: int, space: str, query: np.ndarray,
               gallery: np.ndarray) -> np.ndarray:
    """Indices (Q, k) into ``embeddings`` of each query's k nearest gallery items, self excluded.

    ``query`` and ``gallery`` are index arrays into ``embeddings``. ``space`` is ``euclidean``
    (exact L2) or ``cosine`` (inner product of L2-normalised vectors). Rows are padded with -1
    when the gallery has fewer than k other items.
    """
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if space == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    index = faiss.IndexFlatIP(x.shape[1]) if space == "cosine" else faiss.IndexFlatL2(x.shape[1])
    index.add(x[gallery])
    overlap = np.isin(query, gallery).any()
    depth = min(k + int(overlap), len(gallery))
    _, found = index.search(x[query], depth)
    found = np.where(found >= 0, gallery[np.clip(found, 0, None)], -1)
    if overlap:  # drop the query itself wherever it appears, keep the first k of the rest
        keep = found != query[:, None]
        order = np.argsort(~keep, axis=1, kind="stable")
        found = np.take_along_axis(np.where(keep, found, -1), order, axis=1)
    out = np.full((len(query), k), -1, dtype=np.int64)
    out[:, :min(k, found.shape[1])] = found[:, :k]
    return out
