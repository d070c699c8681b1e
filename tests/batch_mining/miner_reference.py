"""Slow, obviously-correct float64 references for the miner tests (Python loops on purpose)."""
from __future__ import annotations

import math

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny tensors: one intra-op thread avoids thread spin costs that dominate on a shared
    machine (imported by each miner test module; restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_batch(n_classes: int, per_class: int, dim: int, seed: int = 0,
               normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_classes * per_class, dim, generator=gen)
    if normalize:
        x = torch.nn.functional.normalize(x, dim=1)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    return x, labels


def euclid64(x: torch.Tensor) -> list[list[float]]:
    x = x.double().tolist()
    return [[math.sqrt(sum((a - b) ** 2 for a, b in zip(u, v))) for v in x] for u in x]


def cosine64(x: torch.Tensor) -> list[list[float]]:
    x = x.double().tolist()
    norms = [math.sqrt(sum(a * a for a in u)) for u in x]
    return [[sum(a * b for a, b in zip(u, v)) / (nu * nv) for v, nv in zip(x, norms)] for u, nu in zip(x, norms)]


def positives_of(labels: list[int], a: int) -> list[int]:
    return [j for j in range(len(labels)) if labels[j] == labels[a] and j != a]


def negatives_of(labels: list[int], a: int) -> list[int]:
    return [j for j in range(len(labels)) if labels[j] != labels[a]]


def triplet_set(t) -> set[tuple[int, int, int]]:
    return set(zip(*(v.tolist() for v in t)))


def pair_sets(t) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    a1, p, a2, n = (v.tolist() for v in t)
    return set(zip(a1, p)), set(zip(a2, n))


def all_triplets64(labels: list[int]) -> list[tuple[int, int, int]]:
    return [(a, p, n) for a in range(len(labels)) for p in positives_of(labels, a) for n in negatives_of(labels, a)]


def sphere_weights64(d: list[float], negs: list[int], dim: int, lower: float, upper: float) -> dict[int, float]:
    """Distance-weighted sampling probabilities of Wu et al. 2017 for one anchor's negatives."""
    def inv_q(v: float) -> float:
        v = min(max(v, lower), 2.0 - 1e-4)
        return math.exp(-((dim - 2) * math.log(v) + (dim - 3) / 2 * math.log(1 - v * v / 4)))
    close = [n for n in negs if d[n] < upper]
    if not close:
        return {n: 1.0 / len(negs) for n in negs}
    w = {n: inv_q(d[n]) for n in close}
    total = sum(w.values())
    return {n: w.get(n, 0.0) / total for n in negs}


def total_variation(counts: dict[int, int], probs: dict[int, float]) -> float:
    total = sum(counts.values())
    keys = set(counts) | set(probs)
    return 0.5 * sum(abs(counts.get(k, 0) / total - probs.get(k, 0.0)) for k in keys)
