"""The distance contract: a finite (B, M) matrix of the input dtype, symmetric unless declared
otherwise, whose ``closest_first`` and ``gap`` agree with ``is_similarity``."""
from __future__ import annotations

import torch

from contracts.base import Subject, check, tagger
from contracts.fixtures import B, batch


@tagger("distance")
def distance_tags(cls: type) -> set[str]:
    """``symmetric``: d(x, y) == d(y, x) (the default; the anchor-relative SNR declares ``is_symmetric = False``)."""
    return {"symmetric"} if cls.is_symmetric else set()


def points(dtype: torch.dtype, rows: int = B, seed: int = 1) -> torch.Tensor:
    return batch(list(range(rows)), dtype, seed=seed)[0].detach()


@check("distance")
def check_distance_matrix(subject: Subject) -> None:
    """``dist(x)`` is a finite (B, B) matrix and ``dist(x, y)`` a (B, M) one, in the input dtype."""
    assert isinstance(subject.component.is_similarity, bool), "is_similarity is not a bool"
    dist = subject.build()
    for dtype in (torch.float32, torch.float64):
        x, y = points(dtype), points(dtype, 5, seed=2)
        m = dist(x)
        assert m.shape == (B, B), f"shape {tuple(m.shape)} for {B} rows, not ({B}, {B})"
        assert m.dtype == dtype, f"{dtype} input gave {m.dtype}"
        assert torch.isfinite(m).all(), "non-finite values"
        assert dist(x, y).shape == (B, 5), f"(x, y) gave shape {tuple(dist(x, y).shape)}"


@check("distance", requires="symmetric")
def check_distance_symmetry(subject: Subject) -> None:
    """``dist(x)`` is symmetric (a distance that is not declares ``is_symmetric = False``)."""
    dist = subject.build()
    for dtype in (torch.float32, torch.float64):
        m = dist(points(dtype))
        assert torch.allclose(m, m.T, atol=1e-5), f"not symmetric in {dtype} (declare is_symmetric = False)"


@check("distance")
def check_distance_ordering(subject: Subject) -> None:
    """``closest_first`` puts a near copy before the opposite point; ``gap(pos=far, neg=near)`` is positive."""
    dist = subject.build()
    a = torch.nn.functional.normalize(points(torch.float64), dim=1)
    near = a + 0.01 * points(torch.float64, seed=3)
    d_near, d_far = torch.diagonal(dist(a, near)), torch.diagonal(dist(a, -a))
    assert (dist.closest_first(d_near) < dist.closest_first(d_far)).all(), (
        f"closest_first does not put a near copy before the opposite point (is_similarity={dist.is_similarity})")
    assert (dist.gap(d_far, d_near) > 0).all(), "gap(pos=far, neg=near) is not positive"
