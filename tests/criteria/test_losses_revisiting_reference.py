"""Revisiting-DML losses against float64 loop references (tests/criteria/revisiting_loop_refs.py)."""
from __future__ import annotations

import math

import pytest
import torch

import criteria
from criteria.quadruplet import sample_other_class
from tests.criteria import revisiting_loop_refs as refs
from tests.criteria.revisiting_loop_refs import MEASURES, batch, gap, mean, mean_norm, neg_pairs, pos_pairs, triplets
from utilities.tuples import all_pairs, all_triplets

SEEDS = [0, 1, 2]
MY_LOSSES = ["triplet", "contrastive", "snr", "quadruplet", "npair", "angular", "lifted",
             "multisimilarity", "histogram", "margin"]


def make(name: str, distance: str | None = None, **kwargs) -> criteria.base.BaseLoss:
    import distances
    cls = criteria.LOSSES.get(name)
    if name == "margin":
        kwargs.setdefault("n_classes", 8)
    if distance is not None:
        kwargs["distance"] = distances.build(distance)
    return cls(**kwargs)


def value(loss, x, labels, tuples=None) -> float:
    return float(loss(x, labels, tuples).detach())


# ---------------------------------------------------------------- references
def ref_triplet(x, labels, measure, margin):
    f, sim = MEASURES[measure]
    return mean([max(0.0, gap(sim, f(x, a, p), f(x, a, n)) + margin) for a, p, n in triplets(labels)])


def ref_contrastive(x, labels, measure, pos_m, neg_m):
    f, sim = MEASURES[measure]
    pos = [max(0.0, gap(sim, f(x, a, p), pos_m)) for a, p in pos_pairs(labels)]
    neg = [max(0.0, gap(sim, neg_m, f(x, a, n))) for a, n in neg_pairs(labels)]
    return mean(pos) + mean(neg)


def ref_snr(x, labels, margin, lam):
    vals = [max(0.0, refs.snr(x, a, p) - refs.snr(x, a, n) + margin) for a, p, n in triplets(labels)]
    active = [v for v in vals if v > 0]
    reg = mean([abs(float(x[a].sum())) for a, _, _ in triplets(labels)])
    return (sum(active) / len(active) if active else 0.0) + lam * reg


def ref_npair(x, labels, measure, l2):
    f, _ = MEASURES[measure]
    lab = labels.tolist()
    vals = [refs.log1p_sum_exp([f(x, a, n) - f(x, a, p) for n in range(len(lab)) if lab[n] != lab[a]])
            for a, p in pos_pairs(labels)]
    return mean(vals) + l2 * mean_norm(x)


def ref_angular(x, labels, alpha, lam, l2):
    t2 = math.tan(math.radians(alpha)) ** 2
    lab = labels.tolist()
    npair, ang = [], []
    for a, p in pos_pairs(labels):
        negs = [n for n in range(len(lab)) if lab[n] != lab[a]]
        npair.append(refs.log1p_sum_exp([refs.dot(x, a, n) - refs.dot(x, a, p) for n in negs]))
        ang.append(refs.log1p_sum_exp([4 * t2 * (refs.cos(x, a, n) + refs.cos(x, p, n))
                                       - 2 * (1 + t2) * refs.cos(x, a, p) for n in negs]))
    return mean(npair) + lam * mean(ang) + l2 * mean_norm(x)


def ref_lifted(x, labels, measure, margin, l2):
    f, sim = MEASURES[measure]
    lab = labels.tolist()
    vals = []
    for a in range(len(lab)):
        pos = [p for p in range(len(lab)) if p != a and lab[p] == lab[a]]
        neg = [n for n in range(len(lab)) if lab[n] != lab[a]]
        if pos and neg:
            vals.append(max(0.0, refs.log_sum_exp([gap(sim, f(x, a, p), 0.0) for p in pos])
                            + refs.log_sum_exp([gap(sim, margin, f(x, a, n)) for n in neg])))
    return mean(vals) + l2 * mean_norm(x)


