"""Ranking metrics against brute-force references (Python loops, float64) written here."""
from __future__ import annotations

import numpy as np
import pytest

import metrics

RANKING = ["e_recall@1", "e_recall@3", "c_recall@2", "cmc@4", "precision_at_1", "precision@3",
           "r_precision", "map_at_r", "mAP_c", "map@5", "mAP_1000", "mAP_lim", "mrr"]


def ranked_relevance(x, labels, q, gallery, space):
    """Relevance of q's gallery items in (distance, index) order, q excluded; and R_q."""
    x = np.asarray(x, dtype=np.float64)
    cands = [g for g in gallery if g != q]
    if space == "cosine":
        unit = lambda v: v / max(np.linalg.norm(v), 1e-12)  # noqa: E731
        dist = [-float(np.dot(unit(x[q]), unit(x[g]))) for g in cands]
    else:
        dist = [float(np.sum((x[q] - x[g]) ** 2)) for g in cands]
    order = sorted(range(len(cands)), key=lambda j: (dist[j], cands[j]))
    rel = [bool(labels[cands[j]] == labels[q]) for j in order]
    return rel, sum(rel)


def reference_value(name, rel, r):
    family, _, arg = name.partition("@")
    k = int(arg) if arg else None
    if family in ("e_recall", "c_recall", "cmc", "precision_at_1"):
        return float(any(rel[:k or 1]))
    if family == "precision":
        return sum(rel[:k]) / k
    if family == "r_precision":
        return sum(rel[:r]) / r
    prec = lambda i: sum(rel[:i + 1]) / (i + 1)  # noqa: E731
    if family in ("map_at_r", "mAP_c"):
        return sum(prec(i) for i in range(min(r, len(rel))) if rel[i]) / r
    if family in ("map", "mAP_1000", "mAP_lim"):
        k = {"mAP_1000": 1000, "mAP_lim": 1023}.get(family, k)
        return sum(prec(i) for i in range(min(k, len(rel))) if rel[i]) / min(r, k)
    if family == "mrr":
        return 1.0 / (rel.index(True) + 1)
    raise AssertionError(name)


def reference(x, labels, names, query=None, gallery=None, average="micro", categories=None):
    n = len(labels)
    query = list(range(n)) if query is None else list(np.flatnonzero(query))
    gallery = list(range(n)) if gallery is None else list(np.flatnonzero(gallery))
    out = {}
    per_query = {name: [] for name in names}
    kept = []
    for q in query:
        ranked = {space: ranked_relevance(x, labels, q, gallery, space) for space in ("euclidean", "cosine")}
        if ranked["euclidean"][1] == 0:
            continue
        kept.append(q)
        for name in names:
            rel, r = ranked["cosine" if name.startswith("c_") else "euclidean"]
            per_query[name].append(reference_value(name, rel, r))

    def avg(values, qs):
        if not values:
            return float("nan")
        if average == "micro":
            return float(np.mean(values))
        by_class = {}
        for v, q in zip(values, qs):
            by_class.setdefault(labels[q], []).append(v)
        return float(np.mean([np.mean(v) for v in by_class.values()]))

    for name in names:
        out[name] = avg(per_query[name], kept)
        if categories is not None:
            for cat in np.unique(categories):
                sel = [i for i, q in enumerate(kept) if categories[q] == cat]
                out[f"{name}/{cat}"] = avg([per_query[name][i] for i in sel], [kept[i] for i in sel])
    out["n_lone_queries"] = float(len(query) - len(kept))
    return out


def assert_close(got, want):
    assert set(got) == set(want), set(got) ^ set(want)
    for key in want:
        if np.isnan(want[key]):
            assert np.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(want[key], abs=1e-12), key


def tied_data(seed, n=36):
    """Small-integer 2-D points (many exact ties in float32 and float64), labels with singletons."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(n, 2)).astype(np.float32)
    labels = rng.integers(0, 8, size=n)
    labels[:3] = [100, 101, 102]                       # singleton classes -> lone queries
    return x, labels


def axis_data(seed, n=30):
    """Scaled signed unit axes: cosine similarities are exactly 0 or ±1, so cosine ties are exact."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 3), dtype=np.float32)
    x[np.arange(n), rng.integers(0, 3, n)] = rng.choice([-2.0, -1.0, 1.0, 4.0], n)
    return x, rng.integers(0, 5, size=n)


def random_data(seed, n=40):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 9, size=n)


DATA = {"ties": tied_data, "axes": axis_data, "random": random_data}


@pytest.mark.parametrize("kind", sorted(DATA))
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("average", ["micro", "macro"])
def test_leave_one_out_matches_reference(kind, seed, average):
    x, labels = DATA[kind](seed)
    got = metrics.compute(x, labels, RANKING, average_mode=average)
    assert_close(got, reference(x, labels, RANKING, average=average))


