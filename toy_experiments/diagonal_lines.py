"""The motivating toy example of Roth, Milbich et al., "Revisiting Training Strategies and
Generalization Performance in Deep Metric Learning" (ICML 2020), Sec. 5.

Four training classes lie on segments of the diagonal y = x; four test classes lie on
axis-aligned segments (two horizontal, two vertical) whose projections onto the diagonal
overlap pairwise. A model that keeps only what separates the training classes (the position
along the diagonal) cannot tell the test classes apart; one that keeps more directions of
variation can. The same small MLP with an L2-normalised 2-d output is trained twice with the
margin loss: with distance-weighted mining (base) and with ρ-regularised mining, which with
probability ``p`` turns a triplet (a, p, n) into (a, a, p) and so pushes a same-class sample
away, keeping intra-class variance. Test ``e_recall@1``, ``nmi`` and ``rho_spectrum@1`` of both
models are printed and a figure (data, both test embeddings, both singular-value spectra) is
saved.

    python toy_experiments/diagonal_lines.py [--iterations 1500] [--rho_cp 0.2] [--out toy.png]
    python toy_experiments/diagonal_lines.py --test_mode      # a few iterations, for the tests

Components come from the registries (``criteria`` ``margin``, ``batch_mining`` ``distance`` and
``rho_distance``, ``metrics``).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import criteria  # noqa: E402
import metrics  # noqa: E402
import parameters  # noqa: E402
from training.objective import select_miner  # noqa: E402

torch.set_num_threads(1)  # tiny tensors: extra threads only contend for the cores
DIAGONAL = np.array([1.0, 1.0]) / math.sqrt(2.0)
METRIC_NAMES = ("e_recall@1", "nmi", "rho_spectrum@1")


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def make_data(n_per_class: int, seed: int, noise: float = 0.03) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Train: 4 segments of length 0.5 centred at -1.2, -0.4, 0.4, 1.2 along the diagonal.
    Test: horizontal segments y = ±0.5 and vertical segments x = ±0.5, each for |t| <= 0.5; the
    top and right (bottom and left) segments cover the same range of the diagonal coordinate."""
    rng = np.random.default_rng(seed)
    t = lambda: rng.uniform(-0.25, 0.25, size=(n_per_class, 1))  # noqa: E731
    train = [(c + t()) * DIAGONAL for c in (-1.2, -0.4, 0.4, 1.2)]
    s = lambda: rng.uniform(-0.5, 0.5, size=n_per_class)  # noqa: E731
    test = [np.stack([s(), np.full(n_per_class, y)], 1) for y in (0.5, -0.5)]
    test += [np.stack([np.full(n_per_class, x), s()], 1) for x in (0.5, -0.5)]
    out = {}
    for split, parts in (("train", train), ("test", test)):
        x = np.concatenate(parts) + rng.normal(0.0, noise, size=(4 * n_per_class, 2))
        y = np.repeat(np.arange(4), n_per_class)
        out[split] = (x.astype(np.float32), y.astype(np.int64))
    return out


