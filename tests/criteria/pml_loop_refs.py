"""Slow, obviously-correct float64 references of the PyTorch-Metric-Learning set of losses.

Plain Python loops over anchors, pairs and triplets on nested lists of floats; each function
returns the loss after the loss's default reduction.
"""
from __future__ import annotations

import math

import torch


def measure(x: torch.Tensor, kind: str) -> list[list[float]]:
    """The pairwise matrix as floats: Euclidean (sqrt of max(d², 1e-12)), its square
    (``sqeuclidean``) or cosine."""
    rows = x.double().tolist()
    n = len(rows)
    out = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if kind in ("euclidean", "sqeuclidean"):
                sq = sum((a - b) ** 2 for a, b in zip(rows[i], rows[j]))
                out[i][j] = math.sqrt(max(sq, 1e-12)) if kind == "euclidean" else sq
            else:
                dot = sum(a * b for a, b in zip(rows[i], rows[j]))
                ni = math.sqrt(sum(a * a for a in rows[i]))
                nj = math.sqrt(sum(b * b for b in rows[j]))
                out[i][j] = dot / (ni * nj)
    return out


def normalized(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=1, keepdim=True)


def scores(x: torch.Tensor, kind: str) -> list[list[float]]:
    """Larger-is-closer: the cosine, or minus the Euclidean distance."""
    m = measure(x, kind)
    return m if kind == "cosine" else [[-v for v in row] for row in m]


def positives(labels: list[int], i: int) -> list[int]:
    return [j for j in range(len(labels)) if j != i and labels[j] == labels[i]]


def negatives(labels: list[int], i: int) -> list[int]:
    return [j for j in range(len(labels)) if labels[j] != labels[i]]


def lse(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def avg_nonzero(values: list[float]) -> float:
    active = sum(1 for v in values if v > 0)
    return sum(values) / active if active else 0.0


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def circle(x, labels, m, gamma):
    s = measure(x, "cosine")
    out = []
    for i in range(len(labels)):
        pos, neg = positives(labels, i), negatives(labels, i)
        if not pos or not neg:
            continue
        lp = [-gamma * max(0.0, 1 + m - s[i][p]) * (s[i][p] - (1 - m)) for p in pos]
        ln = [gamma * max(0.0, s[i][n] + m) * (s[i][n] - m) for n in neg]
        out.append(softplus(lse(lp) + lse(ln)))
    return avg_nonzero(out)


def ntxent(x, labels, kind, temperature):
    s = scores(x, kind)
    out = []
    for a in range(len(labels)):
        for p in positives(labels, a):
            num = math.exp(s[a][p] / temperature)
            den = num + sum(math.exp(s[a][n] / temperature) for n in negatives(labels, a))
            out.append(-math.log(num / den))
    return mean(out)


def supcon(x, labels, kind, temperature):
    s = scores(x, kind)
    out = []
    for i in range(len(labels)):
        pos = positives(labels, i)
        if not pos:
            continue
        others = [k for k in range(len(labels)) if k != i]
        den = sum(math.exp(s[i][k] / temperature) for k in others)
        out.append(-mean([math.log(math.exp(s[i][p] / temperature) / den) for p in pos]))
    return avg_nonzero(out)


def pml_margin(kind: str, x: float, y: float) -> float:
    """PML's ``distance.margin(x, y)``: ``x - y`` for a distance, ``y - x`` for the cosine."""
    return y - x if kind == "cosine" else x - y


def lifted_structure(x, labels, kind, neg_margin, pos_margin):
    m = measure(x, kind)
    total, count = 0.0, 0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):      # unordered positive pairs, as in the paper
            if labels[i] != labels[j]:
                continue
            terms = [math.exp(pml_margin(kind, neg_margin, m[i][k])) for k in negatives(labels, i)]
            terms += [math.exp(pml_margin(kind, neg_margin, m[j][k])) for k in negatives(labels, j)]
            big_j = (math.log(sum(terms)) if terms else 0.0) + pml_margin(kind, m[i][j], pos_margin)
            total += max(big_j, 0.0) ** 2
            count += 1
    return total / (2 * count) if count else 0.0


def fastap(x, labels, kind, num_bins):
    m = measure(normalized(x), kind)
    d = [[-v for v in row] for row in m] if kind == "cosine" else m
    low, high = {"euclidean": (0.0, 2.0), "sqeuclidean": (0.0, 4.0), "cosine": (-1.0, 1.0)}[kind]
    width = (high - low) / num_bins
    centres = [low + k * width for k in range(num_bins + 1)]
    out = []
    for q in range(len(labels)):
        pos, neg = positives(labels, q), negatives(labels, q)
        if not pos:
            continue
        h_pos = [sum(max(0.0, 1 - abs(d[q][j] - c) / width) for j in pos) for c in centres]
        h_all = [sum(max(0.0, 1 - abs(d[q][j] - c) / width) for j in pos + neg) for c in centres]
        ap, cum_pos, cum_all = 0.0, 0.0, 0.0
        for k in range(len(centres)):
            cum_pos += h_pos[k]
            cum_all += h_all[k]
            if cum_all > 0:
                ap += h_pos[k] * cum_pos / cum_all
        out.append(1 - ap / len(pos))
    return mean(out)


def smoothap(x, labels, kind, temperature):
    s = scores(x, kind)
    out = []
    for q in range(len(labels)):
        pos = positives(labels, q)
        if not pos:
            continue
        others = [k for k in range(len(labels)) if k != q]
        ap = 0.0
        for i in pos:
            r_pos = 1 + sum(sigmoid((s[q][j] - s[q][i]) / temperature) for j in pos if j != i)
            r_all = 1 + sum(sigmoid((s[q][j] - s[q][i]) / temperature) for j in others if j != i)
            ap += r_pos / r_all
        out.append(1 - ap / len(pos))
    return mean(out)