def ref_multisimilarity(x, labels, measure, alpha, beta, eps, lam):
    f, _ = MEASURES[measure]
    lab = labels.tolist()
    pos_l, neg_l = [], []
    for a in range(len(lab)):
        pos = [f(x, a, p) for p in range(len(lab)) if p != a and lab[p] == lab[a]]
        neg = [f(x, a, n) for n in range(len(lab)) if lab[n] != lab[a]]
        if not pos or not neg:
            continue
        kept_neg = [s for s in neg if s + eps > min(pos)]
        kept_pos = [s for s in pos if s - eps < max(neg)]
        if not kept_neg or not kept_pos:
            continue
        pos_l.append(refs.log1p_sum_exp([-alpha * (s - lam) for s in kept_pos]) / alpha)
        neg_l.append(refs.log1p_sum_exp([beta * (s - lam) for s in kept_neg]) / beta)
    return mean(pos_l) + mean(neg_l)


def ref_histogram(x, labels, nbins):
    step = 2.0 / (nbins - 1)
    nodes = [-1.0 + r * step for r in range(nbins)]

    def hist(sims):
        return [sum(max(0.0, 1.0 - abs(s - t) / step) for s in sims) / len(sims) for t in nodes]
    h_pos = hist([refs.cos(x, a, p) for a, p in pos_pairs(labels)])
    h_neg = hist([refs.cos(x, a, n) for a, n in neg_pairs(labels)])
    return sum(h_neg[r] * sum(h_pos[:r + 1]) for r in range(nbins))


def ref_margin(x, labels, measure, margin, beta):
    f, sim = MEASURES[measure]
    terms = []
    for a, p, n in triplets(labels):
        terms += [max(0.0, margin + gap(sim, f(x, a, p), beta)), max(0.0, margin + gap(sim, beta, f(x, a, n)))]
    active = [t for t in terms if t > 0]
    return sum(active) / len(active) if active else 0.0


