"""The PyTorch-Metric-Learning set of losses against float64 loop references (pml_loop_refs)."""
from __future__ import annotations

import math

import pytest
import torch

import criteria
import distances
import parameters
from criteria.functional import soft_rank_counts
from tests.criteria import pml_loop_refs as refs
from utilities.tuples import Pairs, Triplets, all_pairs, all_triplets

PML_LOSSES = ("circle", "ntxent", "supcon", "lifted_structure", "fastap", "smoothap", "tuplet_margin",
              "intra_pair_variance", "ranked_list", "pnp", "dynamic_soft_margin",
              "threshold_consistent_margin", "nca")
SEEDS = (0, 1, 2)
# Unequal classes, singleton included; shuffled by the seed.
CLASS_SIZES = (3, 1, 4, 2, 2)


def batch(seed: int, sizes: tuple[int, ...] = CLASS_SIZES, dim: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.cat([torch.full((n,), c, dtype=torch.long) for c, n in enumerate(sizes)])
    labels = labels[torch.randperm(labels.numel(), generator=gen)]
    return torch.randn(labels.numel(), dim, generator=gen, dtype=torch.float64), labels


def make(name: str, distance: str | None = None, **kwargs) -> criteria.base.BaseLoss:
    cls = criteria.LOSSES.get(name)
    if distance is not None:
        kwargs["distance"] = distances.build(distance)
    return cls(**kwargs)


def value(loss: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, tuples=None) -> float:
    return float(loss(x, labels, tuples))


def close(got: float, want: float) -> None:
    assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


# ---------------------------------------------------------------- against the loop references

@pytest.mark.parametrize("seed", SEEDS)
def test_circle(seed):
    x, y = batch(seed)
    close(value(make("circle", m=0.3, gamma=10.0), x, y), refs.circle(x, y.tolist(), 0.3, 10.0))
    close(value(make("circle"), x, y), refs.circle(x, y.tolist(), 0.4, 80.0))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_ntxent(seed, kind):
    x, y = batch(seed)
    close(value(make("ntxent", kind, temperature=0.5), x, y), refs.ntxent(x, y.tolist(), kind, 0.5))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_supcon(seed, kind):
    x, y = batch(seed)
    close(value(make("supcon", kind, temperature=0.3), x, y), refs.supcon(x, y.tolist(), kind, 0.3))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_lifted_structure(seed, kind):
    x, y = batch(seed)
    got = value(make("lifted_structure", kind, neg_margin=1.0, pos_margin=0.1), x, y)
    close(got, refs.lifted_structure(x, y.tolist(), kind, 1.0, 0.1))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_fastap(seed, kind):
    x, y = batch(seed)
    close(value(make("fastap", kind, num_bins=7), x, y), refs.fastap(x, y.tolist(), kind, 7))


def test_fastap_squared_distance_spans_zero_to_four():
    x, y = batch(1)
    loss = criteria.LOSSES.get("fastap")(distance=distances.build("euclidean", squared=True))
    close(value(loss, x, y), refs.fastap(x, y.tolist(), "sqeuclidean", 10))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_smoothap(seed, kind):
    x, y = batch(seed)
    close(value(make("smoothap", kind, temperature=0.1), x, y), refs.smoothap(x, y.tolist(), kind, 0.1))


def test_smoothap_any_class_order_and_sizes():
    """Shuffled, unequal classes: equal to the reference and invariant to the batch order
    (the reference library assumes equal, contiguous classes)."""
    x, y = batch(3, sizes=(5, 2, 3, 1, 4))
    loss = make("smoothap", temperature=0.05)
    want = refs.smoothap(x, y.tolist(), "cosine", 0.05)
    close(value(loss, x, y), want)
    perm = torch.randperm(y.numel(), generator=torch.Generator().manual_seed(7))
    close(value(loss, x[perm], y[perm]), want)
    order = torch.argsort(y, stable=True)           # contiguous classes give the same value
    close(value(loss, x[order], y[order]), want)


def test_soft_rank_counts_matches_autograd_in_any_chunking():
    """The chunked forward and analytic backward equal plain autograd on the B x B x B form."""
    x, y = batch(4)
    sim = (x @ x.T).detach().requires_grad_()
    mask = y.view(-1, 1) != y.view(1, -1)
    diff = (sim.unsqueeze(1) - sim.unsqueeze(2)) / 0.2
    plain = (torch.sigmoid(diff) * (mask.unsqueeze(1) & ~torch.eye(12, dtype=torch.bool))).sum(-1)
    want, = torch.autograd.grad(plain.square().sum(), sim)
    for chunk in (10 ** 9, 3 * 12 * 12, 1):
        counts = soft_rank_counts(sim, mask, 0.2, chunk_elements=chunk)
        torch.testing.assert_close(counts, plain)
        got, = torch.autograd.grad(counts.square().sum(), sim)
        torch.testing.assert_close(got, want)
    small = sim[:5, :5].detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda s: soft_rank_counts(s, mask[:5, :5], 0.3, chunk_elements=50), (small,))
    stacked = torch.stack([mask[:5, :5], ~mask[:5, :5]])
    assert torch.autograd.gradcheck(lambda s: soft_rank_counts(s, stacked, 0.3, chunk_elements=50), (small,))
    torch.testing.assert_close(soft_rank_counts(small, stacked, 0.3)[1], soft_rank_counts(small, ~mask[:5, :5], 0.3))


