"""Random miners: validity of every draw and the distribution over many draws (float64 references)."""
from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

import distances
from batch_mining import MINERS
from miner_reference import single_thread  # noqa: F401  (autouse)
from miner_reference import (all_triplets64, euclid64, make_batch, negatives_of, positives_of,
                             sphere_weights64, total_variation)

X, Y = make_batch(4, 4, 4, seed=3)
LAB = Y.tolist()
D = euclid64(X)


def draws(miner, x, y, n_calls):
    out = [miner.mine(x, y) for _ in range(n_calls)]
    return [torch.cat([t[i] for t in out]).tolist() for i in range(3)]


def test_random_is_uniform_over_valid_triplets():
    torch.manual_seed(0)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])       # unequal classes, one singleton
    ref = all_triplets64(labels.tolist())
    a, p, n = MINERS.get("random")(n_triplets=60000).mine(torch.randn(10, 4), labels)
    counts = Counter(zip(a.tolist(), p.tolist(), n.tolist()))
    assert set(counts) == set(ref)
    assert total_variation(counts, {t: 1 / len(ref) for t in ref}) < 0.04


def test_random_default_count_is_batch_size():
    assert MINERS.get("random")().mine(X, Y).anchors.numel() == len(LAB)


@pytest.mark.parametrize("squared", [False, True])
def test_semihard_window_and_uniformity(squared):
    torch.manual_seed(1)
    margin = 0.3
    miner = MINERS.get("semihard")(margin=margin, distance=distances.build("euclidean", squared=squared))
    a, p, n = draws(miner, X, Y, 400)
    dd = [[v * v for v in row] for row in D] if squared else D
    seen: dict[tuple[int, int], Counter] = {}
    for ai, pi, ni in zip(a, p, n):
        assert pi in positives_of(LAB, ai) and ni in negatives_of(LAB, ai)
        window = [j for j in negatives_of(LAB, ai) if dd[ai][pi] < dd[ai][j] < dd[ai][pi] + margin]
        assert ni in (window or negatives_of(LAB, ai))
        seen.setdefault((ai, pi), Counter())[ni] += 1
    # uniform inside the window (or over all negatives): pooled chi-like check
    tv = []
    for (ai, pi), counts in seen.items():
        window = [j for j in negatives_of(LAB, ai) if dd[ai][pi] < dd[ai][j] < dd[ai][pi] + margin]
        support = window or negatives_of(LAB, ai)
        if sum(counts.values()) >= 60:
            tv.append(total_variation(counts, {j: 1 / len(support) for j in support}))
    assert tv and max(tv) < 0.25


def test_semihard_margin_and_distance_follow_the_loss():
    import parameters
    from training.objective import select_miner
    opt = parameters.parse_args(["--batch_mining", "semihard", "--loss_margin_margin", "0.35",
                                 "--loss_distance", "cosine"])
    miner = select_miner(opt)
    assert miner.margin == 0.35 and miner.distance.is_similarity
    opt = parameters.parse_args(["--batch_mining", "semihard", "--miner_semihard_margin", "0.05",
                                 "--distance_squared"])
    miner = select_miner(opt)
    assert miner.margin == 0.05 and miner.distance.squared


def test_semihard_drops_anchors_without_positive():
    labels = torch.tensor([0, 0, 1, 2, 2, 3])
    a, p, n = MINERS.get("semihard")()(torch.randn(6, 4), labels)
    assert sorted(a.tolist()) == [0, 1, 3, 4]


def test_softhard_hard_sets_uniformly():
    torch.manual_seed(2)
    a, p, n = draws(MINERS.get("softhard")(), X, Y, 400)
    pos_counts: dict[int, Counter] = {}
    neg_counts: dict[int, Counter] = {}
    for ai, pi, ni in zip(a, p, n):
        P, N = positives_of(LAB, ai), negatives_of(LAB, ai)
        hard_p = [j for j in P if D[ai][j] > min(D[ai][k] for k in N)]
        hard_n = [j for j in N if D[ai][j] < max(D[ai][k] for k in P)]
        assert pi in (hard_p or P) and ni in (hard_n or N)
        pos_counts.setdefault(ai, Counter())[pi] += 1
        neg_counts.setdefault(ai, Counter())[ni] += 1
    for ai in pos_counts:
        P, N = positives_of(LAB, ai), negatives_of(LAB, ai)
        hard_p = [j for j in P if D[ai][j] > min(D[ai][k] for k in N)] or P
        hard_n = [j for j in N if D[ai][j] < max(D[ai][k] for k in P)] or N
        assert total_variation(pos_counts[ai], {j: 1 / len(hard_p) for j in hard_p}) < 0.15
        assert total_variation(neg_counts[ai], {j: 1 / len(hard_n) for j in hard_n}) < 0.2


