"""The shared k-nearest-neighbour search, with exact tie and self handling.

One search of depth K serves every ranking metric. Searchers return the ``fetch`` smallest
distances of each query (as a multiset; their order among equal distances is unspecified):

* :class:`FaissSearcher`: exact flat index on the CPU (``faiss-cpu``), or on the GPU when
  ``faiss-gpu`` is installed and the device is CUDA;
* :class:`TorchSearcher`: chunked matmul + ``topk`` on any torch device (used on CUDA without
  faiss-gpu; testable on the CPU).

:func:`rank_neighbours` then makes the order canonical: the query itself is removed, equal
distances are ordered by gallery index, and rows whose K-th distance ties with an item that was
not fetched (or, for ``mrr``, that hold no relevant item within K) are recomputed exactly over
the whole gallery. The result is deterministic whatever the backend's tie order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from metrics.ranking import Ranking

QUERY_CHUNK = 4096           # queries per search call: bounds the (chunk, depth) result arrays
FULL_ROW_ELEMENTS = 1 << 25  # distance-matrix cells per block when whole rows are recomputed


NORM_CHUNK = 1 << 16        # rows per block when row norms are taken in float64


def row_norms(x: np.ndarray) -> np.ndarray:
    """(N,) float64 L2 norms of float32 rows: no overflow even at float32's largest values."""
    out = np.empty(len(x))
    for s in range(0, len(x), NORM_CHUNK):               # bounds the float64 copy
        out[s:s + NORM_CHUNK] = np.linalg.norm(x[s:s + NORM_CHUNK].astype(np.float64), axis=1)
    return out


EUCLIDEAN_SPREAD = 50       # log2 of the largest ratio of row norms a float32 Euclidean search resolves


def check_finite(x: np.ndarray) -> None:
    """Refuse rows that hold NaN or infinite values: they would silently reorder or drop
    neighbours. Raises ``ValueError`` naming the count of bad rows."""
    bad = int((~np.isfinite(x)).any(axis=1).sum()) if x.size else 0
    if bad:
        beyond = "NaN, inf, or beyond +-3.4e38" if x.dtype == np.float32 else "NaN or inf"
        raise ValueError(f"embeddings: {bad} of {len(x)} rows are not finite in {x.dtype} ({beyond})")


def check_euclidean_spread(norms: np.ndarray) -> None:
    """Refuse rows whose norms span more than 2**EUCLIDEAN_SPREAD (zero rows aside).

    Euclidean neighbours are not invariant to per-row scaling, so only one global scale is
    allowed; with the largest row brought to norm ~1, squared distances among rows 2**-50 times
    smaller are ~2**-100, near the end of float32's normal range (2**-126), and rows 1e-30 next
    to 1e30 vanish to zero: their neighbours would be ties. Cosine metrics rescale each row and
    are unaffected."""
    nonzero = norms[norms > 0]
    if len(nonzero) and np.log2(nonzero.max()) - np.log2(nonzero.min()) > EUCLIDEAN_SPREAD:
        raise ValueError(f"embeddings: row norms span {nonzero.min():.3g} to {nonzero.max():.3g}, more than "
                         f"2^{EUCLIDEAN_SPREAD}: Euclidean distances (e_ metrics, k-means) among the smallest rows "
                         "cannot be computed in float32; rescale the rows or use c_ (cosine) metrics")


def power_of_two_scale(norm: np.ndarray) -> np.ndarray:
    """The exponents e with ``norm * 2**-e`` in [0.5, 1) (0 for a zero norm)."""
    return np.frexp(norm)[1]


def prepare(embeddings: np.ndarray, space: str) -> np.ndarray:
    """Float32 C-contiguous rows, rescaled so that no distance overflows or underflows.

    ``euclidean``: all rows are multiplied by one power of two, 2**-e, that brings the largest
    row norm into [0.5, 1): squared distances are then at most 4 whatever the scale or D
    (1e19-scaled float32 rows would overflow ``‖x‖² + ‖y‖² − 2x·y`` to inf). A power of two is
    exact in floating point, so every distance is scaled by exactly 4**-e and rankings and
    k-means assignments are bit-identical to the unscaled ones. Row norms spanning more than
    2**EUCLIDEAN_SPREAD are refused (:func:`check_euclidean_spread`). ``cosine``: each row is
    first scaled by its own power of two (exact), then L2-normalised.
    """
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    check_finite(x)
    norms = row_norms(x)
    if space == "cosine":
        x = np.ldexp(x, -power_of_two_scale(norms)[:, None]).astype(np.float32)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    else:
        check_euclidean_spread(norms)
        x = np.ldexp(x, -power_of_two_scale(norms.max(initial=0.0))).astype(np.float32)
    return np.ascontiguousarray(x, dtype=np.float32)


def full_distances(queries: np.ndarray, gallery: torch.Tensor, space: str) -> torch.Tensor:
    """(q, G) distance keys, ascending = closer: squared L2, or −cosine similarity."""
    q = torch.as_tensor(queries, device=gallery.device)
    sim = q @ gallery.T
    if space == "cosine":
        return -sim
    return (q * q).sum(1, keepdim=True) + (gallery * gallery).sum(1)[None] - 2 * sim


