"""Deterministic miners against float64 loop references."""
from __future__ import annotations

import math

import pytest
import torch

import distances
from batch_mining import MINERS
from miner_reference import single_thread  # noqa: F401  (autouse)
from miner_reference import (all_triplets64, cosine64, euclid64, make_batch, negatives_of, pair_sets,
                             positives_of, triplet_set)

X, Y = make_batch(4, 3, 8, seed=1)
LAB = Y.tolist()
D = euclid64(X)
S = cosine64(X)


def build(name, **kwargs):
    return MINERS.get(name)(**kwargs)


def test_all_triplets_and_cap():
    assert triplet_set(build("all_triplets")(X, Y)) == set(all_triplets64(LAB))
    capped = build("all_triplets", max_output_triplets=10)(X, Y)
    assert len(triplet_set(capped)) == 10 and triplet_set(capped) <= set(all_triplets64(LAB))


@pytest.mark.parametrize("name", ["batch_hard", "hard_triplets"])
def test_batch_hard(name):
    ref = {(a, max(positives_of(LAB, a), key=lambda j: D[a][j]), min(negatives_of(LAB, a), key=lambda j: D[a][j]))
           for a in range(len(LAB))}
    assert triplet_set(build(name)(X, Y)) == ref


def test_hard_triplets_normalizes():
    raw = X * torch.linspace(0.5, 3.0, len(X)).unsqueeze(1)
    assert triplet_set(build("hard_triplets", norm_required=True)(raw, Y)) == triplet_set(build("batch_hard")(X, Y))


@pytest.mark.parametrize("kind", ["all", "hard", "semihard", "easy"])
def test_triplet_margin(kind):
    margin = 0.3
    keep = {"all": lambda m: m <= margin, "hard": lambda m: m <= 0, "semihard": lambda m: 0 < m <= margin,
            "easy": lambda m: m > margin}[kind]
    ref = {(a, p, n) for a, p, n in all_triplets64(LAB) if keep(D[a][n] - D[a][p])}
    assert triplet_set(build("triplet_margin", margin=margin, type_of_triplets=kind)(X, Y)) == ref


@pytest.mark.parametrize("dist_name", ["euclidean", "cosine"])
def test_pair_margin(dist_name):
    m = build("pair_margin", pos_margin=1.0, neg_margin=1.2, distance=distances.build(dist_name))
    if dist_name == "cosine":
        m = build("pair_margin", pos_margin=0.2, neg_margin=0.0, distance=distances.build(dist_name))
    pos, neg = pair_sets(m(X, Y))
    if dist_name == "euclidean":
        ref_pos = {(a, p) for a in range(12) for p in positives_of(LAB, a) if D[a][p] > 1.0}
        ref_neg = {(a, n) for a in range(12) for n in negatives_of(LAB, a) if D[a][n] < 1.2}
    else:
        ref_pos = {(a, p) for a in range(12) for p in positives_of(LAB, a) if S[a][p] < 0.2}
        ref_neg = {(a, n) for a in range(12) for n in negatives_of(LAB, a) if S[a][n] > 0.0}
    assert (pos, neg) == (ref_pos, ref_neg) and ref_pos and ref_neg


@pytest.mark.parametrize("dist_name", ["cosine", "euclidean"])
def test_multisimilarity(dist_name):
    eps = 0.1
    pos, neg = pair_sets(build("multisimilarity", epsilon=eps, distance=distances.build(dist_name))(X, Y))
    ref_pos, ref_neg = set(), set()
    for a in range(12):
        P, N = positives_of(LAB, a), negatives_of(LAB, a)
        if dist_name == "cosine":
            ref_pos |= {(a, p) for p in P if S[a][p] < max(S[a][n] for n in N) + eps}
            ref_neg |= {(a, n) for n in N if S[a][n] > min(S[a][p] for p in P) - eps}
        else:
            ref_pos |= {(a, p) for p in P if D[a][p] > min(D[a][n] for n in N) - eps}
            ref_neg |= {(a, n) for n in N if D[a][n] < max(D[a][p] for p in P) + eps}
    assert (pos, neg) == (ref_pos, ref_neg)


def test_hdc():
    """The kept pairs are valid and their distances are the hardest ceil(f·M) (ties: d(a,b) = d(b,a))."""
    pos, neg = pair_sets(build("hdc", filter_percentage=0.3)(X, Y))
    all_pos = sorted(D[a][p] for a in range(12) for p in positives_of(LAB, a))[::-1]
    all_neg = sorted(D[a][n] for a in range(12) for n in negatives_of(LAB, a))
    assert all(LAB[a] == LAB[p] and a != p for a, p in pos) and all(LAB[a] != LAB[n] for a, n in neg)
    for got, ref in ((pos, all_pos), (neg, all_neg)):
        kept = sorted((D[a][b] for a, b in got), reverse=ref is all_pos)
        assert kept == pytest.approx(ref[: math.ceil(0.3 * len(ref))], abs=1e-6)