def test_npair_positive_is_uniform():
    torch.manual_seed(3)
    miner = MINERS.get("npair")()
    chosen = torch.stack([miner.mine(X, Y).positive_mask.float() for _ in range(600)]).mean(0)
    for row in range(len(LAB)):
        for j in positives_of(LAB, row):
            assert abs(chosen[row, j].item() - 1 / 3) < 0.1          # 5 standard deviations


def test_distance_weighted_follows_inverse_sphere_density_with_both_cutoffs():
    torch.manual_seed(4)
    lower, upper, dim = 0.5, 1.4, X.shape[1]
    anchors_cut = [a for a in range(len(LAB)) if any(D[a][n] < lower for n in negatives_of(LAB, a))
                   and any(D[a][n] >= upper for n in negatives_of(LAB, a))]
    assert anchors_cut, "the batch must exercise both cutoffs"
    miner = MINERS.get("distance")(lower_cutoff=lower, upper_cutoff=upper)
    a, p, n = draws(miner, X, Y, 1500)
    per_anchor: dict[int, Counter] = {}
    for ai, pi, ni in zip(a, p, n):
        assert pi in positives_of(LAB, ai)
        per_anchor.setdefault(ai, Counter())[ni] += 1
    for ai, counts in per_anchor.items():
        probs = sphere_weights64(D[ai], negatives_of(LAB, ai), dim, lower, upper)
        assert all(probs[j] > 0 for j in counts), "a negative beyond the upper cutoff was drawn"
        assert total_variation(counts, probs) < 0.05


def test_distance_falls_back_to_uniform_when_all_negatives_are_far():
    x = torch.tensor([[1.0, 0, 0], [0.9, 0.1, 0], [-1.0, 0, 0], [-0.9, -0.1, 0]])
    x = torch.nn.functional.normalize(x, dim=1)
    a, p, n = MINERS.get("distance")(upper_cutoff=0.5)(x, torch.tensor([0, 0, 1, 1]))
    assert a.tolist() == [0, 1, 2, 3] and all(v in (2, 3) for v in n[:2].tolist())


def test_rho_distance_flips_with_probability_cp():
    torch.manual_seed(5)
    miner = MINERS.get("rho_distance")(cp=0.4)
    flips, total = 0, 0
    for _ in range(200):
        a, p, n = miner(X, Y)
        flipped = a == p
        assert all(LAB[i] == LAB[j] for i, j in zip(a[flipped].tolist(), n[flipped].tolist()))
        assert all(LAB[i] != LAB[j] for i, j in zip(a[~flipped].tolist(), n[~flipped].tolist()))
        assert miner.stats["miner_rho_flip_frac"] == pytest.approx(flipped.float().mean().item())
        flips, total = flips + int(flipped.sum()), total + a.numel()
    assert abs(flips / total - 0.4) < 0.04


def test_random_distance_ignores_labels():
    torch.manual_seed(6)
    a, p, n = draws(MINERS.get("random_distance")(), X, Y, 300)
    same = sum(LAB[i] == LAB[j] for i, j in zip(a, p)) / len(a)
    assert abs(same - 3 / 15) < 0.05                      # chance level: 3 of 15 others share the class


def test_intra_random_same_class_uniform_classes():
    torch.manual_seed(7)
    labels = torch.tensor([0, 0, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3])
    a, p, n = MINERS.get("intra_random")(n_triplets=30000).mine(torch.randn(12, 4), labels)
    lab = labels.tolist()
    assert all(lab[i] == lab[j] == lab[k] and i != j and i != k for i, j, k in zip(a.tolist(), p.tolist(), n.tolist()))
    classes = Counter(lab[i] for i in a.tolist())
    assert set(classes) == {0, 1, 3}
    assert total_variation(classes, {0: 1 / 3, 1: 1 / 3, 3: 1 / 3}) < 0.02