@pytest.mark.parametrize("protocol", ["overlap", "disjoint"])
@pytest.mark.parametrize("kind", ["ties", "random"])
def test_query_gallery_matches_reference(protocol, kind):
    x, labels = DATA[kind](3)
    rng = np.random.default_rng(5)
    if protocol == "disjoint":
        is_query = np.arange(len(x)) < len(x) // 2
        is_gallery = ~is_query
    else:
        is_query, is_gallery = rng.random(len(x)) < 0.6, rng.random(len(x)) < 0.7
        is_query[0] = is_gallery[0] = True
    got = metrics.compute(x, labels, RANKING, is_query=is_query, is_gallery=is_gallery)
    assert_close(got, reference(x, labels, RANKING, is_query, is_gallery))


@pytest.mark.parametrize("backend", ["faiss", "torch"])
@pytest.mark.parametrize("block", [1 << 25, 100])
def test_backends_agree_and_break_ties_by_index(backend, block, monkeypatch):
    import metrics.neighbours
    monkeypatch.setattr(metrics.neighbours, "FULL_ROW_ELEMENTS", block)    # force row blocks
    monkeypatch.setattr(metrics.neighbours, "QUERY_CHUNK", 7 if block == 100 else 4096)
    x, labels = tied_data(7, n=48)
    names = ["e_recall@1", "precision@2", "map_at_r", "mrr", "c_recall@1"]
    assert_close(metrics.compute(x, labels, names, backend=backend), reference(x, labels, names))


def test_boundary_ties_and_collapsed_embeddings():
    """All points equal: every row's K-th neighbour ties with unfetched items -> exact rows."""
    x = np.zeros((25, 4), dtype=np.float32)
    labels = np.arange(25) % 6
    names = ["e_recall@1", "e_recall@2", "precision@3", "map_at_r", "r_precision"]
    assert_close(metrics.compute(x, labels, names), reference(x, labels, names))


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_mrr_beyond_the_search_depth_is_exact(backend):
    """Pairs of same-label points among 160: many first hits rank beyond the 100 fetched."""
    x, _ = random_data(8, n=160)
    labels = np.arange(160) // 2
    labels[[0, 1]] = [500, 500]
    x[1] = x[0]                                            # plus a duplicate pair
    names = ["mrr", "e_recall@1"]
    assert_close(metrics.compute(x, labels, names, backend=backend), reference(x, labels, names))


def test_neighbour_order_is_index_order_on_ties():
    from metrics.neighbours import rank_neighbours
    x = np.zeros((12, 3), dtype=np.float32)
    x[6:] = 1.0
    labels = np.zeros(12, dtype=np.int64)
    nb = rank_neighbours(x, labels, np.arange(12), np.arange(12), "euclidean", 7, keep_indices=7)
    assert nb.indices[0].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert nb.indices[8].tolist() == [6, 7, 9, 10, 11, 0, 1]


def test_categories_and_lone_queries():
    x, labels = tied_data(2)
    cats = np.where(np.arange(len(x)) % 3 == 0, "shoes", "bags")
    names = ["e_recall@1", "map_at_r"]
    got = metrics.compute(x, labels, names, categories=cats)
    assert "e_recall@1/shoes" in got and got["n_lone_queries"] >= 3
    assert_close(got, reference(x, labels, names, categories=cats))


def test_worked_example():
    x = np.array([0, 1.1, 2.3, 10, 11.7, 3.6])[:, None]
    got = metrics.compute(x, np.array([0, 0, 1, 1, 1, 0]), ["precision_at_1", "r_precision", "map_at_r"])
    assert round(got["precision_at_1"], 4) == 0.6667
    assert round(got["r_precision"], 4) == 0.4167
    assert round(got["map_at_r"], 4) == 0.3750


def test_every_query_lone_gives_nan_not_crash():
    got = metrics.compute(np.eye(4, dtype=np.float32), np.arange(4), ["e_recall@1", "map_at_r", "mrr"])
    assert got["n_lone_queries"] == 4 and np.isnan(got["e_recall@1"]) and np.isnan(got["mrr"])


@pytest.mark.parametrize("bad, message", [
    ("e_recal@1", "unknown metric"), ("e_recall", "needs an argument"), ("e_recall@0", "k must be"),
    ("nmi@3", "takes no"), ("dists@outer", "unknown metric"), ("map@x", "must be an integer")])
def test_bad_names_fail_with_one_line(bad, message):
    with pytest.raises((KeyError, ValueError)) as err:
        metrics.parse(bad)
    assert message in str(err.value) and "\n" not in str(err.value)
