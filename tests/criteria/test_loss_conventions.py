"""One set of loss conventions, checked against float64 loop references written from PML's and
the papers' formulas: FastAP's bin range, P2SGrad's scale, Smooth-AP's query, and margins on
similarities (the rule in ``distances.base``)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import criteria
import distances
from tests.criteria import pml_loop_refs as refs
from tests.criteria.test_losses_pml_reference import batch

SEEDS = (0, 1, 2)


def exact(got: float, want: float) -> None:
    assert got == pytest.approx(want, rel=1e-10, abs=1e-12)


def build(name: str, distance: str | None = None, **kwargs) -> criteria.base.BaseLoss:
    if distance is not None:
        kwargs["distance"] = distances.build(distance)
    return criteria.LOSSES.get(name)(**kwargs)


# ---------------------------------------------------------------- FastAP: bins over [0, 2]

@pytest.mark.parametrize("seed", SEEDS)
def test_fastap_plain_euclidean_bins_span_zero_to_two(seed):
    """As PML (``[0, 2^power]``): the low end is 0, not the clamped d(x, x) = 1e-6."""
    x, y = batch(seed)
    loss = build("fastap", "euclidean", num_bins=7)
    assert (loss.low, loss.high) == (0.0, 2.0)
    exact(float(loss(x, y)), refs.fastap(x, y.tolist(), "euclidean", 7))


# ---------------------------------------------------------------- P2SGrad: mean over B x C

def p2sgrad_loop(x: torch.Tensor, labels: list[int], weights: torch.Tensor) -> float:
    """The paper's squared error, averaged over the B x C (sample, class) entries."""
    rows, w = x.double().tolist(), weights.double().tolist()
    total = 0.0
    for i, xi in enumerate(rows):
        for c, wc in enumerate(w):
            cos = sum(a * b for a, b in zip(xi, wc)) / (math.sqrt(sum(a * a for a in xi))
                                                         * math.sqrt(sum(b * b for b in wc)))
            total += (cos - (1.0 if labels[i] == c else 0.0)) ** 2
    return total / (len(rows) * len(w))


@pytest.mark.parametrize("seed", SEEDS)
def test_p2sgrad_is_the_mean_over_batch_and_classes(seed):
    x, y = batch(seed)
    loss = build("p2sgrad", n_classes=7, embed_dim=x.shape[1])
    want = p2sgrad_loop(x, y.tolist(), loss.proxies.detach())
    exact(float(loss(x, y).detach()), want)
    cos = F.normalize(x, dim=1) @ F.normalize(loss.proxies.detach().double(), dim=1).T
    exact(want, float(F.mse_loss(cos, F.one_hot(y, 7).double())))       # nn.MSELoss of the reference code


# ---------------------------------------------------------------- Smooth-AP: the query

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sizes", [(3, 3, 3, 3), (3, 1, 4, 2, 2)])
def test_smoothap_query_left_out_by_default_and_counted_with_include_query(seed, sizes):
    """Ours leaves the query out of its positives (the paper's AP over the retrieval set); with
    ``include_query`` it is counted, as in the reference code and PML; the two differ."""
    x, y = batch(seed, sizes=sizes)
    ours = float(build("smoothap", temperature=0.1)(x, y))
    pml = float(build("smoothap", temperature=0.1, include_query=True)(x, y))
    exact(ours, refs.smoothap(x, y.tolist(), "cosine", 0.1))
    exact(pml, refs.smoothap_with_query(x, y.tolist(), "cosine", 0.1))
    assert ours - pml > 0.02                    # the query ranks first: PML's AP is higher


def test_smoothap_include_query_is_pmls_block_formula():
    """PML's own layout (equal, contiguous classes of g): 1 - (1/B) Σ_q (1/g) Σ_{i ∈ class(q)}
    R(i, class) / R(i, batch), the sums over j ≠ i including q."""
    x, y = batch(5, sizes=(4, 4, 4))
    order = torch.argsort(y, stable=True)
    x, y = x[order], y[order]
    s = F.normalize(x, dim=1) @ F.normalize(x, dim=1).T
    sig = torch.sigmoid((s.unsqueeze(1) - s.unsqueeze(2)) / 0.1) * (1 - torch.eye(12))   # [q, i, j]
    same = (y.view(-1, 1) == y.view(1, -1)).double()
    r_all = 1 + sig.sum(-1)
    r_pos = 1 + (sig * same.unsqueeze(1)).sum(-1)
    want = 1 - float(((r_pos / r_all) * same).sum() / 4 / 12)
    exact(float(build("smoothap", temperature=0.1, include_query=True)(x, y)), want)


