"""One evaluation pass: shared evidence first (one kNN search per distance, one k-means per
distance, one SVD, one pass of class sums), then every requested metric."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any, Callable, ContextManager

import numpy as np
import torch

import metrics as metric_registry
from metrics.kmeans import kmeans_assign
from metrics.neighbours import check_finite, power_of_two_scale, rank_neighbours
from metrics.class_distances import class_sums


class MetricResults(dict):
    """``dict[str, float]`` of scalar metrics; array-valued metrics (``rho_spectrum@0``) are in
    ``.arrays`` and not among the keys, so tables and CSV files only ever see floats."""

    def __init__(self, *args: Any, arrays: dict[str, np.ndarray] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arrays: dict[str, np.ndarray] = dict(arrays or {})


def to_numpy(x: Any, dtype: Any = None) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=dtype)


def average(values: np.ndarray, classes: np.ndarray, mode: str) -> float:
    """Mean over queries (``micro``) or mean over classes of the per-class mean (``macro``)."""
    if len(values) == 0:
        return float("nan")
    if mode == "micro":
        return float(values.mean())
    count = np.bincount(classes)
    total = np.bincount(classes, weights=values)
    present = count > 0
    return float((total[present] / count[present]).mean())


def check_embeddings(embeddings: Any) -> np.ndarray:
    """The (N, D) float32 embedding matrix, or a one-line ``ValueError``: not real numbers, not
    2-D, no rows, no dimensions, or rows that are not finite (with their count).

    Float64 input is checked in float64 and first multiplied by one power of two (exact) that
    brings its largest value into [0.5, 1), then cast: every metric is invariant to a global
    scale, so 1e-300-scaled or 1e300-scaled float64 rows give the unscaled values. Rows that
    would still fall below float32's normal range next to the largest are refused."""
    raw = to_numpy(embeddings)
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"embeddings must be real numbers, got dtype {raw.dtype}")
    if raw.ndim != 2:
        raise ValueError(f"embeddings must be a 2-D (N, D) array, got shape {raw.shape}")
    if raw.shape[0] == 0 or raw.shape[1] == 0:
        raise ValueError(f"embeddings are empty: shape {raw.shape} has no "
                         f"{'rows' if raw.shape[0] == 0 else 'dimensions'}")
    if raw.dtype.kind == "f" and raw.dtype.itemsize > 4:
        return float64_to_float32(raw.astype(np.float64, copy=False))
    emb = raw.astype(np.float32, copy=False)
    check_finite(emb)
    return emb


def float64_to_float32(raw: np.ndarray) -> np.ndarray:
    """Float64 rows rescaled in float64 by an exact power of two (largest value in [0.5, 1)),
    then cast to float32; ``ValueError`` for non-finite rows or rows float32 cannot hold."""
    check_finite(raw)
    row_max = np.abs(raw).max(axis=1)
    scaled = np.ldexp(raw, -power_of_two_scale(row_max.max()))
    lost = int(((row_max > 0) & (np.ldexp(row_max, -power_of_two_scale(row_max.max()))
                                 < np.finfo(np.float32).tiny)).sum())
    if lost:
        raise ValueError(f"embeddings: {lost} of {len(raw)} rows are more than 2^126 times smaller than the "
                         "largest (float64 input): they cannot be held in float32; rescale the rows")
    return scaled.astype(np.float32)


def check_arguments(parsed: list[Any], shape: tuple[int, int]) -> None:
    """Refuse metric arguments beyond what the data allow (known only now).

    A spectrum metric's argument k counts singular values (``rho_spectrum@k`` drops the |k|−1
    largest), and an (N, D) matrix has min(N, D) of them; a larger |k| leaves nothing to
    compare. Ranking metrics need no check: a k beyond the ranking length is well defined
    (see :mod:`metrics.retrieval`)."""
    limit = min(shape)
    for m in parsed:
        if m.evidence == "spectrum" and isinstance(m.value, int) and abs(m.value) > limit:
            raise ValueError(f"--evaluation_metrics {m.name}: |k| = {abs(m.value)} exceeds the {limit} singular "
                             f"values of the {shape[0]} x {shape[1]} embeddings (min(N, D)); use |k| <= {limit}")


def index_of(mask: Any, n: int, flag: str) -> np.ndarray:
    if mask is None:
        return np.arange(n)
    mask = to_numpy(mask, bool)
    if mask.shape != (n,):
        raise ValueError(f"{flag} must be a boolean array of length {n}, got shape {mask.shape}")
    return np.flatnonzero(mask)


