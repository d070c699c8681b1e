"""Aggregation figures: legends and axis labels, labels beside (not on) markers, a dot plot instead of
truncated bars, and no error bars for single-seed methods."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer
from matplotlib.legend import Legend

from aggregation import plots
from aggregation.aggregate import Row
from aggregation.naming import Method
from utilities.stats import describe


def row(loss, miner, beta, recall, rho, n, dataset="cub200"):
    """A group of ``n`` seeds around the given means (spread 0.01)."""
    method = Method(loss, miner, beta)
    spread = np.linspace(-0.01, 0.01, n) if n > 1 else np.zeros(1)
    values = {"e_recall@1": list(recall + spread), "rho_spectrum@2": list(rho + spread), "nmi": list(0.6 + spread)}
    return Row(dataset, method.label, method.label, method, list(range(n)), values,
               {k: describe(v) for k, v in values.items()})


def rows_of(n):
    # the two R-Margin points nearly coincide: their labels must still go to different spots
    return [row("margin", "distance", 1.2, 0.628, 0.42, n), row("margin", "rho_distance", 1.2, 0.641, 0.300, n),
            row("margin", "distance", 0.6, 0.625, 0.43, n), row("margin", "rho_distance", 0.6, 0.640, 0.301, n),
            row("triplet", "distance", None, 0.62, 0.41, n), row("triplet", "rho_distance", None, 0.636, 0.32, n),
            row("arcface", None, None, 0.61, 0.45, n)]


def figure_legend_texts(fig):
    legends = [c for c in fig.get_children() if isinstance(c, Legend)]
    assert len(legends) == 1
    return [t.get_text() for t in legends[0].get_texts()]


@pytest.mark.parametrize("n", [1, 3])
def test_recall_vs_rho_has_a_legend_axis_labels_and_labels_beside_markers(n):
    fig = plots.recall_vs_rho_figure(rows_of(n))
    texts = figure_legend_texts(fig)
    assert texts[:3] == ["base method", "ρ-regularised (rho_distance mining)", "least-squares fit"]
    assert any("std" in t for t in texts) == (n > 1)
    [ax] = fig.axes
    assert ax.get_xlabel() and ax.get_ylabel() and "Pearson r" in ax.get_title()
    has_bars = any(isinstance(c, ErrorbarContainer) for c in ax.containers)
    assert has_bars == (n > 1)                         # n = 1: no flat "error bars"
    renderer = fig.canvas.get_renderer()
    notes = ax.texts
    assert len(notes) == 7
    boxes = [t.get_window_extent(renderer) for t in notes]
    markers = ax.transData.transform([t.xy for t in notes])
    half = 3 * fig.dpi / 72                             # 6 pt markers
    inside = ax.get_window_extent(renderer)
    for i, box in enumerate(boxes):
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
        for cx, cy in markers:
            assert not (box.x0 < cx + half and cx - half < box.x1 and box.y0 < cy + half and cy - half < box.y1)
        for other in boxes[i + 1:]:
            assert not box.overlaps(other)


@pytest.mark.parametrize("n", [1, 3])
def test_base_vs_rho_is_a_dot_plot_with_error_bars_only_for_several_seeds(n):
    fig = plots.base_vs_rho_figure(rows_of(n))
    [ax] = fig.axes
    assert not ax.patches                               # no bars whose length a zoomed axis would distort
    assert "not from 0" in ax.get_ylabel() and ax.get_xlabel()
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == (6 if n > 1 else 0)             # 3 pairs x (base, regularised)
    texts = figure_legend_texts(fig)
    assert texts[:2] == ["base", "ρ-regularised"]
    assert ("n = 1: no error bar" in texts) == (n == 1)
    assert sorted(t.get_text() for t in ax.texts) == ["Δ +1.30", "Δ +1.50", "Δ +1.60"]
    assert [t.get_text() for t in ax.get_xticklabels()][0] == f"Margin (D, β=1.2)\nn = {n} / {n}"


def test_metric_correlation_colourbar_is_labelled():
    fig = plots.metric_correlation_figure(rows_of(3), ["e_recall@1", "nmi", "rho_spectrum@2"])
    assert fig.axes[1].get_ylabel() == "Pearson r"


def test_all_plots_writes_pngs_and_skips_what_the_data_cannot_draw(tmp_path):
    written, skipped = plots.all_plots(rows_of(2), ["e_recall@1", "nmi", "rho_spectrum@2"], str(tmp_path))
    assert [p.rsplit("/", 1)[1] for p in written] == ["recall_vs_rho.png", "metric_correlation.png", "base_vs_rho.png"]
    assert skipped == []
    for path in written:
        assert open(path, "rb").read(4) == b"\x89PNG"
    for figure in (plots.base_vs_rho_figure, plots.recall_vs_rho_figure):
        with pytest.raises(plots.NotDrawn):
            figure([row("arcface", None, None, 0.6, 0.4, 2)])


def legend_inside_figure(fig) -> bool:
    fig.canvas.draw()
    [legend] = [c for c in fig.get_children() if isinstance(c, Legend)]
    box, page = legend.get_window_extent(fig.canvas.get_renderer()), fig.bbox
    return page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1


@pytest.mark.parametrize("n_methods", [2, 7, 20])
def test_recall_vs_rho_legend_is_never_clipped(n_methods):
    """One panel 5.5 inches wide: the four legend entries used to sit on one row and lose both ends
    ("base method" was cut)."""
    rows = [row("margin", "rho_distance" if i % 2 else "distance", 0.1 * (i + 1), 0.6 + 0.003 * i,
                0.3 + 0.01 * ((7 * i) % 20), 3) for i in range(n_methods)]
    fig = plots.recall_vs_rho_figure(rows)
    assert legend_inside_figure(fig)
    assert "base method" in figure_legend_texts(fig)


def test_two_methods_get_no_pearson_r():
    """Two points always lie on a line: the panel says so instead of "Pearson r = 1.00", and draws no fit."""
    fig = plots.recall_vs_rho_figure([row("margin", "distance", 1.2, 0.63, 0.42, 3),
                                      row("margin", "rho_distance", 1.2, 0.60, 0.30, 3)])
    [ax] = fig.axes
    assert "no Pearson r: 2 points always lie on a line" in ax.get_title()
    assert "least-squares fit" not in figure_legend_texts(fig)
    assert not any(line.get_linestyle() == "--" for line in ax.get_lines())
    assert "Pearson r = 0.19" in plots.correlation_note(0.19, 3)