# ---------------------------------------------------------------- margins on similarities
# Loop references on the cosine s written from PML's formulas, in which a margin is a
# threshold on s itself: positives want s >= m_pos (beta), negatives s <= m_neg (beta).

def lifted_cosine(x, labels, neg_margin):
    s = refs.measure(x, "cosine")
    out = []
    for a in range(len(labels)):
        pos, neg = refs.positives(labels, a), refs.negatives(labels, a)
        if pos and neg:
            out.append(max(0.0, refs.lse([-s[a][p] for p in pos]) + refs.lse([s[a][n] - neg_margin for n in neg])))
    return refs.mean(out)


def lifted_structure_cosine(x, labels, neg_margin, pos_margin):
    s = refs.measure(x, "cosine")
    total, count = 0.0, 0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if labels[i] != labels[j]:
                continue
            terms = [math.exp(s[i][k] - neg_margin) for k in refs.negatives(labels, i)]
            terms += [math.exp(s[j][k] - neg_margin) for k in refs.negatives(labels, j)]
            total += max(0.0, math.log(sum(terms)) + pos_margin - s[i][j]) ** 2
            count += 1
    return total / (2 * count)


def margin_cosine(x, labels, margin, beta):
    s = refs.measure(x, "cosine")
    terms = []
    for a in range(len(labels)):
        for p in refs.positives(labels, a):
            for n in refs.negatives(labels, a):
                terms += [max(0.0, beta - s[a][p] + margin), max(0.0, s[a][n] - beta + margin)]
    return refs.avg_nonzero(terms)


@pytest.mark.parametrize("seed", SEEDS)
def test_lifted_margin_is_a_threshold_on_the_similarity(seed):
    x, y = batch(seed)
    exact(float(build("lifted", "cosine", neg_margin=0.3, l2=0.0)(x, y)), lifted_cosine(x, y.tolist(), 0.3))


@pytest.mark.parametrize("seed", SEEDS)
def test_lifted_structure_margins_are_thresholds_on_the_similarity(seed):
    x, y = batch(seed)
    loss = build("lifted_structure", "cosine", neg_margin=0.2, pos_margin=0.7)
    exact(float(loss(x, y)), lifted_structure_cosine(x, y.tolist(), 0.2, 0.7))


@pytest.mark.parametrize("seed", SEEDS)
def test_margin_beta_is_a_boundary_on_the_similarity(seed):
    x, y = batch(seed)
    loss = build("margin", "cosine", n_classes=5, margin=0.1, beta=0.3)
    beta = float(loss.beta.detach()[0])                  # the float32 parameter's value
    exact(float(loss(x, y).detach()), margin_cosine(x, y.tolist(), 0.1, beta))


def test_one_threshold_means_the_same_in_every_loss():
    """On cosine, a negative at s = 0.25 satisfies a threshold of 0.3 (contrastive's
    ``neg_margin``, margin's ``beta``), and one at s = 0.35 violates it by 0.05 in both."""
    x = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.25, math.sqrt(1 - 0.25 ** 2)]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1])
    pairs = (torch.tensor([0]), torch.tensor([1]), torch.tensor([0]), torch.tensor([2]))
    contrastive = build("contrastive", "cosine", pos_margin=1.0, neg_margin=0.3)
    assert float(contrastive(x, y, pairs)) == pytest.approx(0.0, abs=1e-12)
    x[2] = torch.tensor([0.35, math.sqrt(1 - 0.35 ** 2)], dtype=torch.float64)
    assert float(contrastive(x, y, pairs)) == pytest.approx(0.05, abs=1e-12)
    margin = build("margin", "cosine", n_classes=2, margin=0.0, beta=0.3)
    assert float(margin(x, y, (torch.tensor([0]), torch.tensor([1]), torch.tensor([2]))).detach()) \
        == pytest.approx(0.05, abs=1e-6)                  # beta is a float32 parameter
