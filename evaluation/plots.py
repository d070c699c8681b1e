"""Figures written into the run folder: t-SNE of test embeddings, retrieval grids, training curves.

All use matplotlib's non-interactive Agg backend, so they work without a display.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from datasets.base import SplitDataset
from evaluation.engine import embed, protocol_columns
from metrics.neighbours import rank_neighbours
from utilities.atomic import atomic_write
from utilities.csv_rows import as_float

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


KEYED_CLASSES = 20      # up to this many classes get a colour key; beyond, a note says colour = class


def class_colours(n_classes: int) -> np.ndarray:
    """One RGBA row per class: tab10 / tab20 (distinct) up to 20 classes, then a cycle through
    a continuous map (neighbouring classes may then share similar colours)."""
    if n_classes <= 10:
        return pyplot().get_cmap("tab10")(np.arange(n_classes))
    if n_classes <= KEYED_CLASSES:
        return pyplot().get_cmap("tab20")(np.arange(n_classes))
    hues = pyplot().get_cmap("hsv")(np.linspace(0.0, 1.0, n_classes, endpoint=False))
    return hues[np.random.default_rng(0).permutation(n_classes)]   # neighbouring ids, distant hues


def tsne_2d(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0, max_points: int = TSNE_POINTS,
            iterations: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """2-D t-SNE (van der Maaten & Hinton, JMLR 2008; scikit-learn) of a fixed random subset of
    at most ``max_points`` rows; returns the 2-D points and their labels."""
    from sklearn.manifold import TSNE
    rng = np.random.default_rng(seed)
    index = np.sort(rng.choice(len(labels), min(max_points, len(labels)), replace=False))
    x, y = np.asarray(embeddings, dtype=np.float32)[index], np.asarray(labels)[index]
    perplexity = float(max(1.0, min(30.0, (len(x) - 1) / 3)))
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
              max_iter=iterations).fit_transform(x)
    return xy, y


def embedding_figure(xy: np.ndarray, labels: np.ndarray, of_total: int | None = None) -> Any:
    """Scatter of 2-D points coloured by class: a colour key for up to ``KEYED_CLASSES`` classes,
    otherwise a note "colour = class (N classes)"; a caption says what a dot and the axes are."""
    classes, colour = np.unique(labels, return_inverse=True)
    palette = class_colours(len(classes))
    keyed = len(classes) <= KEYED_CLASSES
    fig, ax = pyplot().subplots(figsize=(8.6 if keyed else 7, 7.4), layout="constrained")
    size = float(np.clip(6000 / len(xy), 6, 40))              # larger dots for small subsets
    for k, name in enumerate(classes):
        ax.scatter(*xy[colour == k].T, color=palette[k], s=size, alpha=0.8, linewidths=0, label=f"class {name}")
    shown = f"{len(xy)}" + (f" of {of_total}" if of_total and of_total > len(xy) else "")
    ax.set_title(f"t-SNE of {shown} test embeddings, {len(classes)} classes")
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_xticks([])
    ax.set_yticks([])
    if keyed:
        ax.legend(title="colour = class", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  markerscale=max(1.0, 30 / size) ** 0.5, frameon=False)
        note = "Each dot is one test image, coloured by its class."
    else:
        note = f"colour = class ({len(classes)} classes; too many for a key, similar colours may repeat)."
    fig.supxlabel(note + "\nDistances between far-apart clusters are not meaningful in t-SNE.", fontsize=8)
    return fig


def plot_embeddings(embeddings: np.ndarray, labels: np.ndarray, path: str, seed: int = 0,
                    max_points: int = TSNE_POINTS, iterations: int = 1000) -> str:
    """``path``: the t-SNE (:func:`tsne_2d`) of the embeddings drawn by :func:`embedding_figure`."""
    xy, y = tsne_2d(embeddings, labels, seed, max_points, iterations)
    save_figure(embedding_figure(xy, y, of_total=len(labels)), path, dpi=120)
    return path


def as_picture(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor -> (H, W[, 3]) array in [0, 1]: uint8 pixels / 255, float images min-max
    (undoing any normalisation)."""
    x = image.detach().float().cpu()
    x = x / 255.0 if image.dtype == torch.uint8 else (x - x.min()) / max(float(x.max() - x.min()), 1e-8)
    return x[0].numpy() if x.shape[0] == 1 else x[:3].permute(1, 2, 0).numpy()