class TorchSearcher:
    """Exact kNN by chunked matmul + ``topk`` on ``device`` (CPU or CUDA)."""

    def __init__(self, gallery: np.ndarray, space: str, device: str = "cpu"):
        self.gallery = torch.as_tensor(gallery, device=device)
        self.space = space

    def search(self, queries: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        step = max(1, FULL_ROW_ELEMENTS // max(self.gallery.shape[0], 1))
        values, index = [], []
        for s in range(0, len(queries), step):             # bounds the (rows, G) distance block
            d = full_distances(queries[s:s + step], self.gallery, self.space)
            v, i = torch.topk(d, depth, dim=1, largest=False, sorted=True)
            values.append(v.cpu().numpy())
            index.append(i.cpu().numpy())
        return np.concatenate(values), np.concatenate(index)


class FaissSearcher:
    """Exact kNN with a faiss flat index (L2, or inner product for cosine), CPU or faiss-gpu."""

    def __init__(self, gallery: np.ndarray, space: str, use_gpu: bool = False):
        import faiss
        self.space = space
        index = faiss.IndexFlatIP(gallery.shape[1]) if space == "cosine" else faiss.IndexFlatL2(gallery.shape[1])
        if use_gpu:
            self.resources = faiss.StandardGpuResources()
            index = faiss.index_cpu_to_gpu(self.resources, 0, index)
        index.add(gallery)
        self.index = index

    def search(self, queries: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        d, i = self.index.search(queries, depth)
        return (-d if self.space == "cosine" else d), i


def faiss_gpu_available() -> bool:
    import faiss
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def make_searcher(gallery: np.ndarray, space: str, depth: int, device: str = "cpu",
                  backend: str = "auto") -> FaissSearcher | TorchSearcher:
    """faiss on the CPU; on CUDA faiss-gpu (depth <= 2048) or the torch matmul searcher."""
    if backend == "torch":
        return TorchSearcher(gallery, space, device)
    if backend == "faiss" or device == "cpu":
        return FaissSearcher(gallery, space)
    if faiss_gpu_available() and depth <= 2048:
        return FaissSearcher(gallery, space, use_gpu=True)
    return TorchSearcher(gallery, space, device)


@dataclass
class Neighbours:
    """The canonical ranking of the non-lone queries."""
    ranking: Ranking
    queries: np.ndarray             # (Q,) item indices of the non-lone queries
    n_lone: int                     # queries with R_q = 0, excluded
    indices: np.ndarray | None      # (Q, keep) item indices of the nearest neighbours, if asked


def drop_self(d: np.ndarray, i: np.ndarray, self_pos: np.ndarray,
              n_gallery: int) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query from its own result row.

    Usually every query is its own nearest item (column 0): the rows are then sliced, one column
    narrower. Otherwise the columns after the query shift left and the freed last cell becomes
    "no item" (index ``n_gallery``, distance inf); rows without the query stay whole.
    """
    i = i.astype(np.int64, copy=False)
    if (i[:, 0] == self_pos).all():
        return d[:, 1:], i[:, 1:]
    found = i == self_pos[:, None]
    width = i.shape[1]
    col = np.where(found.any(1), found.argmax(1), width)[:, None]
    j = np.arange(width)[None]
    src = np.minimum(j + (j >= col), width - 1)
    last = (j == width - 1) & (col < width)
    d = np.where(last, np.inf, np.take_along_axis(d, src, 1)).astype(np.float32)
    i = np.where(last, n_gallery, np.take_along_axis(i, src, 1))
    return d, i


def sort_rows(d: np.ndarray, i: np.ndarray, rows: np.ndarray) -> None:
    """In place: within each run of equal distances of the (ascending) ``rows``, order by index.

    The sort key is (run number, index); a stable sort of this nearly sorted key is several
    times faster than a two-key lexsort.
    """
    if rows.any():
        sub_d, sub_i = d[rows], i[rows]
        run = np.zeros(sub_d.shape, dtype=np.int64)
        np.cumsum(sub_d[:, 1:] != sub_d[:, :-1], axis=1, out=run[:, 1:])
        order = np.argsort(run * (int(sub_i.max()) + 1) + sub_i, axis=1, kind="stable")
        d[rows] = np.take_along_axis(sub_d, order, 1)
        i[rows] = np.take_along_axis(sub_i, order, 1)


def exact_rows(x_query: np.ndarray, gallery: torch.Tensor, space: str, self_pos: np.ndarray,
               depth: int, glab: np.ndarray, qlab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whole-gallery answer for a few queries: the first ``depth`` gallery positions by
    (distance, index), self excluded, and the exact 1-based rank of the first relevant item."""
    n_gallery = gallery.shape[0]
    out = np.empty((len(x_query), depth), dtype=np.int64)
    first = np.empty(len(x_query), dtype=np.int64)
    step = max(1, FULL_ROW_ELEMENTS // max(n_gallery, 1))
    pos = np.arange(n_gallery)
    for s in range(0, len(x_query), step):
        rows = slice(s, s + step)
        d = full_distances(x_query[rows], gallery, space).cpu().numpy().astype(np.float64)
        has_self = self_pos[rows] >= 0
        d[np.flatnonzero(has_self), self_pos[rows][has_self]] = np.inf
        # the first `depth` by (d, index): everything below the depth-th value, then ties by index
        t = np.partition(d, depth - 1, axis=1)[:, depth - 1:depth]
        below, equal = d < t, d == t
        room = depth - below.sum(1, keepdims=True)
        take = below | (equal & (np.cumsum(equal, axis=1) <= room))
        sel = np.nonzero(take)[1].reshape(-1, depth)
        sel_d = np.take_along_axis(d, sel, 1)
        order = np.lexsort((sel, sel_d), axis=-1)
        sel = np.take_along_axis(sel, order, 1)
        out[rows] = np.where(np.isinf(np.take_along_axis(sel_d, order, 1)), n_gallery, sel)
        # first relevant item (d*, j*) and its rank among all (d, index) pairs
        rel = glab[None] == qlab[rows, None]
        d_rel = np.where(rel, d, np.inf)
        best = d_rel.min(1, keepdims=True)
        j_star = np.argmax(rel & (d_rel == best), axis=1)[:, None]
        first[rows] = 1 + (d < best).sum(1) + ((d == best) & (pos[None] < j_star)).sum(1)
    return out, first


def rank_neighbours(embeddings: np.ndarray, labels: np.ndarray, query: np.ndarray,
                    gallery: np.ndarray, space: str, depth: int, *, first_hit: bool = False,
                    keep_indices: int = 0, device: str = "cpu", backend: str = "auto") -> Neighbours:
    """Canonical neighbour relevance of every query with at least one relevant gallery item.

    Parameters
    ----------
    embeddings, labels : (N, D) and (N,) arrays; ``labels`` contiguous ints 0..C-1.
    query, gallery : sorted item-index arrays (they may overlap; a query never retrieves itself).
    space : ``euclidean`` or ``cosine``.
    depth : neighbours kept per query (capped at the gallery size).
    first_hit : also compute the exact rank of the first relevant item (for ``mrr``).
    keep_indices : also return the item indices of the first ``keep_indices`` neighbours.
    """
    x = prepare(embeddings, space)
    n_gallery = len(gallery)
    gallery_pos = np.full(len(x), -1, dtype=np.int64)
    gallery_pos[gallery] = np.arange(n_gallery)
    glab = labels[gallery]
    counts = np.bincount(glab, minlength=int(labels.max(initial=-1)) + 1)
    self_all = gallery_pos[query]
    relevant = counts[labels[query]] - (self_all >= 0)
    keep = relevant > 0
    q, self_pos, relevant = query[keep], self_all[keep], relevant[keep]
    qlab = labels[q]

    k = max(1, min(depth, n_gallery))
    overlap = bool((self_pos >= 0).any())
    fetch = min(k + 1 + int(overlap), n_gallery)
    hits = np.zeros((len(q), k), dtype=bool)
    first = np.zeros(len(q), dtype=np.int64) if first_hit else None
    indices = np.zeros((len(q), min(keep_indices, k)), dtype=np.int64) if keep_indices else None
    glab_pad = np.append(glab, -1)                  # position n_gallery = "no item"
    searcher = make_searcher(x[gallery], space, fetch, device, backend) if len(q) else None
    exact_gallery = None
    for s in range(0, len(q), QUERY_CHUNK):
        rows = slice(s, s + QUERY_CHUNK)
        d, i = searcher.search(x[q[rows]], fetch)
        if overlap:
            d, i = drop_self(d, i, self_pos[rows], n_gallery)
        i = i.astype(np.int64, copy=False)
        sort_rows(d, i, (d[:, 1:] == d[:, :-1]).any(1))
        redo = np.zeros(len(d), dtype=bool)
        if fetch < n_gallery:                       # an unfetched item may tie with the K-th
            redo |= np.isfinite(d[:, k]) & (d[:, k] == d[:, k - 1])
        i = i[:, :k]
        if i.shape[1] < k:
            i = np.pad(i, ((0, 0), (0, k - i.shape[1])), constant_values=n_gallery)
        h = glab_pad[i] == qlab[rows, None]
        if first is not None:
            any_hit = h.any(1)
            first[rows] = np.where(any_hit, np.argmax(h, axis=1) + 1, 0)
            redo |= ~any_hit
        if redo.any():
            if exact_gallery is None:
                exact_gallery = torch.as_tensor(x[gallery], device=device)
            r = np.flatnonzero(redo) + s
            i_exact, f_exact = exact_rows(x[q[r]], exact_gallery, space, self_pos[r], k, glab, qlab[r])
            i[redo] = i_exact
            h[redo] = glab_pad[i_exact] == qlab[r, None]
            if first is not None:
                first[r] = f_exact
        hits[rows] = h
        if indices is not None:
            indices[rows] = np.where(i[:, :indices.shape[1]] < n_gallery,
                                     gallery[np.minimum(i[:, :indices.shape[1]], n_gallery - 1)], -1)
    return Neighbours(Ranking(hits, relevant, first), q, int((~keep).sum()), indices)
