"""Losses that take sets (``"sets"`` in ``takes``) against float64 loops over the sets.

The sets come from the ``npair`` and ``lifted`` miners (as in the Revisiting-DML tool, where npair
and angular require the npair miner and lifted the lifted miner) or are restricted by hand.
"""
from __future__ import annotations

import math

import pytest
import torch

import batch_mining
import criteria
import distances
from tests.criteria import revisiting_loop_refs as refs
from tests.criteria.revisiting_loop_refs import MEASURES, batch, mean, mean_norm
from utilities.tuples import TupleSets

SET_LOSSES = ["npair", "angular", "lifted", "multisimilarity"]
SEEDS = [0, 1]


def make(name: str, distance: str | None = None, **kwargs) -> criteria.base.BaseLoss:
    if distance is not None:
        kwargs["distance"] = distances.build(distance)
    return criteria.LOSSES.get(name)(**kwargs)


def value(loss, x, labels, tuples=None) -> float:
    return float(loss(x, labels, tuples).detach())


def rows_of(sets: TupleSets) -> list[tuple[int, list[int], list[int]]]:
    """The sets as plain ``(anchor, positives, negatives)`` rows."""
    out = []
    for a, pos, neg in zip(sets.anchors.tolist(), sets.positive_mask.tolist(), sets.negative_mask.tolist()):
        out.append((a, [j for j, m in enumerate(pos) if m], [j for j, m in enumerate(neg) if m]))
    return out


def mined(name: str, x: torch.Tensor, labels: torch.Tensor, seed: int = 0) -> TupleSets:
    torch.manual_seed(seed)
    return batch_mining.MINERS.get(name)()(x, labels)


def restricted(sets: TupleSets) -> TupleSets:
    """Every other row, and each row's first negative dropped: sets no miner gives."""
    keep = torch.arange(0, sets.anchors.numel(), 2)
    neg = sets.negative_mask[keep].clone()
    first = neg.float().argmax(1)
    neg[torch.arange(keep.numel()), first] = False
    return TupleSets(sets.anchors[keep], sets.positive_mask[keep], neg)


def sohn_batch(labels: torch.Tensor) -> TupleSets:
    """Sohn's n-pair batch: the first two items of each class as a pair (a, p), contrasted with
    the other pairs' positives (every used column but its own positive is a negative)."""
    pairs = [torch.nonzero(labels == c).flatten()[:2].tolist() for c in labels.unique().tolist()]
    pairs = [pair for pair in pairs if len(pair) == 2]
    n = labels.numel()
    pos = torch.zeros(len(pairs), n, dtype=torch.bool)
    neg = pos.clone()
    for k, (_, p) in enumerate(pairs):
        pos[k, p] = True
        neg[[j for j in range(len(pairs)) if j != k], p] = True
    return TupleSets(torch.tensor([a for a, _ in pairs]), pos, neg)


# ---------------------------------------------------------------- loops over the sets' anchors
def ref_npair(x, sets, measure, l2):
    f, _ = MEASURES[measure]
    vals = [refs.log1p_sum_exp([f(x, a, n) - f(x, a, p) for n in neg])
            for a, pos, neg in rows_of(sets) if neg for p in pos]
    return mean(vals) + l2 * mean_norm(x)


def ref_angular(x, sets, alpha, lam, l2):
    t2 = math.tan(math.radians(alpha)) ** 2
    npair, ang = [], []
    for a, pos, neg in rows_of(sets):
        for p in pos if neg else []:
            npair.append(refs.log1p_sum_exp([refs.dot(x, a, n) - refs.dot(x, a, p) for n in neg]))
            ang.append(refs.log1p_sum_exp([4 * t2 * (refs.cos(x, a, n) + refs.cos(x, p, n))
                                           - 2 * (1 + t2) * refs.cos(x, a, p) for n in neg]))
    return mean(npair) + lam * mean(ang) + l2 * mean_norm(x)


def ref_lifted(x, sets, margin, l2):
    vals = [max(0.0, refs.log_sum_exp([refs.euclid(x, a, p) for p in pos])
                + refs.log_sum_exp([margin - refs.euclid(x, a, n) for n in neg]))
            for a, pos, neg in rows_of(sets) if pos and neg]
    return mean(vals) + l2 * mean_norm(x)


