"""Proxy and classification losses against float64 references written with plain loops."""
from __future__ import annotations

import math

import pytest
import torch

import criteria
from criteria.proxy_common import additive_angular_target, multiplicative_angular_target

NAMES = ["softmax", "arcface", "cosface", "sphereface", "large_margin_softmax", "subcenter_arcface",
         "proxynca", "proxyanchor", "softtriplet", "p2sgrad"]
C, D = 5, 6


def build(name: str, **kwargs):
    torch.manual_seed(0)
    return criteria.LOSSES.get(name)(n_classes=C, embed_dim=D, **kwargs)


def batch(seed: int, n: int = 9, n_classes: int = C):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, D, generator=g, dtype=torch.float64), torch.randint(0, n_classes, (n,), generator=g)


# ---- references: one embedding and one class at a time, float64 -------------------------------

def norm(v):
    return v / math.sqrt(float((v * v).sum()))


def cos(x, w):
    return float((norm(x) * norm(w)).sum())


def nll(logits, y):
    top = max(logits)
    return top + math.log(sum(math.exp(z - top) for z in logits)) - logits[y]


def psi(c, m):
    theta = math.acos(max(-1.0, min(1.0, c)))
    k = math.floor(theta * m / math.pi)
    return (-1) ** k * math.cos(m * theta) - 2 * k


def arc_target(c, m, easy):
    theta = math.acos(c)
    if easy:
        return math.cos(theta + m) if c > 0 else c
    return math.cos(theta + m) if theta + m <= math.pi else c - (1 - math.cos(m))


def reference(name, loss, x, y):
    W = loss.proxies.detach().double()
    B, n_rows = x.shape[0], W.shape[0]
    out = []
    for i in range(B):
        yi = int(y[i])
        if name == "softmax":
            out.append(nll([cos(x[i], W[c]) / loss.temperature for c in range(n_rows)], yi))
        elif name in ("arcface", "subcenter_arcface"):
            K = n_rows // C
            cs = [max(cos(x[i], W[c * K + k]) for k in range(K)) for c in range(C)]
            cs[yi] = arc_target(cs[yi], loss.margin, loss.easy_margin)
            out.append(nll([loss.scale * v for v in cs], yi))
        elif name == "cosface":
            cs = [cos(x[i], W[c]) - (loss.margin if c == yi else 0.0) for c in range(C)]
            out.append(nll([loss.scale * v for v in cs], yi))
        elif name in ("sphereface", "large_margin_softmax"):
            xn = math.sqrt(float((x[i] ** 2).sum()))
            logits = []
            for c in range(C):
                wn = 1.0 if name == "sphereface" else math.sqrt(float((W[c] ** 2).sum()))
                cc = cos(x[i], W[c])
                if c == yi:
                    cc = (loss.lambda_ * cc + psi(cc, loss.margin)) / (1 + loss.lambda_)
                logits.append(loss.scale * xn * wn * cc)
            out.append(nll(logits, yi))
        elif name == "proxynca":
            xh = norm(x[i])
            P = [norm(W[c]) if loss.normalize_proxies else W[c] for c in range(C)]
            d = [float(((xh - P[c]) ** 2).sum()) / loss.temperature for c in range(C)]
            denom = [c for c in range(C) if not (loss.exclude_positive and c == yi)]
            out.append(d[yi] + math.log(sum(math.exp(-d[c]) for c in denom)))
        elif name == "softtriplet":
            K = loss.n_centroids
            S = []
            for c in range(C):
                sims = [cos(x[i], W[c * K + k]) for k in range(K)]
                z = sum(math.exp(s / loss.gamma) for s in sims)
                S.append(sum(math.exp(s / loss.gamma) / z * s for s in sims))
            S[yi] -= loss.margin_delta
            out.append(nll([loss.lambda_ * s for s in S], yi))
        elif name == "p2sgrad":
            out.append(sum((cos(x[i], W[c]) - (c == yi)) ** 2 for c in range(C)) / C)
    if name == "proxyanchor":
        pos_sum, n_pos, neg_sum = 0.0, 0, 0.0
        for c in range(C):
            members = [i for i in range(B) if int(y[i]) == c]
            others = [i for i in range(B) if int(y[i]) != c]
            if members:
                n_pos += 1
                pos_sum += math.log(1 + sum(math.exp(-loss.alpha * (cos(x[i], W[c]) - loss.margin)) for i in members))
            neg_sum += math.log(1 + sum(math.exp(loss.alpha * (cos(x[i], W[c]) + loss.margin)) for i in others))
        return pos_sum / n_pos + neg_sum / C
    total = sum(out) / B
    if name == "softtriplet" and loss.n_centroids > 1:
        K, reg = loss.n_centroids, 0.0
        for c in range(C):
            for s in range(K):
                for t in range(s + 1, K):
                    reg += math.sqrt(2 + 1e-5 - 2 * cos(W[c * K + s], W[c * K + t]))
        total += loss.reg_weight * reg / (C * K * (K - 1))
    return total


