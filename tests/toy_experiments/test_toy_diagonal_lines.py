"""The toy experiment runs end to end in its reduced-iteration test mode."""
from __future__ import annotations

import math

import numpy as np

from toy_experiments import diagonal_lines


def test_toy_data_layout():
    data = diagonal_lines.make_data(50, seed=0, noise=0.0)
    x, y = data["train"]
    assert np.allclose(x[:, 0], x[:, 1])  # on the diagonal
    xt, yt = data["test"]
    assert sorted(np.unique(y).tolist()) == sorted(np.unique(yt).tolist()) == [0, 1, 2, 3]
    assert np.allclose(xt[yt == 0, 1], 0.5) and np.allclose(xt[yt == 2, 0], 0.5)  # axis-aligned
    # top and right segments share their diagonal coordinate range: only x - y tells them apart
    proj = lambda c: np.sort(xt[yt == c].sum(1))  # noqa: E731
    assert abs(proj(0).min() - proj(2).min()) < 0.1 and abs(proj(0).max() - proj(2).max()) < 0.1


def test_toy_reduced_mode(tmp_path, capsys):
    out = tmp_path / "toy.png"
    results = diagonal_lines.main(["--test_mode", "--out", str(out)])
    assert out.exists() and out.stat().st_size > 0
    assert [r.name for r in results] == ["base", "rho-regularised"]
    for r in results:
        assert set(r.metrics) == {"e_recall@1", "nmi", "rho_spectrum@1"}
        assert all(math.isfinite(v) for v in r.metrics.values())
        assert r.spectrum.shape == (2,) and abs(r.spectrum.sum() - 1) < 1e-9
        assert np.allclose(np.linalg.norm(r.embeddings, axis=1), 1, atol=1e-5)
    printed = capsys.readouterr().out
    assert "e_recall@1" in printed and "rho-regularised" in printed

