"""Figures of the Revisiting-DML paper from aggregated results (matplotlib, Agg backend).

* ``recall_vs_rho.png``: per dataset, each method's mean R@1 against its mean ``rho_spectrum@2``,
  with a least-squares line and Pearson's r (the paper's Fig. 4 analysis); circles are base
  methods, squares ρ-regularised ones, as the legend says.
* ``metric_correlation.png``: per dataset, the Pearson correlation matrix between the metrics
  over every selected run.
* ``base_vs_rho.png``: per dataset, a dot plot of R@1 (mean; ±1 std bars when n >= 2) of each base
  method next to its ρ-regularised version, with the difference written above each pair.

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


def _save(fig, path: str) -> str:
    """Write ``fig`` as a PNG and close it; the path written."""
    plt = _pyplot()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def _finite(*values: float) -> bool:
    return all(not math.isnan(v) for v in values)


# Two points always lie on a line (r = ±1) and say nothing about a correlation.
MIN_POINTS_FOR_R = 3
# Width of one legend column at fontsize 8 with the longest entries ("ρ-regularised (rho_distance
# mining)"): four on one row clip at both sides of a 5.5-inch figure.
LEGEND_COLUMN_INCHES = 2.5


def legend_columns(fig, entries: int) -> int:
    """Columns of a legend under the whole figure, so that no entry is cut at either side."""
    return max(1, min(entries, int(fig.get_figwidth() / LEGEND_COLUMN_INCHES)))


def correlation_note(r: float, n: int) -> str:
    """What a panel title says about Pearson's r over ``n`` methods."""
    if n < MIN_POINTS_FOR_R:
        return f"no Pearson r: {n} points always lie on a line\n({MIN_POINTS_FOR_R} or more methods needed)"
    if math.isnan(r):
        return "Pearson r undefined (a constant axis)"
    return f"Pearson r = {r:.2f}"


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r; NaN when either variable is constant or there are fewer than 2 points."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


# Label positions tried around a marker, nearest first: (dx, dy) in points, horizontal alignment.
_LABEL_SPOTS = [(7, 0, "left"), (-7, 0, "right"), (5, 7, "left"), (5, -7, "left"), (-5, 7, "right"),
                (-5, -7, "right"), (0, 10, "center"), (0, -10, "center")]
_FAR_SPOTS = [(2.2 * dx, 2.2 * dy, ha) for dx, dy, ha in _LABEL_SPOTS]


