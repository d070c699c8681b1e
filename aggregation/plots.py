"""Figures of the Revisiting-DML paper from aggregated results (matplotlib, Agg backend).

* ``recall_vs_rho.png``: per dataset, each method's mean R@1 against its mean ``rho_spectrum@2``,
  with a least-squares line and Pearson's r (the paper's Fig. 4 analysis).
* ``metric_correlation.png``: per dataset, the Pearson correlation matrix between the metrics
  over every selected run.
* ``base_vs_rho.png``: per dataset, R@1 (mean, std error bars) of each base method next to its
  ρ-regularised version.

A figure the data cannot support is not drawn, and :func:`all_plots` says why (:class:`NotDrawn`).
"""
from __future__ import annotations

import math
import os

import numpy as np

from aggregation.aggregate import Row
from aggregation.columns import display, scale
from aggregation.latex import dataset_name, ordered_datasets

RECALL, RHO = "e_recall@1", "rho_spectrum@2"


class NotDrawn(Exception):
    """A figure that the data cannot support; ``str(err)`` says why, in one line."""


def _need(rows: list[Row], *metrics: str) -> None:
    """Raise :class:`NotDrawn` unless each of ``metrics`` is reported and some run has it."""
    for metric in metrics:
        if not any(metric in r.stats for r in rows):
            raise NotDrawn(f"{metric} is not among --metrics")
        if not any(r.stats[metric].n for r in rows if metric in r.stats):
            raise NotDrawn(f"no run has {metric}")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _finite(*values: float) -> bool:
    return all(not math.isnan(v) for v in values)


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r; NaN when either variable is constant or there are fewer than 2 points."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def recall_vs_rho(rows: list[Row], path: str) -> str:
    _need(rows, RECALL, RHO)
    datasets = [d for d in ordered_datasets(rows)
                if sum(_finite(r.stats[RECALL].mean, r.stats[RHO].mean) for r in rows
                       if r.dataset == d and RECALL in r.stats and RHO in r.stats) >= 2]
    if not datasets:
        raise NotDrawn(f"no dataset has 2 groups with both {RECALL} and {RHO}")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4.5), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        points = [(r.stats[RHO].mean, r.stats[RECALL].mean * 100, r) for r in rows if r.dataset == dataset
                  and _finite(r.stats[RHO].mean, r.stats[RECALL].mean)]
        x = np.array([p[0] for p in points])
        y = np.array([p[1] for p in points])
        for rho, recall, row in points:
            ax.scatter(rho, recall, marker="s" if row.method.regularised else "o",
                       color="tab:red" if row.method.regularised else "tab:blue")
            ax.annotate(row.label, (rho, recall), fontsize=6, xytext=(3, 3), textcoords="offset points")
        r = pearson(x, y)
        if not math.isnan(r):
            slope, intercept = np.polyfit(x, y, 1)
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, slope * xs + intercept, "k--", lw=1)
        ax.set_title(f"{dataset_name(dataset)}: Pearson r = {r:.2f}")
        ax.set_xlabel(f"{display(RHO)} (KL to uniform; lower = flatter spectrum)")
        ax.set_ylabel("R@1 (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def metric_correlation(rows: list[Row], metrics: list[str], path: str) -> str:
    if len(metrics) < 2:
        raise NotDrawn("needs at least 2 --metrics")
    most_runs = max((sum(r.n for r in rows if r.dataset == d) for d in ordered_datasets(rows)), default=0)
    if most_runs < 3:
        raise NotDrawn(f"needs 3 runs of one dataset (most: {most_runs})")
    panels = []
    for dataset in ordered_datasets(rows):
        mine = [r for r in rows if r.dataset == dataset]
        table = np.array([[v for r in mine for v in r.values.get(m, [math.nan] * r.n)] for m in metrics], float)
        keep = [i for i, col in enumerate(table) if np.isfinite(col).sum() >= 3]
        table = table[keep][:, np.isfinite(table[keep]).all(0)]  # runs that have every kept metric
        varying = [j for j, col in enumerate(table) if np.std(col) > 0]
        if len(varying) >= 2 and table.shape[1] >= 3:
            panels.append((dataset, [metrics[keep[j]] for j in varying], np.corrcoef(table[varying])))
    if not panels:
        raise NotDrawn("no dataset has 2 metrics that vary over 3 runs that recorded them")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False)
    for ax, (dataset, names, corr) in zip(axes[0], panels):
        image = ax.imshow(corr, vmin=-1, vmax=1, cmap="coolwarm")
        labels = [display(m) for m in names]
        ax.set_xticks(range(len(names)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(names)), labels)
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(f"{dataset_name(dataset)}: correlation over runs")
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def base_vs_rho(rows: list[Row], path: str) -> str:
    _need(rows, RECALL)
    if not any(r.method.regularised for r in rows):
        raise NotDrawn("no ρ-regularised run (--batch_mining rho_distance)")
    panels = []
    for dataset in ordered_datasets(rows):
        mine = [r for r in rows if r.dataset == dataset and RECALL in r.stats]
        pairs = []
        for reg in (r for r in mine if r.method.regularised):
            base = [r for r in mine if r.method == reg.method.base]
            if base:
                pairs.append((base[0], reg))
        if pairs:
            panels.append((dataset, pairs))
    if not panels:
        raise NotDrawn("no ρ-regularised method has its base method (--batch_mining distance) on its dataset")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(max(5, 1.6 * max(len(p) for _, p in panels)) * len(panels), 4.5),
                             squeeze=False)
    for ax, (dataset, pairs) in zip(axes[0], panels):
        idx = np.arange(len(pairs))
        factor = scale(RECALL)
        for offset, which, color, name in ((-0.2, 0, "tab:blue", "base"), (0.2, 1, "tab:red", "ρ-regularised")):
            means = [pair[which].stats[RECALL].mean * factor for pair in pairs]
            errs = [np.nan_to_num(pair[which].stats[RECALL].std * factor) for pair in pairs]
            ax.bar(idx + offset, means, 0.4, yerr=errs, capsize=3, color=color, label=name)
        ax.set_xticks(idx, [pair[0].label for pair in pairs], rotation=30, ha="right", fontsize=7)
        ax.set_ylabel("R@1 (%)")
        lows = [pair[w].stats[RECALL].mean * factor for pair in pairs for w in (0, 1)]
        ax.set_ylim(max(0.0, min(lows) - 10), min(100.0, max(lows) + 5))
        ax.set_title(f"{dataset_name(dataset)}: base vs ρ-regularised")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def all_plots(rows: list[Row], metrics: list[str], folder: str) -> tuple[list[str], list[str]]:
    """Write every figure that the data allows into ``folder``. Returns the files written, and a
    line per figure not drawn: ``"recall_vs_rho.png not drawn: no run has rho_spectrum@2"``."""
    os.makedirs(folder, exist_ok=True)
    figures = {"recall_vs_rho.png": lambda path: recall_vs_rho(rows, path),
               "metric_correlation.png": lambda path: metric_correlation(rows, metrics, path),
               "base_vs_rho.png": lambda path: base_vs_rho(rows, path)}
    written, skipped = [], []
    for name, draw in figures.items():
        try:
            written.append(draw(os.path.join(folder, name)))
        except NotDrawn as why:
            skipped.append(f"{name} not drawn: {why}")
    return written, skipped