class ToyNet(nn.Module):
    """2 -> hidden -> hidden -> embed_dim (2 in the paper's toy), ReLU, L2-normalised output."""

    def __init__(self, hidden: int = 64, embed_dim: int = 2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                  nn.Linear(hidden, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.body(x), dim=1)


# ---------------------------------------------------------------------------------------------
# Components from the registries
# ---------------------------------------------------------------------------------------------
def build_components(regularised: bool, cp: float, n_classes: int,
                     embed_dim: int = 2) -> tuple[nn.Module, nn.Module]:
    """The margin loss and the miner (distance, or rho_distance with ``cp``)."""
    argv = ["--loss", "margin", "--batch_mining", "rho_distance" if regularised else "distance",
            "--embed_dim", str(embed_dim), "--device", "cpu"]
    if regularised:
        argv += ["--miner_rho_distance_cp", str(cp)]
    opt = parameters.parse_args(argv)
    return criteria.select(opt, n_classes=n_classes), select_miner(opt)


def evaluate(embeddings: np.ndarray, labels: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """The test metrics ``METRIC_NAMES`` and the normalised singular-value spectrum
    (``rho_spectrum@0``), from ``metrics.compute``."""
    out = metrics.compute(embeddings, labels, [*METRIC_NAMES, "rho_spectrum@0"])
    return {m: out[m] for m in METRIC_NAMES}, out.arrays["rho_spectrum@0"]


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    metrics: dict[str, float]
    embeddings: np.ndarray
    spectrum: np.ndarray


def train_model(regularised: bool, data: dict, iterations: int, cp: float, seed: int,
                per_class: int = 16, embed_dim: int = 2) -> Result:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = (torch.from_numpy(a) for a in data["train"])
    model = ToyNet(embed_dim=embed_dim)
    loss_fn, miner = build_components(regularised, cp, n_classes=4, embed_dim=embed_dim)
    groups = [{"params": model.parameters(), "lr": 1e-3}] + list(loss_fn.param_groups())
    optimizer = torch.optim.Adam(groups)
    by_class = [torch.nonzero(y_train == c).squeeze(1) for c in range(4)]
    for _ in range(iterations):
        idx = torch.cat([cls[torch.randint(len(cls), (per_class,), generator=generator)] for cls in by_class])
        emb = model(x_train[idx])
        labels = y_train[idx]
        loss = loss_fn(emb, labels, miner(emb, labels))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        test_emb = model(torch.from_numpy(data["test"][0])).numpy()
    test_metrics, spectrum = evaluate(test_emb, data["test"][1])
    return Result("rho-regularised" if regularised else "base", test_metrics, test_emb, spectrum)


def toy_figure(data: dict, results: list[Result]):
    """Four panels: the data, the base and the ρ-regularised test embeddings (test classes in the
    data panel's colours) and both normalised singular-value spectra. Returns the Figure."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    colors = plt.get_cmap("tab10")
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.8), layout="constrained")
    for split, marker in (("train", "o"), ("test", "x")):
        x, y = data[split]
        for c in range(4):
            axes[0].scatter(*x[y == c].T, s=6, marker=marker, color=colors(c + (0 if split == "train" else 4)),
                            label=f"{split} class {c}")
    axes[0].set_title("data (o train, x test)", fontsize=10)
    axes[0].set_xlabel("x₁")
    axes[0].set_ylabel("x₂")
    axes[0].set_aspect("equal")
    axes[0].legend(fontsize=6, ncol=2, loc="upper left", markerscale=2)
    y_test = data["test"][1]
    for ax, result in zip(axes[1:3], results):
        shown = result.embeddings
        projected = shown.shape[1] > 2
        if projected:  # the two leading principal directions
            centred = shown - shown.mean(0)
            shown = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
        for c in range(4):
            ax.scatter(*shown[y_test == c].T, s=6, color=colors(c + 4), label=f"test class {c}")
        m = result.metrics
        ax.set_title(f"{result.name} test embedding\nR@1 {m['e_recall@1']:.3f}, NMI {m['nmi']:.3f}", fontsize=10)
        ax.set_xlabel("principal direction 1" if projected else "embedding dim 1")
        ax.set_ylabel("principal direction 2" if projected else "embedding dim 2")
        if not projected:
            ax.set_xlim(-1.1, 1.1)
            ax.set_ylim(-1.1, 1.1)
        ax.set_aspect("equal")
        ax.legend(fontsize=6, loc="best" if projected else "center", markerscale=2)  # the circle's hole
    width = 0.35
    for i, result in enumerate(results):
        axes[3].bar(np.arange(len(result.spectrum)) + (i - 0.5) * width, result.spectrum, width,
                    label=f"{result.name} (ρ = {result.metrics['rho_spectrum@1']:.3f})")
    dims = len(results[0].spectrum)
    axes[3].set_xticks(range(dims), [f"σ{i + 1}" for i in range(dims)])
    axes[3].set_title("test embeddings:\nnormalised singular values", fontsize=10)
    axes[3].set_xlabel("singular value")
    axes[3].set_ylabel("σᵢ / Σⱼ σⱼ")
    axes[3].set_ylim(0, 1)
    axes[3].legend(fontsize=7)
    return fig


def save_figure(data: dict, results: list[Result], path: str) -> None:
    """Write :func:`toy_figure` to ``path``."""
    import matplotlib.pyplot as plt
    fig = toy_figure(data, results)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1500, help="Training iterations per model.")
    parser.add_argument("--rho_cp", type=float, default=0.2, help="Probability of a ρ-flipped triplet.")
    parser.add_argument("--n_per_class", type=int, default=200, help="Points per class and split.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embed_dim", type=int, default=2, help="Output dimension (2 in the paper's toy).")
    parser.add_argument("--out", default="toy_diagonal_lines.png", help="Figure file.")
    parser.add_argument("--test_mode", action="store_true", help="A few iterations on little data (tests).")
    opt = parser.parse_args(argv)
    iterations, n_per_class = (20, 30) if opt.test_mode else (opt.iterations, opt.n_per_class)
    start = time.time()
    data = make_data(n_per_class, opt.seed)
    results = [train_model(reg, data, iterations, opt.rho_cp, opt.seed, embed_dim=opt.embed_dim)
               for reg in (False, True)]
    save_figure(data, results, opt.out)
    print(f"{'model':<16} " + " ".join(f"{m:>15}" for m in METRIC_NAMES) + "   spectrum")
    for r in results:
        print(f"{r.name:<16} " + " ".join(f"{r.metrics[m]:>15.4f}" for m in METRIC_NAMES)
              + "   " + " ".join(f"{v:.3f}" for v in r.spectrum))
    print(f"figure: {opt.out}  ({time.time() - start:.1f} s wall, {time.process_time():.1f} s CPU)")
    return results


if __name__ == "__main__":
    main()