def compute(embeddings: Any, labels: Any, names: list[str], *, is_query: Any = None,
            is_gallery: Any = None, device: str = "cpu", average_mode: str = "micro",
            categories: Any = None, seed: int = 0, backend: str = "auto",
            stage: Callable[[str], ContextManager[Any]] | None = None) -> MetricResults:
    """Metrics ``names`` for (N, D) ``embeddings`` and (N,) integer ``labels``.

    Without masks every item is both a query and a gallery item; a query never retrieves
    itself. Queries with no relevant gallery item are excluded from ranking metrics and counted
    in ``n_lone_queries``. Ranking metrics are averaged per query (``average_mode="micro"``) or
    per class, then over classes (``"macro"``); with ``categories`` (N,) they are also reported
    per category of the query as ``<metric>/<category>``. ``device`` "cuda" moves the kNN search
    to faiss-gpu or a torch matmul; ``backend`` ("auto", "faiss", "torch") forces one searcher.
    ``stage(name)`` (optional) wraps the ``knn``, ``kmeans`` and ``metrics`` stages, e.g. to time
    them (``bench/eval.py``).

    Raises a one-line ``ValueError`` for data no metric can be trusted on: embeddings that are
    not real numbers, not 2-D, empty (no rows or no dimensions) or with rows that are not finite
    (the message counts them), float64 rows float32 cannot hold (:func:`check_embeddings`),
    Euclidean metrics on row norms spanning more than 2**50 (:func:`metrics.neighbours.prepare`);
    no queries or no gallery items when ranking metrics are asked for; a metric argument beyond the data (:func:`check_arguments`). Finite inputs
    at any scale are safe: kNN and k-means read rows rescaled by an exact power of two
    (:func:`metrics.neighbours.prepare`), class distances use float64 unit vectors.
    """
    stage = stage or (lambda name: nullcontext())
    emb = check_embeddings(embeddings)
    raw_labels = to_numpy(labels)
    if raw_labels.shape != (len(emb),):
        raise ValueError(f"embeddings must be (N, D) and labels (N,), got {emb.shape} and {raw_labels.shape}")
    if average_mode not in ("micro", "macro"):
        raise ValueError(f"--metric_average must be micro or macro, got {average_mode!r}")
    _, lab = np.unique(raw_labels, return_inverse=True)
    lab = lab.astype(np.int64).reshape(-1)
    n = len(lab)
    query, gallery = index_of(is_query, n, "is_query"), index_of(is_gallery, n, "is_gallery")
    cats = None if categories is None else to_numpy(categories)
    parsed = list({m.name: m for m in map(metric_registry.parse, names)}.values())
    check_arguments(parsed, emb.shape)
    if any(m.evidence == "ranking" for m in parsed):
        for flag, selected, what in (("is_query", query, "queries"), ("is_gallery", gallery, "gallery items")):
            if not len(selected):
                raise ValueError(f"no {what}: {flag} selects none of the {n} items, so ranking metrics are undefined")

    values: dict[str, float] = {}
    per_category: dict[str, float] = {}
    arrays: dict[str, np.ndarray] = {}
    n_lone: int | None = None

    ranking = [m for m in parsed if m.evidence == "ranking"]
    if ranking:
        max_relevant = relevant_max(lab, query, gallery)
        for space in sorted({m.space for m in ranking}):
            group = [m for m in ranking if m.space == space]
            depth = max(m.depth(max_relevant) for m in group)
            with stage("knn"):
                nb = rank_neighbours(emb, lab, query, gallery, space, max(depth, 1),
                                     first_hit=any(m.meta.get("first_hit") for m in group),
                                     device=device, backend=backend)
            n_lone = nb.n_lone
            qlab = lab[nb.queries]
            with stage("metrics"):
                ranking_values(group, nb, qlab, cats, average_mode, values, per_category)

    n_labels = len(np.unique(lab))
    for space in sorted({m.space for m in parsed if m.evidence == "clustering"}):
        with stage("kmeans"):
            clusters = kmeans_assign(emb, n_labels, space, seed=seed, device=device)
        with stage("metrics"):
            for m in (m for m in parsed if m.evidence == "clustering" and m.space == space):
                values[m.name] = metric_registry.METRICS.get(m.family)(lab, clusters)
    with stage("metrics"):
        global_values(parsed, emb, lab, values, arrays)

    results = MetricResults({m.name: values[m.name] for m in parsed if m.name in values}, arrays=arrays)
    if n_lone is not None:
        results["n_lone_queries"] = float(n_lone)
    results.update(per_category)
    return results


def ranking_values(group: list[Any], nb: Any, qlab: np.ndarray, cats: np.ndarray | None, average_mode: str,
                   values: dict[str, float], per_category: dict[str, float]) -> None:
    """Per-query values of each ranking metric, averaged overall and per query category."""
    for m in group:
        per_query = metric_registry.METRICS.get(m.family)(nb.ranking, m.value)
        values[m.name] = average(per_query, qlab, average_mode)
        if cats is not None:
            qcat = cats[nb.queries]
            for cat in np.unique(cats):
                sel = qcat == cat
                per_category[f"{m.name}/{cat}"] = average(per_query[sel], qlab[sel], average_mode)


def global_values(parsed: list[Any], emb: np.ndarray, lab: np.ndarray, values: dict[str, float],
                  arrays: dict[str, np.ndarray]) -> None:
    """Metrics of the whole embedding matrix: the spectrum (one exact SVD) and class distances."""
    spectral = [m for m in parsed if m.evidence == "spectrum"]
    if spectral:
        singular = np.linalg.svd(emb.astype(np.float64), compute_uv=False)
        for m in spectral:
            out = metric_registry.METRICS.get(m.family)(singular, m.value)
            if isinstance(out, np.ndarray):
                arrays[m.name] = out
            else:
                values[m.name] = out

    distance_metrics = [m for m in parsed if m.evidence == "class_distances"]
    if distance_metrics:
        sums = class_sums(emb, lab)
        for m in distance_metrics:
            values[m.name] = metric_registry.METRICS.get(m.family)(sums, m.value)


def relevant_max(labels: np.ndarray, query: np.ndarray, gallery: np.ndarray) -> int:
    """max_q R_q: the depth MAP@R and R-precision need (per-label counts by bincount)."""
    counts = np.bincount(labels[gallery], minlength=int(labels.max()) + 1)
    in_gallery = np.zeros(len(labels), dtype=bool)
    in_gallery[gallery] = True
    return int((counts[labels[query]] - in_gallery[query]).max(initial=0))
