"""Signal-to-noise ratio triplet loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.regularizers.zero_mean import component_sums
from criteria.terms import LossTerm
from criteria.triplet import TripletLoss


@LOSSES.register("snr")
class SNRLoss(TripletLoss):
    """SNR triplet loss (Yuan et al., "Signal-To-Noise Ratio: A Robust Distance Metric for Deep
    Metric Learning", CVPR 2019).

    Formula::

        L = avg_nonzero_t [d_SNR(a, p) - d_SNR(a, n) + margin]_+  +  reg_lambda · (1/T) Σ_t |Σ_d x_{a_t, d}|

    with ``d_SNR(x, y) = Var(y - x) / Var(x)`` (the ``snr`` distance) and the zero-mean
    regularizer on the triplets' anchors. Fixed: the Revisiting-DML tool divided by the number
    of active triplets without a guard (NaN when none is active); here that gives zero. The
    regularizer applies with every miner (the old tool silently dropped it with ``distance``).

    Parameters
    ----------
    margin : float
        The margin between the positive and negative SNR distances.
    reg_lambda : float
        Weight of the zero-mean regularizer on the anchor embeddings.
    """

    default_distance = "snr"
    allowed_distances = ("snr",)
    distance_note = "the SNR loss is the triplet loss on the SNR distance"
    default_reducer = "avg_nonzero"
    term_names = ("snr", "snr_reg")

    def __init__(self, margin: float = 0.2, reg_lambda: float = 0.005, **base: Any):
        super().__init__(margin=margin, **base)
        self.reg_lambda = reg_lambda

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        terms = super().compute_loss(embeddings, labels, indices_tuple)
        anchors = terms["snr"].anchors
        if self.reg_lambda and anchors.numel():
            # |Σ_d x_i| per item, then gathered per triplet: no (T, D) copy of the anchors
            reg = self.reg_lambda * component_sums(embeddings).abs()[anchors].mean()
            terms["snr_reg"] = LossTerm(reg, "reduced")
        return terms
