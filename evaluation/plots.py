"""Figures written into the run folder: t-SNE of test embeddings, retrieval grids, training curves.

All use matplotlib's non-interactive Agg backend, so they work without a display.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from evaluation.engine import embed, protocol_columns
from metrics.neighbours import rank_neighbours
from utilities.atomic import atomic_write
from utilities.csv_rows import as_float, read_csv_rows

TSNE_POINTS = 2000      # t-SNE is quadratic-ish; a fixed random subset keeps it to seconds
TOP = 8                 # neighbours shown per query


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend, imported on first use (it takes ~1 s, and
    ``main.py --help`` must not pay for it)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig: Any, path: str, dpi: int = 100) -> None:
    """Write ``fig`` as a PNG atomically (like every run-folder file), then close it."""
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi), binary=True)
    pyplot().close(fig)


def plot_embeddings(embeddings: np.ndarray, labels: np.ndarray, path: str, seed: int = 0,
                    max_points: int = TSNE_POINTS, iterations: int = 1000) -> str:
    """2-D t-SNE (van der Maaten & Hinton, JMLR 2008; scikit-learn) of a fixed random subset
    of at most ``max_points`` rows, coloured by class. Returns ``path``."""
    from sklearn.manifold import TSNE
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(labels), min(max_points, len(labels)), replace=False))
    x, y = np.asarray(embeddings, dtype=np.float32)[index], np.asarray(labels)[index]
    perplexity = float(max(1.0, min(30.0, (len(x) - 1) / 3)))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
              max_iter=iterations).fit_transform(x)
    _, colour = np.unique(y, return_inverse=True)
    fig, ax = pyplot().subplots(figsize=(7, 7))
    size = float(np.clip(6000 / len(x), 6, 40))              # larger dots for small subsets
    ax.scatter(xy[:, 0], xy[:, 1], c=colour, cmap="tab20", s=size, alpha=0.8, linewidths=0)
    ax.set_title(f"t-SNE of {len(x)} test embeddings, {len(np.unique(y))} classes")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    return path


def as_picture(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor -> (H, W[, 3]) array in [0, 1] (min-max, undoing any normalisation)."""
    x = image.detach().float().cpu()
    x = (x - x.min()) / max(float(x.max() - x.min()), 1e-8)
    return x[0].numpy() if x.shape[0] == 1 else x[:3].permute(1, 2, 0).numpy()


def plot_retrievals(dataset: Dataset, embeddings: np.ndarray, path: str, n_queries: int,
                    seed: int = 0) -> str:
    """A grid of ``n_queries`` random queries (rows) with their top-8 neighbours under the
    Euclidean evaluation ranking; a neighbour's frame is green when it has the query's label,
    red otherwise. Returns ``path``."""
    cols = protocol_columns(dataset)
    _, labels = np.unique(cols["labels"], return_inverse=True)
    n = len(labels)
    query = np.flatnonzero(cols["is_query"]) if cols["is_query"] is not None else np.arange(n)
    gallery = np.flatnonzero(cols["is_gallery"]) if cols["is_gallery"] is not None else np.arange(n)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(query, min(n_queries, len(query)), replace=False))
    nb = rank_neighbours(embeddings, labels.astype(np.int64), chosen, gallery, "euclidean", TOP,
                         keep_indices=TOP)
    rows = len(nb.queries)
    fig, axes = pyplot().subplots(max(rows, 1), TOP + 1, figsize=(1.3 * (TOP + 1), 1.3 * max(rows, 1)),
                             squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        ax.axis("off")
    for r, (q, neighbours) in enumerate(zip(nb.queries, nb.indices)):
        cells = [(q, "black")] + [(j, "green" if labels[j] == labels[q] else "red") for j in neighbours if j >= 0]
        for c, (item, colour) in enumerate(cells):
            ax = axes[r, c]
            ax.axis("on")
            ax.imshow(as_picture(dataset[int(item)][0]), cmap="gray")
            for spine in ax.spines.values():
                spine.set_edgecolor(colour)
                spine.set_linewidth(3)
        axes[r, 0].set_title("query", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)
    return path


def plot_test_figures(model: torch.nn.Module, dataset: Dataset, folder: str, *, tsne: bool,
                      retrievals: int, device: str = "cpu", batch_size: int = 256,
                      seed: int = 0) -> list[str]:
    """Embed ``dataset`` once and write ``tsne_test.png`` and/or ``retrievals_test.png``."""
    if not tsne and retrievals <= 0:
        return []
    emb, labels = embed(model, dataset, batch_size, device, desc="embed test (plots)")
    written = []
    if tsne:
        written.append(plot_embeddings(emb, labels, os.path.join(folder, "tsne_test.png"), seed))
    if retrievals > 0:
        written.append(plot_retrievals(dataset, emb, os.path.join(folder, "retrievals_test.png"),
                                       retrievals, seed))
    return written


def plot_training_curves(folder: str, metric_names: list[str]) -> str:
    """``training_curves.png``: the training loss, then each of ``metric_names`` per split,
    over epochs, read from the run folder's ``train.csv`` and ``metrics.csv``."""
    train = read_csv_rows(os.path.join(folder, "train.csv"))
    evals = read_csv_rows(os.path.join(folder, "metrics.csv"))
    panels = ["loss"] + list(metric_names)
    fig, axes = pyplot().subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    ax = axes[0, 0]
    ax.plot([int(r["epoch"]) for r in train], [as_float(r.get("loss")) for r in train], marker=".")
    ax.set_title("training loss")
    ax.set_xlabel("epoch")
    for ax, name in zip(axes[0, 1:], metric_names):
        for split in sorted({r["split"] for r in evals}):
            rows = [r for r in evals if r["split"] == split and name in r]
            ax.plot([int(r["epoch"]) for r in rows], [as_float(r[name]) for r in rows], marker=".", label=split)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(folder, "training_curves.png")
    save_figure(fig, path, dpi=100)
    return path
