"""dmlbench time / PyTorch Metric Learning (PML) time, for every loss and miner both have.

    pip install pytorch-metric-learning==2.9.0 --no-deps      # for this benchmark only
    python bench/pml_ratio.py [--batch_sizes 128 256 512] [--repeats 9] [--only npair hdc ...]

Each loss: forward + backward of ``loss(x, labels)`` on a fresh leaf ``x`` (unit-norm
``randn``, D = 128, K = 4 samples per class, B / K classes; proxy losses get C = B / K
classes); each miner: one ``miner(x, labels)`` call. One thread (``torch.set_num_threads(1)``),
the two libraries timed alternately (interleaved) ``--repeats`` times after one warm-up each,
medians. Settings are matched as in tests/criteria (pml_loop_refs.py, the Revisiting
references): the same distance (and normalisation), margins, temperatures, scales, bins and
reducer; where dmlbench's loss is defined on mined tuples (``npair``), both get the same tuples
(PML's one positive pair per class; ``npair`` and ``angular``). A case one library cannot
run is shown as n/a. Ratios below 1 mean dmlbench is faster. The table is printed as
markdown (for docs/benchmarks_pml.md).

``npair`` and ``angular`` compute the same quantity on the same tuples: the N = B / K pairs
``(a_k, p_k)`` of PML's ``convert_to_pos_pairs_with_unique_labels`` (first anchor and first
positive of each class), each contrasted with the other pairs' positives ``p_j``, j != k (Sohn's
n-pair batch). ``npair``: ours with ``l2 = 0`` against PML's ``NPairsLoss``, both
``mean_k log(1 + Σ_j exp(x_a·x_pj - x_a·x_pk))``. ``angular``: ours is the paper's combined
objective (n-pair term + λ · angular term), so with ``npair_ang_weight = 1, npair_l2 = 0``
it is compared with the *sum* of PML's ``NPairsLoss`` and ``AngularLoss(alpha=40)`` (mean
reducer), the latter given the positives as its reference set (``ref_emb = x[p]``), so that
its negatives are the same other-pair positives and not every other-class item of the batch.
(PML's ``AngularLoss`` returns zero without work when the given pairs hold no negative pair, so
a nonempty negative half is passed; its values are not used.) The inputs are unit-norm, where
PML's partly normalised angular term and our fully normalised one agree in value. The
warm-up call of each checks that the two losses agree (a mismatch is reported on stderr).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import batch_mining  # noqa: E402
import criteria  # noqa: E402
import distances  # noqa: E402
from utilities.tuples import TupleSets  # noqa: E402

INSTALL = "pip install pytorch-metric-learning==2.9.0 --no-deps"
#: Cases whose two losses compute the same value on the benchmark's input (checked on warm-up).
SAME_VALUE = ("npair", "angular")


def import_pml():
    """The PML modules, imported only when the benchmark runs."""
    try:
        from pytorch_metric_learning import distances as pd, losses as pl, miners as pm, reducers as pr
    except ImportError:
        sys.exit(f"bench/pml_ratio.py needs PyTorch Metric Learning (benchmark only): {INSTALL}")
    return pd, pl, pm, pr


def cases(pd, pl, pm, pr, n_classes: int, dim: int) -> dict[str, tuple[Callable, Callable]]:
    """``name -> (build ours, build PML)`` with matched settings."""
    from pytorch_metric_learning.regularizers import SparseCentersRegularizer
    lp = lambda **kw: pd.LpDistance(normalize_embeddings=False, **kw)     # noqa: E731 (ours: no normalisation)
    mean, nonzero = pr.MeanReducer, pr.AvgNonZeroReducer
    ours = lambda name, dist=None, **kw: (lambda: criteria.LOSSES.get(name)(  # noqa: E731
        **({"distance": distances.build(dist)} if dist else {}), **kw))
    prox = {"n_classes": n_classes, "embed_dim": dim}
    pprox = {"num_classes": n_classes, "embedding_size": dim}
    losses = {
        "angular": (ours("angular", alpha=40.0, npair_ang_weight=1.0, npair_l2=0.0),
                    lambda: PMLNPairPlusAngular(pl.NPairsLoss(), pl.AngularLoss(alpha=40, reducer=mean()))),
        "arcface": (ours("arcface", angular_margin=0.5, feature_scale=64.0, **prox),
                    lambda: pl.ArcFaceLoss(margin=28.6, scale=64, **pprox)),
        "circle": (ours("circle", m=0.4, gamma=80.0), lambda: pl.CircleLoss(m=0.4, gamma=80)),
        "contrastive": (ours("contrastive", pos_margin=0.0, neg_margin=1.0),
                        lambda: pl.ContrastiveLoss(pos_margin=0, neg_margin=1, distance=lp(), reducer=mean())),
        "cosface": (ours("cosface", margin=0.35, scale=64.0, **prox),
                    lambda: pl.CosFaceLoss(margin=0.35, scale=64, **pprox)),
        "dynamic_soft_margin": (ours("dynamic_soft_margin"), lambda: pl.DynamicSoftMarginLoss()),
        "fastap": (ours("fastap", num_bins=10), lambda: pl.FastAPLoss(num_bins=10)),
        "histogram": (ours("histogram", nbins=65), lambda: pl.HistogramLoss(n_bins=64)),
        "intra_pair_variance": (ours("intra_pair_variance"), lambda: pl.IntraPairVarianceLoss(reducer=mean())),
        "large_margin_softmax": (ours("large_margin_softmax", **prox),
                                 lambda: pl.LargeMarginSoftmaxLoss(margin=4, **pprox)),
        "lifted_structure": (ours("lifted_structure", neg_margin=1.0, pos_margin=0.0),
                             lambda: pl.LiftedStructureLoss(neg_margin=1, pos_margin=0, distance=lp())),
        "margin": (ours("margin", margin=0.2, beta=1.2, beta_constant=True, n_classes=n_classes),
                   lambda: pl.MarginLoss(margin=0.2, beta=1.2, distance=lp())),
        "multisimilarity": (ours("multisimilarity", pos_weight=2.0, neg_weight=40.0, margin=0.1, thresh=0.5),
                            lambda: pl.MultiSimilarityLoss(alpha=2, beta=40, base=0.5)),
        "nca": (ours("nca", softmax_scale=1.0), lambda: pl.NCALoss(softmax_scale=1, distance=lp())),
        "npair": (ours("npair", l2=0.0), lambda: pl.NPairsLoss()),
        "ntxent": (ours("ntxent", temperature=0.07), lambda: pl.NTXentLoss(temperature=0.07)),
        "p2sgrad": (ours("p2sgrad", **prox), lambda: pl.P2SGradLoss(descriptors_dim=dim, num_classes=n_classes)),
        "pnp": (ours("pnp"), lambda: pl.PNPLoss()),
        "proxyanchor": (ours("proxyanchor", margin=0.1, alpha=32.0, **prox),
                        lambda: pl.ProxyAnchorLoss(margin=0.1, alpha=32, **pprox)),
        "proxynca": (ours("proxynca", **prox), lambda: pl.ProxyNCALoss(softmax_scale=9, **pprox)),
        "ranked_list": (ours("ranked_list", margin=0.4, neg_temperature=10.0, imbalance=0.5),
                        lambda: pl.RankedListLoss(margin=0.4, Tn=10, imbalance=0.5)),
        "smoothap": (ours("smoothap", temperature=0.01), lambda: pl.SmoothAPLoss(temperature=0.01)),
        "snr": (ours("snr", margin=0.2, reg_lambda=0.0),
                lambda: pl.SignalToNoiseRatioContrastiveLoss(pos_margin=0, neg_margin=0.2, reducer=nonzero())),
        "softmax": (ours("softmax", temperature=0.05, **prox),
                    lambda: pl.NormalizedSoftmaxLoss(temperature=0.05, **pprox)),
        "softtriplet": (ours("softtriplet", **prox),
                        lambda: pl.SoftTripleLoss(centers_per_class=2, la=8, gamma=0.1, margin=0.01, **pprox,
                                                  weight_regularizer=SparseCentersRegularizer(n_classes, 2),
                                                  weight_reg_weight=0.2)),    # ours: centre_reg, reg_weight 0.2
        "sphereface": (ours("sphereface", **prox), lambda: pl.SphereFaceLoss(margin=4, **pprox)),
        "subcenter_arcface": (ours("subcenter_arcface", **prox),
                              lambda: pl.SubCenterArcFaceLoss(margin=28.6, scale=64, sub_centers=3, **pprox)),
        "supcon": (ours("supcon", temperature=0.1), lambda: pl.SupConLoss(temperature=0.1)),
        "threshold_consistent_margin": (ours("threshold_consistent_margin"),
                                        lambda: pl.ThresholdConsistentMarginLoss()),
        "triplet": (ours("triplet", "euclidean", margin=0.2),
                    lambda: pl.TripletMarginLoss(margin=0.2, distance=lp(), reducer=mean())),
        "tuplet_margin": (ours("tuplet_margin", margin=5.73, scale=64.0), lambda: pl.TupletMarginLoss()),
    }
    miner = lambda name, **kw: (lambda: batch_mining.MINERS.get(name)(**kw))  # noqa: E731
    euc = lambda: distances.build("euclidean")  # noqa: E731
    miners = {
        "angular (miner)": (miner("angular", angle=20.0), lambda: pm.AngularMiner(angle=20)),
        "batch_easy_hard (miner)": (miner("batch_easy_hard", distance=euc()),
                                    lambda: pm.BatchEasyHardMiner(distance=lp())),
        "batch_hard (miner)": (miner("batch_hard", distance=euc()), lambda: pm.BatchHardMiner(distance=lp())),
        "distance (miner)": (miner("distance", lower_cutoff=0.5, upper_cutoff=1.4),
                             lambda: pm.DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4)),
        "hdc (miner)": (miner("hdc", filter_percentage=0.5, distance=euc()),
                        lambda: pm.HDCMiner(filter_percentage=0.5, distance=lp())),
        "multisimilarity (miner)": (miner("multisimilarity", epsilon=0.1), lambda: pm.MultiSimilarityMiner(epsilon=0.1)),
        "pair_margin (miner)": (miner("pair_margin", pos_margin=0.2, neg_margin=0.8, distance=euc()),
                                lambda: pm.PairMarginMiner(pos_margin=0.2, neg_margin=0.8, distance=lp())),
        "triplet_margin (miner)": (miner("triplet_margin", margin=0.2, distance=euc()),
                                   lambda: pm.TripletMarginMiner(margin=0.2, distance=lp())),
        "uniform_histogram (miner)": (miner("uniform_histogram", distance=euc()),
                                      lambda: pm.UniformHistogramMiner(distance=lp())),
    }
    return {**losses, **miners}


def unique_label_pairs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One positive pair per class, as PML's NPairsLoss picks them (first anchor, first positive)."""
    from pytorch_metric_learning.utils import loss_and_miner_utils as lmu
    return lmu.convert_to_pos_pairs_with_unique_labels(None, labels)


