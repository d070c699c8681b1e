"""Signal-to-noise ratio distance."""
from __future__ import annotations

import torch

from distances import DISTANCES
from distances.base import BaseDistance


@DISTANCES.register("snr")
class SNRDistance(BaseDistance):
    """Signal-to-noise ratio distance (Yuan et al., "Signal-To-Noise Ratio: A Robust Distance
    Metric for Deep Metric Learning", CVPR 2019).

    The anchor ``x`` is the signal and ``y - x`` the noise::

        d_SNR(x, y) = Var(y - x) / Var(x),     Var(v) = (1/D) Σ_d (v_d - mean(v))^2

    computed for all pairs from inner products (no (N, M, D) tensor). It is not symmetric:
    rows are anchors. ``Var(x)`` is clamped at 1e-12 so a constant embedding gives a finite value.

    Parameters
    ----------
    normalize_embeddings : bool
        L2-normalise the embeddings before measuring (default false).
    """

    is_similarity = False
    is_symmetric = False

    def _pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        dim = x.shape[1]
        mx, my = x.mean(1, keepdim=True), y.mean(1, keepdim=True)
        sq = (x * x).sum(1, keepdim=True) + (y * y).sum(1).unsqueeze(0) - 2.0 * x @ y.T
        noise = (sq / dim - (my.T - mx) ** 2).relu()
        signal = ((x - mx) ** 2).mean(1, keepdim=True).clamp_min(1e-12)
        return noise / signal