def test_angular():
    xs = X.double().tolist()
    ref = set()
    for a, p, n in all_triplets64(LAB):
        c = [(u + v) / 2 for u, v in zip(xs[a], xs[p])]
        nc = math.sqrt(sum((u - v) ** 2 for u, v in zip(xs[n], c)))
        if math.atan(D[a][p] / (2 * nc)) > math.radians(35):
            ref.add((a, p, n))
    assert triplet_set(build("angular", angle=35.0)(X, Y)) == ref and ref


def _ref_easy_hard(pos_s, neg_s, pos_rng, neg_rng):
    """Per-anchor choices in float64, following the strategy definitions of the docstring."""
    def pick(cands, strategy, side):
        if not cands:
            return None
        farthest = (strategy in ("hard", "semihard")) == (side == "pos")
        return (max if farthest else min)(cands, key=lambda j: cands[j])
    pos_pairs, neg_pairs = set(), set()
    for a in range(12):
        P = {p: D[a][p] for p in positives_of(LAB, a) if pos_rng is None or pos_rng[0] <= D[a][p] <= pos_rng[1]}
        N = {n: D[a][n] for n in negatives_of(LAB, a) if neg_rng is None or neg_rng[0] <= D[a][n] <= neg_rng[1]}
        if pos_s == "all":
            pos_pairs |= {(a, p) for p in P}
        if neg_s == "all":
            neg_pairs |= {(a, n) for n in N}
        if "all" in (pos_s, neg_s):
            if pos_s != "all" and (p := pick(P, pos_s, "pos")) is not None:
                pos_pairs.add((a, p))
            if neg_s != "all" and (n := pick(N, neg_s, "neg")) is not None:
                neg_pairs.add((a, n))
            continue
        if pos_s == "semihard":
            n = pick(N, neg_s, "neg")
            p = pick({j: v for j, v in P.items() if n is not None and v < N[n]}, "semihard", "pos")
        elif neg_s == "semihard":
            p = pick(P, pos_s, "pos")
            n = pick({j: v for j, v in N.items() if p is not None and v > P[p]}, "semihard", "neg")
        else:
            p, n = pick(P, pos_s, "pos"), pick(N, neg_s, "neg")
        if p is not None and n is not None:
            pos_pairs.add((a, p))
            neg_pairs.add((a, n))
    return pos_pairs, neg_pairs


@pytest.mark.parametrize("pos_s,neg_s,pos_rng,neg_rng", [
    ("easy", "semihard", None, None), ("hard", "hard", None, None), ("semihard", "easy", None, None),
    ("all", "hard", None, None), ("easy", "all", None, None), ("hard", "easy", [0.9, 1.6], [0.5, 1.3]),
])
def test_batch_easy_hard(pos_s, neg_s, pos_rng, neg_rng):
    m = build("batch_easy_hard", pos_strategy=pos_s, neg_strategy=neg_s,
              allowed_pos_range=pos_rng, allowed_neg_range=neg_rng)
    assert pair_sets(m(X, Y)) == _ref_easy_hard(pos_s, neg_s, pos_rng, neg_rng)


def test_batch_easy_hard_rejects_bad_strategies():
    with pytest.raises(ValueError):
        build("batch_easy_hard", pos_strategy="semihard", neg_strategy="semihard")
    with pytest.raises(ValueError):
        build("batch_easy_hard", pos_strategy="all", neg_strategy="semihard")


def test_hard_cluster():
    xs = X.double().tolist()
    classes = sorted(set(LAB))
    cent = {c: [sum(col) / LAB.count(c) for col in zip(*[xs[i] for i in range(12) if LAB[i] == c])] for c in classes}
    dist = lambda u, v: math.sqrt(sum((a - b) ** 2 for a, b in zip(u, v)))  # noqa: E731
    members = {c: [i for i in range(12) if LAB[i] == c] for c in classes}
    medoid = {c: min(members[c], key=lambda i: dist(xs[i], cent[c])) for c in classes}
    ref = set()
    for c in classes:
        far = max(members[c], key=lambda i: dist(xs[i], cent[c]))
        other = min((o for o in classes if o != c), key=lambda o: dist(cent[c], cent[o]))
        ref.add((medoid[c], far, medoid[other]))
    assert triplet_set(build("hard_cluster")(X, Y)) == ref


@pytest.mark.parametrize("name", ["npair", "lifted"])
def test_set_miners(name):
    anchors, pos_mask, neg_mask = build(name)(X, Y)
    assert anchors.tolist() == list(range(12))
    for row, a in enumerate(anchors.tolist()):
        assert set(torch.nonzero(neg_mask[row]).flatten().tolist()) == set(negatives_of(LAB, a))
        chosen = set(torch.nonzero(pos_mask[row]).flatten().tolist())
        if name == "lifted":
            assert chosen == set(positives_of(LAB, a))
        else:
            assert len(chosen) == 1 and chosen <= set(positives_of(LAB, a))