def pml_pairs(labels: torch.Tensor) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """PML's pairs tuples for ``npair`` and ``angular``: the unique-label positive pairs ``(a, p)``
    with, as negative half, every (anchor, other pair's positive); and the same pairs with the
    positives as indices into ``x[p]`` (the angular term's reference set). Only ``NPairsLoss``
    reads the pairs; ``AngularLoss`` only needs a nonempty negative half."""
    a, p = unique_label_pairs(labels)
    rows, cols = torch.nonzero(labels[a].view(-1, 1) != labels[p].view(1, -1), as_tuple=True)
    return (a, p, a[rows], p[cols]), (a, torch.arange(p.numel()), a[rows], cols)


class PMLNPairPlusAngular(torch.nn.Module):
    """PML's ``NPairsLoss + AngularLoss`` on the same n-pair tuples: the angular term's
    reference set is the pairs' positives, so both terms contrast a pair with the other pairs'
    positives (as dmlbench's ``angular`` does)."""

    def __init__(self, npair: torch.nn.Module, angular: torch.nn.Module):
        super().__init__()
        self.npair, self.angular = npair, angular

    def forward(self, x: torch.Tensor, labels: torch.Tensor, pairs: tuple[torch.Tensor, ...],
                local_pairs: tuple[torch.Tensor, ...]) -> torch.Tensor:
        p = pairs[1]
        return self.npair(x, labels, pairs) + self.angular(x, labels, local_pairs, ref_emb=x[p], ref_labels=labels[p])


