"""Distances against their definitions."""
from __future__ import annotations

import pytest
import torch

import distances
from tests.criteria import revisiting_loop_refs as refs


def loop_matrix(x: torch.Tensor, f) -> torch.Tensor:
    n = x.shape[0]
    return torch.tensor([[f(x, i, j) for j in range(n)] for i in range(n)], dtype=torch.float64)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_lp_matches_definition(p):
    x, _ = refs.batch(0)
    want = loop_matrix(x, lambda x, i, j: sum(abs(float(c)) ** p for c in x[i] - x[j]) ** (1 / p))
    assert torch.allclose(distances.build("lp", p=p)(x), want, atol=1e-9)


def test_dot_is_unnormalised_and_snr_matches_definition():
    x, _ = refs.batch(1)
    x = x * 3.0
    assert torch.allclose(distances.build("dot")(x), loop_matrix(x, refs.dot))
    assert torch.allclose(distances.build("dot", normalize_embeddings=True)(x), loop_matrix(x, refs.cos))
    assert torch.allclose(distances.build("snr")(x), loop_matrix(x, refs.snr), atol=1e-9)
    assert torch.allclose(distances.build("euclidean")(x), loop_matrix(x, refs.euclid), atol=1e-6)


def test_kinds_and_normalisation_option():
    kinds = {name: distances.build(name).is_similarity for name in distances.names()}
    assert kinds["dot"] and kinds["cosine"] and not kinds["lp"] and not kinds["snr"] and not kinds["euclidean"]
    x, _ = refs.batch(2)
    lp = distances.build("lp", p=2.0, normalize_embeddings=True)(x)
    unit = torch.nn.functional.normalize(x, dim=1)
    assert torch.allclose(lp, torch.cdist(unit, unit))


def test_gradients_finite_at_coincident_points():
    x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
    for name in ("lp", "snr", "dot", "euclidean", "cosine"):
        x.grad = None
        distances.build(name)(x).sum().backward()
        assert torch.isfinite(x.grad).all(), name


def test_bad_p_is_rejected():
    with pytest.raises(ValueError, match="--distance_p"):
        distances.build("lp", p=0.0)