VARIANTS = [(n, {}) for n in NAMES] + [
    ("arcface", {"easy_margin": True}), ("arcface", {"angular_margin": 2.5}),
    ("proxynca", {"exclude_positive": False}), ("proxynca", {"normalize_proxies": False}),
    ("softtriplet", {"n_centroids": 3, "gamma": 0.5}), ("sphereface", {"margin": 3, "lambda_": 0.0}),
]


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=[f"{n}-{k}" for n, k in VARIANTS])
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_float64_reference(name, kwargs, seed):
    loss = build(name, **kwargs)
    x, y = batch(seed)
    got = loss(x, y)
    assert got.dtype == torch.float64
    assert got.item() == pytest.approx(reference(name, loss, x, y), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_embeddings_and_proxies(name):
    loss = build(name)
    x, y = batch(2)
    x = x.float().requires_grad_()
    loss(x, y).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()
    assert loss.proxies.grad is not None and loss.proxies.grad.abs().sum() > 0
    assert torch.isfinite(loss.proxies.grad).all()


def test_arcface_margin_only_on_the_target_logit(monkeypatch):
    loss = build("arcface")
    x, y = batch(3)
    seen = {}
    monkeypatch.setattr(loss, "classification_term", lambda logits, labels, t: seen.setdefault("z", logits))
    loss.compute_loss(x, y, None)
    plain = loss.scale * torch.nn.functional.normalize(x) @ torch.nn.functional.normalize(loss.proxies.double()).t()
    target = torch.nn.functional.one_hot(y, C).bool()
    assert torch.allclose(seen["z"][~target], plain[~target])
    assert (seen["z"][target] < plain[target]).all()      # the margin lowers every target logit


def test_arcface_target_is_monotone_past_pi():
    theta = torch.linspace(0, math.pi, 2001, dtype=torch.float64)
    for m in (0.5, 1.0):
        t = additive_angular_target(torch.cos(theta), m, easy_margin=False)
        assert (t[1:] <= t[:-1] + 1e-12).all()
        assert (t.diff().abs() < 0.01).all()                 # continuous where θ + m crosses π
    assert torch.allclose(multiplicative_angular_target(torch.cos(theta[1:-1]), 1), torch.cos(theta[1:-1]))
    psi4 = multiplicative_angular_target(torch.cos(theta), 4)
    assert (psi4[1:] <= psi4[:-1] + 1e-9).all()


def test_softtriplet_centres_normalised_per_centre_and_softmax_over_own_centres():
    loss = build("softtriplet", n_centroids=3)
    x, y = batch(4)
    before = loss(x, y).item()
    with torch.no_grad():
        loss.proxies[4].mul_(7.0)                          # rescaling one centre changes nothing
    assert loss(x, y).item() == pytest.approx(before, rel=1e-9)
    S = loss.class_similarities(x)
    W = loss.proxies.detach().double()
    for i in range(x.shape[0]):
        for c in range(C):
            sims = torch.tensor([cos(x[i], W[c * 3 + k]) for k in range(3)], dtype=torch.float64)
            assert S[i, c].item() == pytest.approx(float((torch.softmax(sims / loss.gamma, 0) * sims).sum()))
            assert sims.min() - 1e-9 <= S[i, c] <= sims.max() + 1e-9
    # gamma -> 0 gives the hardest (max) centre, gamma -> inf the mean
    sharp = build("softtriplet", n_centroids=3, gamma=1e-4)
    sims = torch.nn.functional.normalize(x) @ torch.nn.functional.normalize(sharp.proxies.double()).t()
    assert torch.allclose(sharp.class_similarities(x), sims.view(x.shape[0], C, 3).amax(2), atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("case", ["one_class", "singletons", "two", "one", "zero_vector"])
def test_degenerate_batches_are_finite(name, case):
    loss = build(name)
    x, _ = batch(5, n=5)
    y = {"one_class": torch.zeros(5, dtype=torch.long), "singletons": torch.arange(5),
         "two": torch.tensor([1, 3]), "one": torch.tensor([2]), "zero_vector": torch.arange(5)}[case]
    x = x[: y.numel()].float()
    if case == "zero_vector":
        x[0] = 0
    x.requires_grad_()
    value = loss(x, y)
    value.backward()
    assert torch.isfinite(value)
    assert torch.isfinite(x.grad).all() and torch.isfinite(loss.proxies.grad).all()


@pytest.mark.parametrize("name", NAMES)
def test_single_training_class_is_finite(name):
    loss = criteria.LOSSES.get(name)(n_classes=1, embed_dim=D)
    x = torch.randn(3, D, requires_grad=True)
    value = loss(x, torch.zeros(3, dtype=torch.long))
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_autocast_is_finite_with_float32_logits(name, dtype):
    loss = build(name)
    x, y = batch(6)
    x = x.to(dtype).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
        value = loss(x, y)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(loss.proxies.grad).all() and loss.proxies.dtype == torch.float32


@pytest.mark.parametrize("name", NAMES)
def test_parameters_keep_dtype_after_a_float64_call(name):
    loss = build(name)
    x, y = batch(7)
    loss(x.requires_grad_(), y).backward()                 # float64 embeddings
    assert all(p.dtype == torch.float32 for p in loss.parameters())
    assert loss.proxies.grad.dtype == torch.float32
    assert loss(x.float(), y).dtype == torch.float32


@pytest.mark.parametrize("name", ["softmax", "arcface", "proxynca", "softtriplet", "p2sgrad", "proxyanchor"])
def test_mined_tuples_weight_the_elements(name):
    loss = build(name)
    x, y = batch(8, n=6)
    all_once = (torch.arange(6), torch.arange(6), torch.arange(6))
    assert loss(x, y, all_once).item() == pytest.approx(loss(x, y).item(), rel=1e-9)
    only_first = (torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([4, 0]))   # 0 twice, 5 never
    assert loss(x, y, only_first).item() != pytest.approx(loss(x, y).item(), rel=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_weight_regularizer_hook_acts_on_the_proxies(name):
    plain = build(name)
    reg = build(name, weight_regularizer=lambda w: w.pow(2).sum(), weight_reg_weight=0.5)
    x, y = batch(9)
    expected = plain(x, y).item() + 0.5 * float(plain.proxies.detach().double().pow(2).sum())
    assert reg(x, y).item() == pytest.approx(expected, rel=1e-6)
    assert reg.regularized_weights() is reg.proxies


@pytest.mark.parametrize("name", NAMES)
def test_sop_scale_runs(name):
    loss = criteria.LOSSES.get(name)(n_classes=11318, embed_dim=128)
    x = torch.randn(112, 128, requires_grad=True)
    y = torch.randint(0, 11318, (112,))
    value = loss(x, y)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(loss.proxies.grad).all()


def test_subcenter_outliers_use_the_dominant_subcentre():
    loss = criteria.LOSSES.get("subcenter_arcface")(n_classes=2, embed_dim=3, sub_centers=2)
    with torch.no_grad():
        loss.proxies.copy_(torch.tensor([[1., 0, 0], [0, 1, 0], [0, 0, 1], [-1, 0, 0]]))
    near = torch.tensor([[1., 0.1, 0], [1, -0.1, 0.05], [0.9, 0, 0.1]])   # class 0, dominant centre 0
    far = torch.tensor([[0.1, 1, 0]])                                        # class 0, ~84° from centre 0
    x = torch.cat([near, far, torch.tensor([[0, 0.1, 1.]])])
    y = torch.tensor([0, 0, 0, 0, 1])
    is_outlier, dominant = loss.outliers(x, y)
    assert dominant.tolist() == [0, 0]
    assert is_outlier.tolist() == [False, False, False, True, False]
    loss.outlier_threshold = 85.0
    assert not loss.outliers(x, y)[0].any()


@pytest.mark.parametrize("name", NAMES)
def test_declared_term_names_match_the_terms(name):
    loss = build(name)
    x, y = batch(10)
    assert tuple(loss.compute_loss(x, y, None)) == type(loss).term_names