def retrieval_figure(dataset: SplitDataset, embeddings: np.ndarray, n_queries: int, seed: int = 0) -> Any:
    """A grid of ``n_queries`` random queries (rows) with their top-8 neighbours (columns, rank
    1 first) under the Euclidean evaluation ranking; a neighbour's frame is green when it has the
    query's label, red otherwise (the key is in the figure)."""
    from matplotlib.patches import Patch
    cols = protocol_columns(dataset)
    names, labels = np.unique(cols["labels"], return_inverse=True)
    n = len(labels)
    query = np.flatnonzero(cols["is_query"]) if cols["is_query"] is not None else np.arange(n)
    gallery = np.flatnonzero(cols["is_gallery"]) if cols["is_gallery"] is not None else np.arange(n)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(query, min(n_queries, len(query)), replace=False))
    nb = rank_neighbours(embeddings, labels.astype(np.int64), chosen, gallery, "euclidean", TOP,
                         keep_indices=TOP)
    rows = max(len(nb.queries), 1)
    fig, axes = pyplot().subplots(rows, TOP + 1, figsize=(1.3 * (TOP + 1), 1.3 * rows + 0.9), squeeze=False,
                             layout="constrained")
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
        axes[r, 0].set_ylabel(f"class {names[labels[q]]}", fontsize=7)
    for c, ax in enumerate(axes[0]):
        ax.set_title("query" if c == 0 else f"#{c}", fontsize=8)
    fig.suptitle(f"Top-{TOP} test neighbours (Euclidean) of {len(nb.queries)} random queries", fontsize=10)
    fig.legend(handles=[Patch(facecolor="none", edgecolor="green", linewidth=2, label="same class as the query"),
                        Patch(facecolor="none", edgecolor="red", linewidth=2, label="other class")],
               loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


def plot_retrievals(dataset: SplitDataset, embeddings: np.ndarray, path: str, n_queries: int,
                    seed: int = 0) -> str:
    """``path``: the retrieval grid of :func:`retrieval_figure`."""
    save_figure(retrieval_figure(dataset, embeddings, n_queries, seed), path, dpi=100)
    return path


def plot_test_figures(model: torch.nn.Module, dataset: SplitDataset, folder: str, *, tsne: bool,
                      retrievals: int, device: str = "cpu", batch_size: int = 256,
                      seed: int = 0, save: bool = True) -> list[str]:
    """Embed ``dataset`` once and write ``tsne_test.png`` and/or ``retrievals_test.png``. Under
    torchrun every rank embeds (its shard); only where ``save`` is true are figures written."""
    if not tsne and retrievals <= 0:
        return []
    emb, labels = embed(model, dataset, batch_size, device, desc="embed test (plots)")
    if not save:
        return []
    written = []
    if tsne:
        written.append(plot_embeddings(emb, labels, os.path.join(folder, "tsne_test.png"), seed))
    if retrievals > 0:
        written.append(plot_retrievals(dataset, emb, os.path.join(folder, "retrievals_test.png"),
                                       retrievals, seed))
    return written


def training_curves_figure(logs: dict[str, list[dict[str, Any]]], metric_names: list[str],
                           selected_epoch: int | None = None, selection: str | None = None,
                           title: str = "") -> Any:
    """The training loss, then each of ``metric_names`` per split, over epochs, from a run's rows
    ``logs`` (``{"train": train.csv rows, "metrics": metrics.csv rows}``, as the run folder keeps
    them). ``selected_epoch`` (chosen by the rule ``selection``: ``last``, ``val``, ``test_max``)
    is a dashed vertical line on every panel."""
    train, evals = logs["train"], logs["metrics"]
    panels = ["loss"] + list(metric_names)
    fig, axes = pyplot().subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False,
                             layout="constrained")
    ax = axes[0, 0]
    ax.plot([int(r["epoch"]) for r in train], [as_float(r.get("loss")) for r in train], marker=".",
            label="train")
    ax.set_title("training loss")
    ax.set_ylabel("loss (mean over the epoch's batches)")
    for ax, name in zip(axes[0, 1:], metric_names):
        for split in sorted({r["split"] for r in evals}):
            rows = [r for r in evals if r["split"] == split and name in r]
            ax.plot([int(r["epoch"]) for r in rows], [as_float(r[name]) for r in rows], marker=".", label=split)
        ax.set_title(f"{name} per split")
        ax.set_ylabel(name)
    for ax in axes[0]:
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        if selected_epoch is not None:
            ax.axvline(selected_epoch, color="0.3", linestyle="--", linewidth=1,
                       label=f"selected ({selection or 'rule'}): epoch {selected_epoch}")
        if ax.get_legend_handles_labels()[0]:         # a run without evaluations has no metric lines
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def plot_training_curves(folder: str, logs: dict[str, list[dict[str, Any]]], metric_names: list[str],
                         selected_epoch: int | None = None, selection: str | None = None) -> str:
    """``training_curves.png`` in ``folder``: :func:`training_curves_figure` of its rows ``logs``."""
    path = os.path.join(folder, "training_curves.png")
    figure = training_curves_figure(logs, metric_names, selected_epoch, selection,
                                    title=os.path.basename(os.path.normpath(folder)))
    save_figure(figure, path, dpi=100)
    return path