def npair_sets(labels: torch.Tensor) -> TupleSets:
    """The same tuples for dmlbench's n-pair loss: per pair, the other classes' positives are the negatives."""
    a, p = unique_label_pairs(labels)
    n = labels.numel()
    pos = F.one_hot(p, n).bool()
    neg = F.one_hot(p, n).sum(0, keepdim=True).bool().expand(a.numel(), n) & ~pos
    return TupleSets(a, pos, neg)


def runner(name: str, module: torch.nn.Module, emb: torch.Tensor, labels: torch.Tensor,
           pml: bool) -> Callable[[], None]:
    """A zero-argument call doing one forward + backward (a loss) or one mining call (a miner)."""
    if name.endswith("(miner)"):
        return lambda: module(emb, labels)
    extra = ()
    if name in ("npair", "angular"):
        extra = (pml_pairs(labels)[:1 if name == "npair" else 2]) if pml else (npair_sets(labels),)

    def step() -> torch.Tensor:
        x = emb.clone().requires_grad_(True)
        module.zero_grad(set_to_none=True)
        if pml and name == "dynamic_soft_margin":    # PML keeps its histogram in the last call's graph,
            module.hist_ = module.hist_.detach()     # so a second backward would fail
        loss = module(x, labels, *extra)
        loss.backward()
        return loss.detach()
    return step