@pytest.mark.parametrize("seed", SEEDS)
def test_tuplet_margin(seed):
    x, y = batch(seed)
    close(value(make("tuplet_margin", margin=5.73, scale=8.0), x, y), refs.tuplet_margin(x, y.tolist(), 5.73, 8.0))
    close(value(make("tuplet_margin"), x, y), refs.tuplet_margin(x, y.tolist(), 5.73, 64.0))


@pytest.mark.parametrize("seed", SEEDS)
def test_intra_pair_variance(seed):
    x, y = batch(seed)
    got = value(make("intra_pair_variance", pos_eps=0.05, neg_eps=0.2), x, y)
    close(got, refs.intra_pair_variance(x, y.tolist(), 0.05, 0.2))


@pytest.mark.parametrize("seed", SEEDS)
def test_threshold_consistent_margin(seed):
    x, y = batch(seed)
    loss = make("threshold_consistent_margin", lambda_plus=1.0, lambda_minus=0.5, margin_plus=0.3, margin_minus=-0.1)
    close(value(loss, x, y), refs.threshold_consistent_margin(x, y.tolist(), 1.0, 0.5, 0.3, -0.1))


@pytest.mark.parametrize("seed", SEEDS)
def test_ranked_list(seed):
    x, y = batch(seed)
    close(value(make("ranked_list"), x, y), refs.ranked_list(x, y.tolist(), 0.4, 10.0, 0.5, 1.2, 0.0))
    loss = make("ranked_list", margin=0.6, neg_temperature=3.0, imbalance=0.3, alpha=1.3, pos_temperature=2.0)
    close(value(loss, x, y), refs.ranked_list(x, y.tolist(), 0.6, 3.0, 0.3, 1.3, 2.0))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_pnp(seed, kind):
    x, y = batch(seed)
    for variant in ("O", "Ds", "Dq", "Iu", "Ib"):
        loss = make("pnp", kind, variant=variant, b=3.0, alpha=2.0, anneal=0.2)
        close(value(loss, x, y), refs.pnp(x, y.tolist(), kind, variant, 3.0, 2.0, 0.2))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["euclidean", "cosine"])
def test_nca(seed, kind):
    x, y = batch(seed)
    close(value(make("nca", kind, softmax_scale=2.0), x, y), refs.nca(x, y.tolist(), kind, 2.0))


def nca_float64(x: torch.Tensor, labels: torch.Tensor, scale: float, pairs=None) -> torch.Tensor:
    """NCA as two logsumexp per row, in float64 (no underflow at these scales)."""
    pos = (labels[:, None] == labels[None, :]) & ~torch.eye(labels.numel(), dtype=torch.bool)
    neg = labels[:, None] != labels[None, :]
    if pairs is not None:
        pos, neg = torch.zeros_like(pos), torch.zeros_like(neg)
        pos[pairs[0], pairs[1]], neg[pairs[2], pairs[3]] = True, True
    logits = -scale * torch.cdist(x, x)
    lse = lambda mask: torch.logsumexp(logits.masked_fill(~mask, -torch.inf), 1)  # noqa: E731
    valid = pos.any(1)
    return (lse(pos | neg) - lse(pos))[valid].mean()


