"""The toy figure: every panel titled and labelled, and every title inside the figure."""
from __future__ import annotations

import numpy as np
import pytest

from toy_experiments import diagonal_lines


def fake_result(name: str, embed_dim: int) -> diagonal_lines.Result:
    rng = np.random.default_rng(len(name))
    emb = rng.standard_normal((120, embed_dim))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    spectrum = np.linspace(2, 1, embed_dim) / np.linspace(2, 1, embed_dim).sum()
    return diagonal_lines.Result(name, {"e_recall@1": 0.7, "nmi": 0.5, "rho_spectrum@1": 0.01}, emb, spectrum)


@pytest.mark.parametrize("embed_dim", [2, 4])
def test_toy_figure_titles_fit_and_every_panel_is_labelled(embed_dim):
    data = diagonal_lines.make_data(30, seed=0)
    fig = diagonal_lines.toy_figure(data, [fake_result("base", embed_dim), fake_result("rho-regularised", embed_dim)])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    for ax in fig.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
        box = ax.title.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1, ax.get_title()
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    assert not any(a.overlaps(b) for i, a in enumerate(titles) for b in titles[i + 1:])
