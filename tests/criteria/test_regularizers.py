"""Regularizers against their definitions."""
from __future__ import annotations

import math

import pytest
import torch

from criteria.regularizers import EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS
from tests.criteria import revisiting_loop_refs as refs

W = torch.randn(6, 4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)


def test_lp():
    got = float(EMBEDDING_REGULARIZERS.get("lp")(p=3.0, power=2.0)(W))
    want = sum(sum(abs(float(c)) ** 3 for c in row) ** (2 / 3) for row in W) / len(W)
    assert got == pytest.approx(want)
    assert WEIGHT_REGULARIZERS.get("lp") is EMBEDDING_REGULARIZERS.get("lp")


def test_zero_mean():
    want = sum(abs(float(row.sum())) for row in W) / len(W)
    assert float(EMBEDDING_REGULARIZERS.get("zero_mean")()(W)) == pytest.approx(want)


def test_center_invariant():
    sq = [refs.norm(row) ** 2 for row in W]
    m = sum(sq) / len(sq)
    want = sum((s - m) ** 2 for s in sq) / len(sq) / 4
    assert float(WEIGHT_REGULARIZERS.get("center_invariant")()(W)) == pytest.approx(want)


def test_regularface():
    n = len(W)
    want = sum(max(refs.cos(W, i, j) for j in range(n) if j != i) for i in range(n)) / n
    assert float(WEIGHT_REGULARIZERS.get("regularface")()(W)) == pytest.approx(want)


def test_sparse_centers():
    k, c = 3, 2
    total = 0.0
    for cls in range(c):
        for t in range(k):
            for s in range(t + 1, k):
                total += math.sqrt(2 + 1e-5 - 2 * refs.cos(W, cls * k + t, cls * k + s))
    want = total / (c * k * (k - 1))
    assert float(WEIGHT_REGULARIZERS.get("sparse_centers")(centers_per_class=k)(W)) == pytest.approx(want)
    assert float(WEIGHT_REGULARIZERS.get("sparse_centers")(centers_per_class=1)(W)) == 0.0
    with pytest.raises(ValueError):
        WEIGHT_REGULARIZERS.get("sparse_centers")(centers_per_class=4)(W)


def test_gradients_finite_and_added_by_the_loss():
    import criteria
    x = torch.zeros(4, 3, requires_grad=True)
    for reg in list(EMBEDDING_REGULARIZERS.names()):
        x.grad = None
        EMBEDDING_REGULARIZERS.get(reg)()(x).backward()
        assert torch.isfinite(x.grad).all(), reg
    w = W.clone().requires_grad_(True)
    for reg in WEIGHT_REGULARIZERS.names():
        WEIGHT_REGULARIZERS.get(reg)()(w).backward()
        assert torch.isfinite(w.grad).all(), reg
    e, labels = refs.batch(0)
    base = criteria.LOSSES.get("triplet")()
    with_reg = criteria.LOSSES.get("triplet")(embedding_regularizer=EMBEDDING_REGULARIZERS.get("lp")(),
                                               embedding_reg_weight=0.5)
    want = float(base(e, labels)) + 0.5 * refs.mean_norm(e)
    assert float(with_reg(e, labels)) == pytest.approx(want)
