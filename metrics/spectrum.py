"""Spectral decay of the embedding matrix (Roth et al., "Revisiting training strategies and
generalization performance in deep metric learning", ICML 2020, §5)."""
from __future__ import annotations

import numpy as np

from metrics import METRICS


@METRICS.register("rho_spectrum", evidence="spectrum", arg="int")
def rho_spectrum(singular_values: np.ndarray, k: int) -> float | np.ndarray:
    """ρ-spectrum: KL between the normalised singular-value spectrum and uniform (@0: the spectrum).

    With the singular values σ_1 ≥ … ≥ σ_d of the (N, D) embedding matrix (exact, float64),
    drop the |k|−1 largest and normalise the rest, s = σ / Σσ. Then ``k > 0``: KL(U‖s) =
    Σ u log(u/s); ``k < 0``: KL(s‖U) = Σ s log(s/u), with U uniform over the kept values;
    ``k = 0``: the whole normalised spectrum s (an array, saved, not a scalar). Natural
    logarithm; a zero singular value makes KL(U‖s) infinite."""
    s = np.sort(np.asarray(singular_values, dtype=np.float64))[::-1]
    s = s[abs(k) - 1:] if k != 0 else s
    if len(s) == 0 or s.sum() <= 0:
        return float("nan")
    s = s / s.sum()
    if k == 0:
        return s
    u = np.full(len(s), 1.0 / len(s))
    with np.errstate(divide="ignore"):
        if k > 0:
            return float(np.sum(u * (np.log(u) - np.log(s))))
        nz = s > 0
        return float(np.sum(s[nz] * (np.log(s[nz]) - np.log(u[nz]))))