def _parametric_reference(d_row, negs, mode, n_support, lim):
    edges = [lim[0] + (lim[1] - lim[0]) * i / (n_support - 1) for i in range(n_support)]
    centres = [(edges[i] + edges[i + 1]) / 2 for i in range(n_support - 1)]
    lo, hi = {"uniform": (-9, 9), "hards": (-9, 0.5), "semihards": (0.3, 0.7), "veryhards": (-9, 0.3)}[mode]
    pi = [1.0 if lo <= c <= hi else 1e-15 for c in centres]
    inside = [j for j in negs if lim[0] <= d_row[j] <= lim[1]]
    if not inside:
        return {j: 1 / len(negs) for j in negs}
    bin_of = {j: min(sum(d_row[j] > e for e in edges[1:-1]), n_support - 2) for j in inside}
    occupied = Counter(bin_of.values())
    z = sum(pi[k] for k in occupied)
    return {j: (pi[bin_of[j]] / z / occupied[bin_of[j]] if j in bin_of else 0.0) for j in negs}


@pytest.mark.parametrize("mode", ["uniform", "hards", "semihards", "veryhards"])
def test_parametric_follows_bin_distribution(mode):
    torch.manual_seed(8)
    x, y = make_batch(3, 4, 3, seed=11)                     # 3-d: distances spread over (0, 2)
    lab, d = y.tolist(), euclid64(x)
    miner = MINERS.get("parametric")(mode=mode, n_support=8, support_lim=[0.1, 1.9])
    a, p, n = draws(miner, x, y, 1200)
    per_anchor: dict[int, Counter] = {}
    for ai, pi, ni in zip(a, p, n):
        assert pi in positives_of(lab, ai) and ni in negatives_of(lab, ai)
        per_anchor.setdefault(ai, Counter())[ni] += 1
    for ai, counts in per_anchor.items():
        probs = _parametric_reference(d[ai], negatives_of(lab, ai), mode, 8, [0.1, 1.9])
        assert total_variation(counts, probs) < 0.06


def test_parametric_builds_from_flags():
    import parameters
    from training.objective import select_miner
    opt = parameters.parse_args(["--batch_mining", "parametric", "--miner_parametric_mode", "hards",
                                 "--miner_parametric_n_support", "12", "--miner_parametric_support_lim", "0.2", "1.6"])
    miner = select_miner(opt)
    assert (miner.mode, miner.n_support, miner.support_lim) == ("hards", 12, [0.2, 1.6])
    assert math.isclose(float(miner.bin_probs.sum()), 1.0, rel_tol=1e-5)


def test_uniform_histogram_draws_per_bin():
    torch.manual_seed(9)
    miner = MINERS.get("uniform_histogram")(num_bins=5, pos_per_bin=3, neg_per_bin=4)
    a1, p, a2, n = miner(X, Y)
    for (rows, cols, per_bin, same) in ((a1, p, 3, True), (a2, n, 4, False)):
        pairs = [(i, j) for i in range(len(LAB)) for j in range(len(LAB)) if i != j and (LAB[i] == LAB[j]) == same]
        vals = [D[i][j] for i, j in pairs]
        lo, hi = min(vals), max(vals)
        bin_of = lambda v: min(int((v - lo) / (hi - lo) * 5), 4)  # noqa: E731
        occupied = Counter(bin_of(v) for v in vals)
        got = Counter(bin_of(D[i][j]) for i, j in zip(rows.tolist(), cols.tolist()))
        assert all((LAB[i] == LAB[j]) == same and i != j for i, j in zip(rows.tolist(), cols.tolist()))
        assert got == Counter({k: per_bin for k in occupied})


def test_random_distance_reads_the_distance_miner_cutoffs_like_the_old_tool():
    import parameters
    from training.objective import select_miner
    miner = select_miner(parameters.parse_args(
        ["--batch_mining", "random_distance", "--miner_distance_lower_cutoff", "0.3"]))
    assert (miner.lower_cutoff, miner.upper_cutoff) == (0.3, 1.4)
    miner = select_miner(parameters.parse_args(
        ["--batch_mining", "random_distance", "--miner_random_distance_upper_cutoff", "1.2"]))
    assert (miner.lower_cutoff, miner.upper_cutoff) == (0.5, 1.2)