def smoothap_with_query(x, labels, kind, temperature):
    """PML's (and the authors' code's) convention: every item is a query, ranked among the
    whole batch with itself counted as one of its positives."""
    s = scores(x, kind)
    out = []
    for q in range(len(labels)):
        pos = positives(labels, q) + [q]
        ap = 0.0
        for i in pos:
            r_pos = 1 + sum(sigmoid((s[q][j] - s[q][i]) / temperature) for j in pos if j != i)
            r_all = 1 + sum(sigmoid((s[q][j] - s[q][i]) / temperature) for j in range(len(labels)) if j != i)
            ap += r_pos / r_all
        out.append(1 - ap / len(pos))
    return mean(out)


def tuplet_margin(x, labels, margin_deg, scale):
    s = measure(x, "cosine")
    beta = math.radians(margin_deg)
    out = []
    for a in range(len(labels)):
        for p in positives(labels, a):
            shifted = math.cos(math.acos(s[a][p]) - beta)
            out.append(math.log(1 + sum(math.exp(scale * (s[a][n] - shifted)) for n in negatives(labels, a))))
    return mean(out)


def intra_pair_variance(x, labels, pos_eps, neg_eps):
    s = measure(x, "cosine")
    pos = [s[a][p] for a in range(len(labels)) for p in positives(labels, a)]
    neg = [s[a][n] for a in range(len(labels)) for n in negatives(labels, a)]
    mu_p, mu_n = mean(pos), mean(neg)
    return (mean([max(0.0, (1 - pos_eps) * mu_p - v) ** 2 for v in pos])
            + mean([max(0.0, v - (1 + neg_eps) * mu_n) ** 2 for v in neg]))


def threshold_consistent_margin(x, labels, lam_p, lam_n, m_p, m_n):
    s = measure(x, "cosine")
    pos = [s[a][p] for a in range(len(labels)) for p in positives(labels, a) if s[a][p] <= m_p]
    neg = [s[a][n] for a in range(len(labels)) for n in negatives(labels, a) if s[a][n] >= m_n]
    return lam_p * mean([m_p - v for v in pos]) + lam_n * mean([v - m_n for v in neg])


def ranked_list(x, labels, margin, t_neg, imbalance, alpha, t_pos):
    d = measure(normalized(x), "euclidean")
    out = []
    for i in range(len(labels)):
        ps = [d[i][j] - (alpha - margin) for j in positives(labels, i) if d[i][j] > alpha - margin]
        ns = [alpha - d[i][k] for k in negatives(labels, i) if d[i][k] < alpha]
        wp = [math.exp(t_pos * v) for v in ps]
        wn = [math.exp(t_neg * v) for v in ns]
        lp = sum(w * v for w, v in zip(wp, ps)) / sum(wp) if ps else 0.0
        ln = sum(w * v for w, v in zip(wn, ns)) / sum(wn) if ns else 0.0
        out.append((1 - imbalance) * lp + imbalance * ln)
    return mean(out)


def pnp(x, labels, kind, variant, b, alpha, anneal):
    s = scores(x, kind)
    out = []
    for q in range(len(labels)):
        pos, neg = positives(labels, q), negatives(labels, q)
        if not pos:
            continue
        vals = []
        for i in pos:
            r = sum(sigmoid((s[q][n] - s[q][i]) / anneal) for n in neg)
            vals.append({"O": r, "Ds": math.log(1 + r), "Dq": (1 + r) ** (-alpha),
                         "Iu": (1 + r) * math.log(1 + r),
                         "Ib": (b * r - math.log(1 + b * r)) / b ** 2}[variant])
        out.append(1 - mean(vals) if variant == "Dq" else mean(vals))
    return mean(out)


def nca(x, labels, kind, scale):
    d = [[-v for v in row] for row in scores(x, kind)]
    out = []
    for i in range(len(labels)):
        pos = positives(labels, i)
        if not pos:
            continue
        num = sum(math.exp(-scale * d[i][p]) for p in pos)
        den = sum(math.exp(-scale * d[i][k]) for k in range(len(labels)) if k != i)
        out.append(-math.log(num / den))
    return mean(out)


class DynamicSoftMarginRef:
    """The running CDF-weighted triplet loss, one triplet at a time."""

    def __init__(self, min_val: float, num_bins: int, momentum: float):
        self.min_val, self.num_bins, self.momentum = min_val, num_bins, momentum
        self.width = 2 * abs(min_val) / num_bins
        self.hist = [0.0] * num_bins

    def position(self, delta: float) -> float:
        return min(max((delta - self.min_val) / self.width, 0.0), self.num_bins - 1)

    def __call__(self, x, labels):
        d = measure(normalized(x), "euclidean")
        deltas = [d[a][p] - d[a][n] for a in range(len(labels))
                  for p in positives(labels, a) for n in negatives(labels, a)]
        if not deltas:
            return 0.0
        batch = [0.0] * self.num_bins
        for delta in deltas:
            pos = self.position(delta)
            low = min(math.floor(pos), self.num_bins - 2)
            batch[low] += 1 - (pos - low)
            batch[low + 1] += pos - low
        total = sum(batch)
        batch = [v / total for v in batch]
        if sum(self.hist) > 0:
            batch = [(1 - self.momentum) * h + self.momentum * v for h, v in zip(self.hist, batch)]
        total = sum(batch)
        self.hist = [v / total for v in batch]
        cdf = [sum(self.hist[:k + 1]) for k in range(self.num_bins)]
        return mean([cdf[math.floor(self.position(delta))] * delta for delta in deltas])
