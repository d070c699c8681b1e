"""The margin loss against a float64 loop reference (triplets from the distance miner)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from batch_mining.distance import DistanceWeightedMiner
from criteria.margin import MarginLoss


def margin_reference(emb, labels, triplets, beta, margin, nu):
    emb = emb.double()
    terms = []
    for a, p, n in zip(*[t.tolist() for t in triplets]):
        b = float(beta[labels[a]])
        d_ap = math.dist(emb[a].tolist(), emb[p].tolist())
        d_an = math.dist(emb[a].tolist(), emb[n].tolist())
        terms += [max(0.0, margin + d_ap - b), max(0.0, margin - d_an + b)]
    active = sum(t > 0 for t in terms)
    loss = sum(terms) / max(active, 1)
    if nu:
        loss += nu * sum(float(beta[labels[a]]) for a in triplets[0].tolist()) / len(triplets[0])
    return loss


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("nu", [0.0, 0.1])
def test_margin_matches_loop_reference(seed, nu):
    g = torch.Generator().manual_seed(seed)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    emb = F.normalize(torch.randn(10, 6, generator=g, dtype=torch.float64), dim=1)
    loss_fn = MarginLoss(n_classes=4, margin=0.2, beta=1.0, nu=nu).double()
    with torch.no_grad():
        loss_fn.beta.copy_(torch.rand(4, generator=g, dtype=torch.float64) + 0.6)
    triplets = DistanceWeightedMiner()(emb, labels)
    got = loss_fn(emb, labels, triplets)
    want = margin_reference(emb, labels, triplets, loss_fn.beta.detach(), 0.2, nu)
    assert got.item() == pytest.approx(want, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_shared_beta_matches_the_loop_reference(seed):
    """``beta_per_class false``: one learned boundary for every class (the Reality Check's "Margin")."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    emb = F.normalize(torch.randn(10, 6, generator=g, dtype=torch.float64), dim=1)
    loss_fn = MarginLoss(n_classes=4, margin=0.2, beta=0.9, nu=0.1, beta_per_class=False).double()
    assert loss_fn.beta.shape == (1,)
    triplets = DistanceWeightedMiner()(emb, labels)
    got = loss_fn(emb, labels, triplets)
    want = margin_reference(emb, labels, triplets, [float(loss_fn.beta.detach())] * 4, 0.2, 0.1)
    assert got.item() == pytest.approx(want, rel=1e-9, abs=1e-9)
    got.backward()
    assert loss_fn.beta.grad.shape == (1,) and loss_fn.beta.grad.abs().item() > 0


def test_margin_beta_gets_its_own_lr_and_gradient():
    loss_fn = MarginLoss(n_classes=3, beta_lr=0.01)
    (group,) = loss_fn.param_groups()
    assert group["lr"] == 0.01 and group["params"][0] is loss_fn.beta
    emb = F.normalize(torch.randn(6, 4), dim=1).requires_grad_()
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    loss_fn(emb, labels).backward()
    assert loss_fn.beta.grad is not None and emb.grad is not None
    assert MarginLoss(n_classes=3, beta_constant=True).param_groups() == []


@pytest.mark.parametrize("labels", [[0, 0, 0, 0], [0, 1, 2, 3], [0, 1]], ids=["one_class", "singletons", "two"])
def test_degenerate_batches_give_connected_finite_zero(labels):
    labels = torch.tensor(labels)
    emb = F.normalize(torch.randn(len(labels), 4), dim=1).requires_grad_()
    loss_fn = MarginLoss(n_classes=4)
    triplets = DistanceWeightedMiner()(emb, labels)
    assert all(t.numel() == 0 for t in triplets)
    loss = loss_fn(emb, labels, triplets)
    loss.backward()
    assert torch.isfinite(loss) and loss.item() == 0.0 and torch.isfinite(emb.grad).all()