def ref_multisimilarity(x, sets, alpha, beta, eps, lam):
    pos_l, neg_l = [], []
    for a, pos, neg in rows_of(sets):
        ps, ns = [refs.cos(x, a, p) for p in pos], [refs.cos(x, a, n) for n in neg]
        if not ps or not ns:
            continue
        kept_neg = [s for s in ns if s + eps > min(ps)]
        kept_pos = [s for s in ps if s - eps < max(ns)]
        if kept_neg and kept_pos:
            pos_l.append(refs.log1p_sum_exp([-alpha * (s - lam) for s in kept_pos]) / alpha)
            neg_l.append(refs.log1p_sum_exp([beta * (s - lam) for s in kept_neg]) / beta)
    return mean(pos_l) + mean(neg_l)


CASES = {  # loss -> (loss built, reference of (x, sets))
    "npair": (lambda: make("npair", "dot", l2=0.01), lambda x, s: ref_npair(x, s, "dot", 0.01)),
    "angular": (lambda: make("angular", alpha=40.0, npair_ang_weight=2.0, npair_l2=0.01),
                lambda x, s: ref_angular(x, s, 40.0, 2.0, 0.01)),
    "lifted": (lambda: make("lifted", "euclidean", neg_margin=1.0, l2=0.01),
               lambda x, s: ref_lifted(x, s, 1.0, 0.01)),
    "multisimilarity": (lambda: make("multisimilarity", "cosine"),
                        lambda x, s: ref_multisimilarity(x, s, 2.0, 40.0, 0.1, 0.5)),
}


def test_set_losses_declare_sets():
    taking = {name for name in criteria.names() if "sets" in criteria.LOSSES.get(name).takes}
    assert taking == set(SET_LOSSES)
    # the Revisiting-DML tool's npair, angular and lifted losses required its npair / lifted miner
    assert {name: criteria.LOSSES.get(name).default_miner for name in SET_LOSSES} == {
        "npair": "npair", "angular": "npair", "lifted": "lifted", "multisimilarity": None}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", SET_LOSSES)
@pytest.mark.parametrize("miner", ["npair", "lifted", "restricted", "sohn"])
def test_given_sets_match_loop_over_their_anchors(name, miner, seed):
    x, labels = batch(seed)
    if miner in ("restricted", "sohn"):
        sets = restricted(mined("lifted", x, labels)) if miner == "restricted" else sohn_batch(labels)
    else:
        sets = mined(miner, x, labels, seed)
    build, reference = CASES[name]
    assert value(build(), x, labels, sets) == pytest.approx(reference(x, sets), rel=1e-9)


@pytest.mark.parametrize("name", SET_LOSSES)
def test_lifted_miner_gives_the_whole_batch_and_npair_miner_restricts_it(name):
    x, labels = batch(2)
    build, _ = CASES[name]
    loss = build()
    whole = value(loss, x, labels)
    assert value(loss, x, labels, mined("lifted", x, labels)) == pytest.approx(whole, rel=1e-12)
    # classes of 3+ give an anchor several positives, of which the npair miner keeps one
    assert value(loss, x, labels, mined("npair", x, labels)) != pytest.approx(whole, rel=1e-6)
    assert value(loss, x, labels, restricted(mined("lifted", x, labels))) != pytest.approx(whole, rel=1e-6)


@pytest.mark.parametrize("name", SET_LOSSES)
def test_sets_as_plain_tuple_and_empty_sets(name):
    x, labels = batch(0)
    build, _ = CASES[name]
    sets = mined("npair", x, labels)
    assert value(build(), x, labels, tuple(sets)) == value(build(), x, labels, sets)
    emb = x.clone().requires_grad_(True)
    singletons = torch.arange(labels.numel())
    loss = build()(emb, singletons, mined("lifted", emb, singletons))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(emb.grad).all()
    extra = {"npair": 0.01, "angular": 0.01, "lifted": 0.01}.get(name, 0.0)
    assert float(loss.detach()) == pytest.approx(extra * mean_norm(x), abs=1e-12)  # only the l2 term


@pytest.mark.parametrize("name", ["npair", "angular"])
@pytest.mark.parametrize("sets_of", ["npair", "sohn"])
def test_npair_and_angular_gradients_match_finite_differences(name, sets_of):
    # "sohn" takes the unmasked cross entropy, "npair" (the miner's sets) the masked one
    x, labels = batch(1, dim=4)
    sets = sohn_batch(labels) if sets_of == "sohn" else mined("npair", x, labels)
    loss = CASES[name][0]()
    assert torch.autograd.gradcheck(lambda emb: loss(emb, labels, sets), (x.clone().requires_grad_(True),))