@pytest.mark.parametrize("kind", ["euclidean", "cosine", "dot"])
def test_nca_batch_of_one_has_zero_gradient(kind):
    x = torch.randn(1, 6, requires_grad=True)
    make("nca", kind)(x, torch.tensor([0])).backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


@pytest.mark.parametrize("mined", [False, True])
def test_nca_extreme_scale_matches_float64(mined):
    """At softmax_scale 100 every positive of some anchors underflows float32's softmax (PML
    drops such rows as log 0); the loss and gradient stay finite and equal the float64 formula."""
    x, y = batch(3)
    pairs = None
    if mined:                                      # a subset: some anchors get no pair at all
        a1, p, a2, n = all_pairs(y)
        keep_p, keep_n = a1 % 3 != 0, a2 % 2 == 0
        pairs = Pairs(a1[keep_p], p[keep_p], a2[keep_n], n[keep_n])
    x32 = x.float().requires_grad_()
    got = make("nca", softmax_scale=100.0)(x32, y, pairs)
    got.backward()
    x64 = x32.detach().double().requires_grad_()
    want = nca_float64(x64, y, 100.0, pairs)
    want.backward()
    assert torch.isfinite(got) and torch.isfinite(x32.grad).all()
    close(got.item(), want.item())
    torch.testing.assert_close(x32.grad.double(), x64.grad, rtol=1e-4, atol=1e-6)
    d = torch.cdist(x32.detach(), x32.detach()).fill_diagonal_(torch.inf)
    same = (y[:, None] == y[None, :]).float()
    assert ((torch.softmax(-100.0 * d, 1) * same).sum(1) == 0).any()   # the exact path ran


@pytest.mark.parametrize("seed", SEEDS)
def test_dynamic_soft_margin_running_histogram(seed):
    loss, ref = make("dynamic_soft_margin", momentum=0.3), refs.DynamicSoftMarginRef(-2.0, 10, 0.3)
    for step in range(3):                           # the histogram carries over between batches
        x, y = batch(seed * 10 + step)
        close(value(loss, x, y), ref(x, y.tolist()))
    torch.testing.assert_close(loss.histogram, torch.tensor(ref.hist, dtype=torch.float64))
    loss.eval()                                      # no update outside training
    before = loss.histogram.clone()
    loss(*batch(99))
    assert torch.equal(before, loss.histogram)


# ------------------------------------------------------ mined tuples == internal enumeration

