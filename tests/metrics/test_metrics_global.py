"""Clustering, spectrum and class-distance metrics against references written here."""
from __future__ import annotations

import importlib
import itertools
import math

import numpy as np
import pytest
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

import metrics
from metrics.kmeans import kmeans_assign
from metrics.clustering import ami, nmi, pair_f1


def partitions(seed, n=60):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 7, n), rng.integers(0, 5, n) * 3 + 11     # arbitrary cluster ids


def reference_pair_f1(labels, clusters):
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        same_class, same_cluster = labels[i] == labels[j], clusters[i] == clusters[j]
        tp += same_class and same_cluster
        fp += same_cluster and not same_class
        fn += same_class and not same_cluster
    if tp == 0:
        return 0.0
    p, r = tp / (tp + fp), tp / (tp + fn)
    return 2 * p * r / (p + r)


def reference_ami(labels, clusters):
    """Vinh, Epps & Bailey (JMLR 2010), eq. for E[MI] under the hypergeometric model; loops."""
    n = len(labels)
    a = [int(np.sum(labels == u)) for u in np.unique(labels)]
    b = [int(np.sum(clusters == v)) for v in np.unique(clusters)]
    cells = [[int(np.sum((labels == u) & (clusters == v))) for v in np.unique(clusters)] for u in np.unique(labels)]
    mi = sum(c / n * math.log(n * c / (ai * bj)) for ai, row in zip(a, cells) for bj, c in zip(b, row) if c)
    h = lambda s: -sum(x / n * math.log(x / n) for x in s)  # noqa: E731
    lf = math.lgamma
    emi = 0.0
    for ai in a:
        for bj in b:
            for nij in range(max(1, ai + bj - n), min(ai, bj) + 1):
                log_p = (lf(ai + 1) + lf(bj + 1) + lf(n - ai + 1) + lf(n - bj + 1) - lf(n + 1) - lf(nij + 1)
                         - lf(ai - nij + 1) - lf(bj - nij + 1) - lf(n - ai - bj + nij + 1))
                emi += nij / n * math.log(n * nij / (ai * bj)) * math.exp(log_p)
    return (mi - emi) / ((h(a) + h(b)) / 2 - emi)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nmi_ami_f1_given_a_clustering(seed):
    labels, clusters = partitions(seed)
    assert nmi(labels, clusters) == pytest.approx(normalized_mutual_info_score(labels, clusters), abs=1e-12)
    assert ami(labels, clusters) == pytest.approx(adjusted_mutual_info_score(labels, clusters), abs=1e-12)
    assert ami(labels, clusters) == pytest.approx(reference_ami(labels, clusters), abs=1e-9)
    assert pair_f1(labels, clusters) == pytest.approx(reference_pair_f1(labels, clusters), abs=1e-12)


def test_degenerate_partitions():
    one = np.zeros(5, dtype=int)
    assert nmi(one, one) == 1.0 and pair_f1(np.arange(5), np.arange(5)) == 0.0
    assert pair_f1(one, one) == 1.0


def blobs(seed=0, classes=6, per=8, dim=4):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), per) * 7          # non-contiguous label values
    centres = rng.standard_normal((classes, dim)) * 20
    return (centres[labels // 7] + rng.standard_normal((len(labels), dim))).astype(np.float32), labels


def test_compute_runs_one_kmeans_per_space_with_k_labels(monkeypatch):
    engine = importlib.import_module("metrics.evidence")
    x, labels = blobs()
    calls = []

    def spy(emb, k, space, seed=0, n_iter=20, device="cpu"):
        calls.append((k, space, n_iter))
        return kmeans_assign(emb, k, space, seed, n_iter, device)
    monkeypatch.setattr(engine, "kmeans_assign", spy)
    got = metrics.compute(x, labels, ["nmi", "ami", "f1", "c_nmi", "c_ami", "c_f1"])
    assert sorted(calls) == [(6, "cosine", 20), (6, "euclidean", 20)]
    for space, prefix in (("euclidean", ""), ("cosine", "c_")):
        clusters = kmeans_assign(x, 6, space)
        assert got[prefix + "nmi"] == pytest.approx(normalized_mutual_info_score(labels, clusters), abs=1e-12)
        assert got[prefix + "f1"] == pytest.approx(reference_pair_f1(labels, clusters), abs=1e-12)
    assert got["nmi"] > 0.7


def test_kmeans_runs_all_iterations_and_is_deterministic():
    import faiss
    x, _ = blobs(1)
    a, b = kmeans_assign(x, 6, "euclidean", seed=3), kmeans_assign(x, 6, "euclidean", seed=3)
    assert (a == b).all() and len(np.unique(a)) == 6
    km = faiss.Kmeans(4, 6, niter=20, seed=3, early_stop_threshold=-1.0, min_points_per_centroid=1)
    km.train(x)
    assert len(km.obj) == 20           # the option kmeans_assign sets really disables early stopping


def reference_spectrum(x, k):
    s = sorted(np.linalg.svd(np.asarray(x, np.float64), compute_uv=False), reverse=True)
    s = s[abs(k) - 1:] if k else s
    s = [v / sum(s) for v in s]
    u = 1.0 / len(s)
    if k == 0:
        return np.array(s)
    if k > 0:
        return sum(u * math.log(u / v) for v in s)
    return sum(v * math.log(v / u) for v in s if v > 0)


def test_rho_spectrum_and_array_output():
    x = (np.random.default_rng(0).standard_normal((30, 6)) * np.arange(1, 7)).astype(np.float32)
    names = ["rho_spectrum@1", "rho_spectrum@2", "rho_spectrum@-1", "rho_spectrum@-3", "rho_spectrum@0"]
    got = metrics.compute(x, np.arange(30) % 3, names)
    for k in (1, 2, -1, -3):
        assert got[f"rho_spectrum@{k}"] == pytest.approx(reference_spectrum(x, k), abs=1e-10)
    assert "rho_spectrum@0" not in got
    np.testing.assert_allclose(got.arrays["rho_spectrum@0"], reference_spectrum(x, 0), atol=1e-12)


def reference_dists(x, labels):
    x = np.asarray(x, np.float64)
    cos_d = lambda a, b: 1 - np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))  # noqa: E731
    intra, means = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < 2:
            continue
        intra.append(np.mean([cos_d(x[i], x[j]) for i in idx for j in idx if i != j]))
        means.append(x[idx].mean(0))
    inter = np.mean([cos_d(a, b) for i, a in enumerate(means) for j, b in enumerate(means) if i != j])
    return float(np.mean(intra)), float(inter)


def test_class_distances_skip_singletons():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((25, 5)).astype(np.float32)
    labels = rng.integers(0, 5, 25)
    labels[:2] = [50, 51]                                  # singletons
    got = metrics.compute(x, labels, ["dists@intra", "dists@inter", "dists@intra_over_inter"])
    intra, inter = reference_dists(x, labels)
    assert got["dists@intra"] == pytest.approx(intra, abs=1e-10)
    assert got["dists@inter"] == pytest.approx(inter, abs=1e-10)
    assert got["dists@intra_over_inter"] == pytest.approx(intra / inter, abs=1e-10)