def _overlap(a, b) -> float:
    """Area shared by two display-space boxes (matplotlib ``Bbox``)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def place_labels(ax, xs: list[float], ys: list[float], labels: list[str], marker_pt: float = 6.0,
                 fontsize: float = 6.5) -> list:
    """Annotate each point with its label beside it, never on a marker: for each point, the first
    spot in ``_LABEL_SPOTS`` (then farther ones, with a thin leader line) whose text box overlaps no
    marker, no label placed so far and stays inside the axes; failing all, the least-overlapping
    spot. Call after the axes limits and the figure layout are final. Returns the annotations."""
    from matplotlib.transforms import Bbox
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    half = (marker_pt / 2 + 1) * fig.dpi / 72
    centres = ax.transData.transform(np.column_stack([xs, ys]))
    taken = [Bbox.from_extents(cx - half, cy - half, cx + half, cy + half) for cx, cy in centres]
    inside = ax.get_window_extent(renderer)
    placed = []
    for x, y, text in zip(xs, ys, labels):
        best = None
        for far, spots in ((False, _LABEL_SPOTS), (True, _FAR_SPOTS)):
            for dx, dy, ha in spots:
                note = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha,
                                   va="center", fontsize=fontsize, zorder=4,
                                   bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.75),
                                   arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5") if far else None)
                box = note.get_window_extent(renderer)
                cost = sum(_overlap(box, other) for other in taken) + (
                    box.width * box.height - _overlap(box, inside))
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, note, box)
                else:
                    note.remove()
                if cost == 0:
                    break
            if best[0] == 0:
                break
        taken.append(best[2])
        placed.append(best[1])
    return placed


def _legend_handles(entries: list[tuple[str, dict]]) -> list:
    from matplotlib.lines import Line2D
    return [Line2D([], [], label=label, **style) for label, style in entries]


BASE_STYLE = dict(marker="o", color="tab:blue", linestyle="none")
RHO_STYLE = dict(marker="s", color="tab:red", linestyle="none")


def recall_vs_rho_figure(rows: list[Row]):
    """Per dataset, each method's mean R@1 against its mean ``rho_spectrum@2`` (±1 std bars where
    a method has 2 or more seeds), every marker labelled, with a least-squares line and Pearson's r.
    Raises :class:`NotDrawn` when the data cannot support it."""
    _need(rows, RECALL, RHO)
    datasets = [d for d in ordered_datasets(rows)
                if sum(_finite(r.stats[RECALL].mean, r.stats[RHO].mean) for r in rows
                       if r.dataset == d and RECALL in r.stats and RHO in r.stats) >= 2]
    if not datasets:
        raise NotDrawn(f"no dataset has 2 groups with both {RECALL} and {RHO}")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 5.0), squeeze=False,
                             layout="constrained")
    factor, any_bars, any_fit, panels = scale(RECALL), False, False, []
    for ax, dataset in zip(axes[0], datasets):
        points = [r for r in rows if r.dataset == dataset and RECALL in r.stats and RHO in r.stats
                  and _finite(r.stats[RHO].mean, r.stats[RECALL].mean)]
        x = np.array([r.stats[RHO].mean for r in points])
        y = np.array([r.stats[RECALL].mean * factor for r in points])
        for regularised, style in ((False, BASE_STYLE), (True, RHO_STYLE)):
            mine = [i for i, r in enumerate(points) if r.method.regularised == regularised]
            ax.plot(x[mine], y[mine], zorder=3, **style)
        spread = [i for i, r in enumerate(points) if r.n >= 2]   # one seed has no spread to draw
        if spread:
            any_bars = True
            ax.errorbar(x[spread], y[spread], xerr=[np.nan_to_num(points[i].stats[RHO].std) for i in spread],
                        yerr=[np.nan_to_num(points[i].stats[RECALL].std * factor) for i in spread],
                        fmt="none", ecolor="0.75", elinewidth=0.7, capsize=2, zorder=2)
        r = pearson(x, y) if len(points) >= MIN_POINTS_FOR_R else math.nan
        if not math.isnan(r):
            any_fit = True
            slope, intercept = np.polyfit(x, y, 1)
            xs = np.linspace(x.min(), x.max(), 50)
            ax.plot(xs, slope * xs + intercept, "k--", lw=1, zorder=1)
        ax.set_title(f"{dataset_name(dataset)}, {len(points)} methods: {correlation_note(r, len(points))}",
                     fontsize=9 if len(points) < MIN_POINTS_FOR_R else 10)
        ax.set_xlabel(f"{display(RHO)}, mean over seeds (KL to uniform; lower = flatter spectrum)", fontsize=8)
        ax.set_ylabel("R@1 (%), mean over seeds")
        ax.margins(x=0.25, y=0.12)   # room for the labels beside the outermost markers
        panels.append((ax, x, y, [p.label for p in points]))
    entries = [("base method", BASE_STYLE), ("ρ-regularised (rho_distance mining)", RHO_STYLE)]
    if any_fit:
        entries.append(("least-squares fit", dict(color="k", linestyle="--", lw=1)))
    if any_bars:
        entries.append(("±1 std over seeds (none for n = 1)", dict(color="0.75", lw=0.7)))
    fig.legend(handles=_legend_handles(entries), loc="outside lower center", fontsize=8, frameon=False,
               ncol=legend_columns(fig, len(entries)))
    fig.canvas.draw()                        # fix the layout, then place labels in the final axes
    fig.set_layout_engine("none")
    for ax, x, y, labels in panels:
        place_labels(ax, list(x), list(y), labels)
    return fig


def recall_vs_rho(rows: list[Row], path: str) -> str:
    """``path``: :func:`recall_vs_rho_figure` (:class:`NotDrawn` when the data do not allow it)."""
    return _save(recall_vs_rho_figure(rows), path)


def metric_correlation_figure(rows: list[Row], metrics: list[str]):
    """Per dataset, the Pearson correlation matrix of ``metrics`` over every selected run.
    Raises :class:`NotDrawn` when the data cannot support it."""
    if len(metrics) < 2:
        raise NotDrawn("needs at least 2 --metrics")
    most_runs = max((sum(r.n for r in rows if r.dataset == d) for d in ordered_datasets(rows)), default=0)
    if most_runs < 3:
        raise NotDrawn(f"needs 3 runs of one dataset (most: {most_runs})")
    panels, corr_runs = [], {}
    for dataset in ordered_datasets(rows):
        mine = [r for r in rows if r.dataset == dataset]
        table = np.array([[v for r in mine for v in r.values.get(m, [math.nan] * r.n)] for m in metrics], float)
        keep = [i for i, col in enumerate(table) if np.isfinite(col).sum() >= 3]
        table = table[keep][:, np.isfinite(table[keep]).all(0)]  # runs that have every kept metric
        varying = [j for j, col in enumerate(table) if np.std(col) > 0]
        if len(varying) >= 2 and table.shape[1] >= 3:
            panels.append((dataset, [metrics[keep[j]] for j in varying], np.corrcoef(table[varying])))
            corr_runs[dataset] = table.shape[1]
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
        ax.set_title(f"{dataset_name(dataset)}: correlation over {corr_runs[dataset]} runs", fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.046, label="Pearson r")
    fig.tight_layout()
    return fig


def metric_correlation(rows: list[Row], metrics: list[str], path: str) -> str:
    """``path``: :func:`metric_correlation_figure` (:class:`NotDrawn` when the data do not allow it)."""
    return _save(metric_correlation_figure(rows, metrics), path)


def base_vs_rho_figure(rows: list[Row]):
    """Per dataset, a dot plot of R@1 of each base method (circle) beside its ρ-regularised version
    (square), joined by a line labelled with the difference; ±1 std bars only for n >= 2 seeds. A
    dot plot, not bars: the zoomed axis shows the gaps without bars whose length would mislead.
    Raises :class:`NotDrawn` when the data cannot support it."""
    _need(rows, RECALL)
    if not any(r.method.regularised for r in rows):
        raise NotDrawn("no ρ-regularised run (--batch_mining rho_distance)")
    panels = []
    for dataset in ordered_datasets(rows):
        mine = [r for r in rows if r.dataset == dataset and RECALL in r.stats]
        pairs = []
        for reg in (r for r in mine if r.method.regularised):
            base = [r for r in mine if r.method == reg.method.base]
            if base and _finite(base[0].stats[RECALL].mean, reg.stats[RECALL].mean):
                pairs.append((base[0], reg))
        if pairs:
            panels.append((dataset, pairs))
    if not panels:
        raise NotDrawn("no ρ-regularised method has its base method (--batch_mining distance) on its dataset")
    plt = _pyplot()
    width = max(5.0, 1.5 * max(len(p) for _, p in panels))
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), 4.8), squeeze=False,
                             layout="constrained")
    factor, any_bars, any_single = scale(RECALL), False, False
    for ax, (dataset, pairs) in zip(axes[0], panels):
        for i, pair in enumerate(pairs):
            means = [row.stats[RECALL].mean * factor for row in pair]
            stds = [row.stats[RECALL].std * factor if row.n >= 2 else math.nan for row in pair]
            xs = [i - 0.15, i + 0.15]
            ax.plot(xs, means, color="0.7", lw=1, zorder=1)
            for xpos, mean, std, style in zip(xs, means, stds, (BASE_STYLE, RHO_STYLE)):
                ax.plot([xpos], [mean], zorder=3, **style)
                if math.isnan(std):
                    any_single = True
                else:
                    any_bars = True
                    ax.errorbar([xpos], [mean], yerr=[std], fmt="none", ecolor="0.4", elinewidth=0.8,
                                capsize=3, zorder=2)
            top = max(m + (0.0 if math.isnan(s) else s) for m, s in zip(means, stds))
            ax.annotate(f"Δ {means[1] - means[0]:+.2f}", (i, top), xytext=(0, 9), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(pairs)), [f"{base.label}\nn = {base.n} / {reg.n}" for base, reg in pairs],
                      fontsize=7)
        ax.set_xlim(-0.6, len(pairs) - 0.4)
        ax.margins(y=0.2)
        ax.grid(axis="y", color="0.92", zorder=0)
        ax.set_ylabel("R@1 (%), mean over seeds (axis not from 0)", fontsize=9)
        ax.set_xlabel("base method (n = seeds of base / ρ-regularised)", fontsize=8)
        ax.set_title(f"{dataset_name(dataset)}: base vs ρ-regularised", fontsize=10)
    entries = [("base", BASE_STYLE), ("ρ-regularised", RHO_STYLE)]
    if any_bars:
        entries.append(("±1 std over seeds", dict(color="0.4", lw=0.8)))
    if any_single:
        entries.append(("n = 1: no error bar", dict(linestyle="none")))
    fig.legend(handles=_legend_handles(entries), loc="outside lower center", fontsize=8, frameon=False,
               ncol=legend_columns(fig, len(entries)))
    return fig


def base_vs_rho(rows: list[Row], path: str) -> str:
    """``path``: :func:`base_vs_rho_figure` (:class:`NotDrawn` when the data do not allow it)."""
    return _save(base_vs_rho_figure(rows), path)


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