def _full_batch(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    return batch(seed, sizes=(3, 2, 4, 2))         # every anchor has a positive and a negative


@pytest.mark.parametrize("name", PML_LOSSES)
def test_given_tuples_equal_internal(name):
    x, y = _full_batch(5)
    internal = value(make(name), x, y)
    pairs = all_pairs(y)
    close(value(make(name), x, y, Pairs(*pairs)), internal)
    close(value(make(name), x, y, Triplets(*all_triplets(y))), internal)


def test_mined_subset_changes_pair_losses():
    """Mined pairs really restrict the loss: one positive and one negative pair per anchor."""
    x, y = _full_batch(6)
    a1, p, a2, n = all_pairs(y)
    first_pos = torch.unique(a1, return_inverse=True)[1]
    keep_p = torch.cat([torch.tensor([True]), a1[1:] != a1[:-1]])
    keep_n = torch.cat([torch.tensor([True]), a2[1:] != a2[:-1]])
    sub = Pairs(a1[keep_p], p[keep_p], a2[keep_n], n[keep_n])
    assert first_pos.numel() == a1.numel()
    loss = make("ntxent", temperature=0.5)
    s = refs.scores(x, "cosine")
    want = refs.mean([-math.log(math.exp(s[a][q] / 0.5) / (math.exp(s[a][q] / 0.5) + math.exp(s[a][m] / 0.5)))
                      for a, q, m in zip(sub.anchors1.tolist(), sub.positives.tolist(), sub.negatives.tolist())])
    close(value(loss, x, y, sub), want)


# ------------------------------------------------------------------ degenerate batches, dtypes

DEGENERATE = {
    "one_class": torch.zeros(5, dtype=torch.long),
    "singletons": torch.arange(5),
    "two_same": torch.tensor([3, 3]),
    "two_different": torch.tensor([0, 1]),
    "one_pair_plus_singletons": torch.tensor([0, 0, 1, 2]),
}


@pytest.mark.parametrize("name", PML_LOSSES)
def test_degenerate_batches(name):
    for case, labels in DEGENERATE.items():
        x = torch.randn(labels.numel(), 6, dtype=torch.float64, requires_grad=True)
        loss = make(name)(x, labels)
        assert loss.dim() == 0 and torch.isfinite(loss), (name, case)
        loss.backward()
        assert x.grad is not None and torch.isfinite(x.grad).all(), (name, case)


@pytest.mark.parametrize("name", PML_LOSSES)
def test_coincident_embeddings_have_finite_gradients(name):
    x = torch.ones(6, 4, dtype=torch.float64, requires_grad=True)
    make(name)(x, torch.tensor([0, 0, 1, 1, 2, 2])).backward()
    assert torch.isfinite(x.grad).all()


@pytest.mark.parametrize("name", PML_LOSSES)
def test_dtypes_and_bf16_autocast(name):
    x, y = batch(8)
    for dtype in (torch.float64, torch.float32):
        xx = x.detach().to(dtype).clone().requires_grad_()
        out = make(name)(xx, y)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(xx.grad).all(), dtype
    xx = x.float().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = make(name)(xx @ torch.eye(6), y)       # a matmul, so the input really is bf16
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(xx.grad).all()


# ----------------------------------------------------------------------- flags and main.main

def test_flags_and_distance_checks(tiny_argv):
    opt = parameters.parse_args(tiny_argv + ["--loss", "ntxent", "--loss_ntxent_temperature", "0.2"])
    assert criteria.select(opt, n_classes=8).temperature == 0.2
    opt = parameters.parse_args(tiny_argv + ["--loss", "pnp", "--loss_pnp_variant", "Dq"])
    assert criteria.select(opt, n_classes=8).variant == "Dq"
    with pytest.raises(SystemExit):
        parameters.parse_args(tiny_argv + ["--loss", "circle", "--loss_distance", "euclidean"])
    with pytest.raises(SystemExit):
        parameters.parse_args(tiny_argv + ["--loss", "pnp", "--loss_pnp_variant", "X"])


@pytest.mark.slow
@pytest.mark.parametrize("name", PML_LOSSES)
def test_end_to_end_main(name, tiny_argv):
    import main
    argv = tiny_argv + ["--loss", name, "--n_epochs", "1", "--no_train_metrics", "--evaluation_metrics", "e_recall@1"]
    assert main.main(argv) == 0


@pytest.mark.parametrize("name, kwargs, flag", [
    ("ntxent", {"temperature": 0.0}, "--loss_ntxent_temperature"),
    ("supcon", {"temperature": -1.0}, "--loss_supcon_temperature"),
    ("smoothap", {"temperature": 0.0}, "--loss_smoothap_temperature"),
    ("pnp", {"variant": "X"}, "--loss_pnp_variant"),
    ("pnp", {"anneal": 0.0}, "--loss_pnp_anneal"),
    ("fastap", {"num_bins": 0}, "--loss_fastap_num_bins"),
    ("ranked_list", {"imbalance": 1.5}, "--loss_ranked_list_imbalance"),
    ("dynamic_soft_margin", {"num_bins": 1}, "--loss_dynamic_soft_margin_num_bins"),
    ("dynamic_soft_margin", {"min_val": 1.0}, "--loss_dynamic_soft_margin_min_val"),
    ("dynamic_soft_margin", {"momentum": 0.0}, "--loss_dynamic_soft_margin_momentum"),
])
def test_invalid_parameters_name_their_flag(name, kwargs, flag):
    with pytest.raises(ValueError, match=flag):
        make(name, **kwargs)
