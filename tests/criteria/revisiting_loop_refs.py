"""Slow float64 references for the loss tests: plain Python loops over anchors, pairs, triplets."""
from __future__ import annotations

import math

import torch

SIZES = [3, 2, 4, 1, 2, 5]          # unequal class sizes, one singleton


def batch(seed: int, dim: int = 6, sizes: list[int] = SIZES) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(sizes)])
    labels = labels[torch.randperm(labels.numel(), generator=gen)]
    x = torch.randn(labels.numel(), dim, generator=gen, dtype=torch.float64)
    return x, labels


def norm(v: torch.Tensor) -> float:
    return math.sqrt(sum(float(c) ** 2 for c in v))


def euclid(x: torch.Tensor, i: int, j: int) -> float:
    return norm(x[i] - x[j])


def sq_euclid(x: torch.Tensor, i: int, j: int) -> float:
    return sum(float(c) ** 2 for c in x[i] - x[j])


def cos(x: torch.Tensor, i: int, j: int) -> float:
    return float(x[i] @ x[j]) / (norm(x[i]) * norm(x[j]))


def dot(x: torch.Tensor, i: int, j: int) -> float:
    return float(x[i] @ x[j])


def snr(x: torch.Tensor, i: int, j: int) -> float:
    def var(v: torch.Tensor) -> float:
        m = sum(float(c) for c in v) / len(v)
        return sum((float(c) - m) ** 2 for c in v) / len(v)
    return var(x[j] - x[i]) / var(x[i])


MEASURES = {"euclidean": (euclid, False), "squared_euclidean": (sq_euclid, False), "cosine": (cos, True), "dot": (dot, True), "snr": (snr, False)}


def gap(is_sim: bool, pos: float, neg: float) -> float:
    return neg - pos if is_sim else pos - neg


def triplets(labels: torch.Tensor) -> list[tuple[int, int, int]]:
    lab = labels.tolist()
    return [(a, p, n) for a in range(len(lab)) for p in range(len(lab)) for n in range(len(lab))
            if a != p and lab[a] == lab[p] and lab[n] != lab[a]]


def pos_pairs(labels: torch.Tensor) -> list[tuple[int, int]]:
    lab = labels.tolist()
    return [(a, p) for a in range(len(lab)) for p in range(len(lab)) if a != p and lab[a] == lab[p]]


def neg_pairs(labels: torch.Tensor) -> list[tuple[int, int]]:
    lab = labels.tolist()
    return [(a, n) for a in range(len(lab)) for n in range(len(lab)) if lab[a] != lab[n]]


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def mean_norm(x: torch.Tensor) -> float:
    return mean([norm(row) for row in x])


def log1p_sum_exp(values: list[float]) -> float:
    return math.log(1.0 + sum(math.exp(v) for v in values))


def log_sum_exp(values: list[float]) -> float:
    return math.log(sum(math.exp(v) for v in values))