def ratio(name: str, ours: Callable, pml: Callable, batch_size: int, per_class: int, dim: int,
          repeats: int, min_seconds: float = 0.0, max_seconds: float = float("inf")) -> tuple[float, float]:
    """Median ms of ours and of PML, timed alternately: ``repeats`` rounds, more (up to 20 ×
    ``repeats``) while the case has run under ``min_seconds`` (fast cases get steadier medians on
    a busy machine), and fewer (at least 3) once it has run over ``max_seconds``."""
    gen = torch.Generator().manual_seed(batch_size)
    labels = torch.arange(batch_size // per_class).repeat_interleave(per_class)
    emb = F.normalize(torch.randn(batch_size, dim, generator=gen), dim=1)
    torch.manual_seed(0)
    calls = [runner(name, ours(), emb, labels, False), runner(name, pml(), emb, labels, True)]
    values = [call() for call in calls]                      # warm-up
    if name in SAME_VALUE and not torch.allclose(values[0], values[1], rtol=1e-4, atol=1e-5):
        print(f"<!-- {name} B={batch_size}: the losses differ: {values[0].item():.6g} vs {values[1].item():.6g} -->",
              file=sys.stderr)
    times: list[list[float]] = [[], []]
    begin = time.perf_counter()
    for done in range(20 * repeats):
        elapsed = time.perf_counter() - begin
        if (done >= repeats and elapsed >= min_seconds) or (done >= min(3, repeats) and elapsed >= max_seconds):
            break
        for which, call in enumerate(calls):
            start = time.perf_counter()
            call()
            times[which].append(time.perf_counter() - start)
    return 1e3 * statistics.median(times[0]), 1e3 * statistics.median(times[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch_sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--samples_per_class", type=int, default=4)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--min_seconds", type=float, default=1.0,
                        help="Keep repeating a case (up to 20 x --repeats) until it has run this long.")
    parser.add_argument("--max_seconds", type=float, default=60.0,
                        help="Stop repeating a case (after at least 3 repeats) once it has run this long.")
    parser.add_argument("--only", nargs="+", default=None,
                        help="Subset of rows (loss names; miners as e.g. 'hdc' or 'hdc (miner)').")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    pd, pl, pm, pr = import_pml()
    import pytorch_metric_learning
    table = {}
    for b in args.batch_sizes:
        table[b] = cases(pd, pl, pm, pr, b // args.samples_per_class, args.dim)
    names = list(table[args.batch_sizes[0]])
    if args.only:
        wanted = set(args.only) | {f"{n} (miner)" for n in args.only}
        names = [n for n in names if n in wanted]
    bs = args.batch_sizes
    print(f"dmlbench / PML {pytorch_metric_learning.__version__} time, forward + backward (miners: one call); "
          f"torch {torch.__version__}, 1 thread, K = {args.samples_per_class}, D = {args.dim}, "
          f"median of {args.repeats} interleaved repeats (more while a case has run under {args.min_seconds:g} s, "
          f"at least 3 once over {args.max_seconds:g} s)\n")
    print("| loss / miner | " + " | ".join(f"B = {b}" for b in bs) + " | ms ours / PML at B = " + str(bs[-1]) + " |")
    print("|---|" + "---:|" * len(bs) + "---:|")
    above = []
    for name in names:
        cells, last = [], ""
        for b in bs:
            ours, pml = table[b][name]
            try:
                t_ours, t_pml = ratio(name, ours, pml, b, args.samples_per_class, args.dim, args.repeats,
                                      args.min_seconds, args.max_seconds)
            except Exception as err:  # noqa: BLE001                      # a library that cannot run this case
                cells.append("n/a")
                print(f"<!-- {name} B={b}: {str(err).splitlines()[0][:120]} -->", file=sys.stderr)
                continue
            cells.append(f"{t_ours / t_pml:.2f}")
            print(f"{name} B={b}: {t_ours:.2f} / {t_pml:.2f} ms", file=sys.stderr, flush=True)
            last = f"{t_ours:.2f} / {t_pml:.2f}"
            if t_ours > t_pml:
                above.append(f"{name}@{b}")
        print(f"| {name} | " + " | ".join(cells) + f" | {last} |", flush=True)
    print(f"\nabove 1.0: {', '.join(above) if above else 'none'}")


if __name__ == "__main__":
    main()