# ---------------------------------------------------------------- value tests
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure", [None, "euclidean", "cosine"])
def test_triplet_matches_reference(seed, measure):
    x, labels = batch(seed)
    got = value(make("triplet", measure, margin=0.3), x, labels)
    measure = measure or "squared_euclidean"                 # the default, as in the old tool
    assert got == pytest.approx(ref_triplet(x, labels, measure, 0.3), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure,pos_m,neg_m", [("euclidean", 0.5, 3.0), ("cosine", 0.6, 0.1)])
def test_contrastive_matches_reference(seed, measure, pos_m, neg_m):
    x, labels = batch(seed)
    got = value(make("contrastive", measure, pos_margin=pos_m, neg_margin=neg_m), x, labels)
    assert got == pytest.approx(ref_contrastive(x, labels, measure, pos_m, neg_m), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_snr_matches_reference(seed):
    x, labels = batch(seed)
    got = value(make("snr", margin=0.2, reg_lambda=0.05), x, labels)
    assert got == pytest.approx(ref_snr(x, labels, 0.2, 0.05), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure", ["euclidean", "cosine"])
def test_quadruplet_matches_reference(seed, measure):
    x, labels = batch(seed)
    loss = make("quadruplet", measure, margin_alpha_1=0.3, margin_alpha_2=0.1)
    torch.manual_seed(seed)
    got = value(loss, x, labels)
    torch.manual_seed(seed)
    a, p, n = all_triplets(labels)
    fourth = sample_other_class(labels, a, n).tolist()
    f, sim = MEASURES[measure]
    trip, quad = [], []
    for (ai, pi, ni), qi in zip(zip(a.tolist(), p.tolist(), n.tolist()), fourth):
        trip.append(max(0.0, gap(sim, f(x, ai, pi), f(x, ai, ni)) + 0.3))
        assert labels[qi] != labels[ai] and labels[qi] != labels[ni]      # the fixed defect
        quad.append(max(0.0, gap(sim, f(x, ai, pi), f(x, ni, qi)) + 0.1))
    assert got == pytest.approx(mean(trip) + mean(quad), rel=1e-9)


def test_quadruplet_fourth_is_uniform_over_other_classes():
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 3, 3])
    first, second = torch.zeros(4000, dtype=torch.long), torch.full((4000,), 2)
    torch.manual_seed(0)
    picks = sample_other_class(labels, first, second)
    assert set(picks.tolist()) == {5, 6, 7}
    counts = torch.bincount(picks, minlength=8)[5:].double()
    assert (counts / counts.sum() - 1 / 3).abs().max() < 0.05
    two_classes = torch.tensor([0, 0, 1, 1])
    assert sample_other_class(two_classes, torch.tensor([0]), torch.tensor([2])).tolist() == [-1]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure", ["dot", "cosine"])
def test_npair_matches_reference(seed, measure):
    x, labels = batch(seed)
    got = value(make("npair", measure, l2=0.01), x, labels)
    assert got == pytest.approx(ref_npair(x, labels, measure, 0.01), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_angular_matches_reference(seed):
    x, labels = batch(seed)
    got = value(make("angular", alpha=40.0, npair_ang_weight=2.0, npair_l2=0.01), x, labels)
    assert got == pytest.approx(ref_angular(x, labels, 40.0, 2.0, 0.01), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure", ["euclidean", "cosine"])
def test_lifted_matches_reference(seed, measure):
    x, labels = batch(seed)
    got = value(make("lifted", measure, neg_margin=1.0, l2=0.01), x, labels)
    assert got == pytest.approx(ref_lifted(x, labels, measure, 1.0, 0.01), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure", ["cosine", "dot"])
def test_multisimilarity_matches_reference(seed, measure):
    x, labels = batch(seed)
    x = x * 0.4 if measure == "dot" else x
    got = value(make("multisimilarity", measure), x, labels)
    assert got == pytest.approx(ref_multisimilarity(x, labels, measure, 2.0, 40.0, 0.1, 0.5), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_histogram_matches_reference(seed):
    x, labels = batch(seed)
    got = value(make("histogram", nbins=17), x, labels)
    assert got == pytest.approx(ref_histogram(x, labels, 17), rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("measure,beta", [("euclidean", 1.2), ("cosine", 0.3)])
def test_margin_matches_reference(seed, measure, beta):
    x, labels = batch(seed)
    loss = make("margin", measure, margin=0.2, beta=beta)
    beta = float(loss.beta.detach()[0])                  # the float32 parameter's value
    assert value(loss, x, labels) == pytest.approx(ref_margin(x, labels, measure, 0.2, beta), rel=1e-9)


def test_revisiting_defaults_kept():
    import parameters
    opt = parameters.parse_args(["--loss", "triplet"])
    expected = {"loss_contrastive_pos_margin": 0, "loss_contrastive_neg_margin": 1, "loss_triplet_margin": 0.2,
                "loss_npair_l2": 0.005, "loss_angular_alpha": 45, "loss_angular_npair_ang_weight": 2,
                "loss_angular_npair_l2": 0.005, "loss_multisimilarity_pos_weight": 2,
                "loss_multisimilarity_neg_weight": 40, "loss_multisimilarity_margin": 0.1,
                "loss_multisimilarity_thresh": 0.5, "loss_lifted_neg_margin": 1, "loss_lifted_l2": 0.005,
                "loss_quadruplet_margin_alpha_1": 0.2, "loss_quadruplet_margin_alpha_2": 0.2,
                "loss_histogram_nbins": 65, "loss_snr_margin": 0.2, "loss_snr_reg_lambda": 0.005,
                "loss_margin_margin": 0.2, "loss_margin_beta": 1.2, "loss_margin_beta_lr": 0.0005,
                "loss_margin_nu": 0, "loss_margin_beta_constant": False}
    assert {k: getattr(opt, k) for k in expected} == expected


# ---------------------------------------------------------------- robustness
DEGENERATE = {"one_class": [0, 0, 0, 0], "singletons": [0, 1, 2, 3], "two_same": [0, 0], "two_diff": [0, 1],
              "two_classes": [0, 0, 1, 1]}


@pytest.mark.parametrize("name", MY_LOSSES)
def test_degenerate_batches_finite(name):
    for labels in DEGENERATE.values():
        labels = torch.tensor(labels)
        x = torch.randn(labels.numel(), 5, dtype=torch.float64, requires_grad=True)
        loss = make(name)
        out = loss(x, labels)
        assert out.dim() == 0 and torch.isfinite(out), (name, labels)
        out.backward()
        assert x.grad is not None and torch.isfinite(x.grad).all(), (name, labels)


@pytest.mark.parametrize("name", MY_LOSSES)
def test_coincident_points_no_nan(name):
    labels = torch.tensor([0, 0, 1, 1, 2])
    x = torch.ones(5, 4, dtype=torch.float64).cumsum(1).requires_grad_(True)
    out = make(name)(x, labels)
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(x.grad).all()


def test_snr_no_active_triplet_is_zero_not_nan():
    labels = torch.tensor([0, 0, 1, 1])
    x = torch.tensor([[1.0, 2, 3, 4], [1.01, 2, 3, 4], [-3.0, 1, -2, 5], [-3.0, 1.01, -2, 5]], requires_grad=True)
    out = make("snr", margin=0.0, reg_lambda=0.0)(x, labels)
    out.backward()
    assert float(out.detach()) == 0.0 and torch.isfinite(x.grad).all()


def test_multisimilarity_no_surviving_anchor_connected_zero():
    labels = torch.tensor([0, 0, 1, 1])
    x = torch.tensor([[1.0, 0], [1.0, 0.01], [-1.0, 0], [-1.0, 0.01]], requires_grad=True)
    out = make("multisimilarity")(x, labels)
    assert float(out.detach()) == 0.0 and out.requires_grad
    out.backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", MY_LOSSES)
def test_precisions_finite(name):
    x, labels = batch(0, dim=8)
    for dtype in (torch.float64, torch.float32):
        emb = x.detach().to(dtype).clone().requires_grad_(True)
        out = make(name)(emb, labels)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(emb.grad).all(), dtype
    emb = x.detach().float().clone().requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = make(name)(emb, labels)
    out.float().backward()
    assert torch.isfinite(out) and torch.isfinite(emb.grad).all()


TUPLE_FORMS = {"triplet": "triplets", "snr": "triplets", "quadruplet": "triplets", "margin": "triplets",
               "contrastive": "pairs", "npair": "both", "angular": "both", "lifted": "both",
               "multisimilarity": "both", "histogram": "pairs"}   # triplets omit a singleton's negatives


@pytest.mark.parametrize("name", MY_LOSSES)
def test_given_tuples_equal_internal_mining(name):
    x, labels = batch(1)
    loss = make(name)
    torch.manual_seed(0)
    internal = value(loss, x, labels)
    forms = {"triplets": [all_triplets(labels)], "pairs": [all_pairs(labels)],
             "both": [all_triplets(labels), all_pairs(labels)]}[TUPLE_FORMS[name]]
    for tuples in forms:
        torch.manual_seed(0)
        assert value(loss, x, labels, tuples) == pytest.approx(internal, rel=1e-9), len(tuples)


def test_contrastive_counts_each_pair_of_mined_triplets_once():
    """Triplets reach a pair loss as the set of pairs they name (``utilities.tuples.triplets_to_pairs``,
    the one conversion): a positive pair shared by several triplets is not weighted up."""
    x, labels = batch(3)
    t = all_triplets(labels)
    repeated = tuple(torch.cat([c, c[:1].repeat(5)]) for c in t)      # the first triplet mined six times
    loss = make("contrastive", "euclidean", pos_margin=0.5, neg_margin=3.0)
    assert value(loss, x, labels, repeated) == pytest.approx(value(loss, x, labels, t), rel=1e-12)


def test_given_subset_restricts_the_loss():
    x, labels = batch(2)
    t = all_triplets(labels)
    keep = torch.arange(0, t.anchors.numel(), 3)
    subset = tuple(c[keep] for c in t)
    got = value(make("triplet", "euclidean", margin=0.3), x, labels, subset)
    want = mean([max(0.0, refs.euclid(x, a, p) - refs.euclid(x, a, n) + 0.3)
                 for a, p, n in zip(*(c.tolist() for c in subset))])
    assert got == pytest.approx(want, rel=1e-9)


def test_every_loss_declares_its_composition():
    for name in MY_LOSSES:
        cls = criteria.LOSSES.get(name)
        assert cls.takes, name
        assert "Parameters" in cls.__doc__ and "Formula" in cls.__doc__ or name in ("margin", "multisimilarity")
        assert cls.term_names
