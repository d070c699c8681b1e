"""NT-Xent (normalised temperature-scaled cross entropy, InfoNCE) loss."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import index_mask, require, similarities, tuple_pairs
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp


@LOSSES.register("ntxent")
class NTXentLoss(BaseLoss):
    """NT-Xent / InfoNCE loss (Chen et al., "A Simple Framework for Contrastive Learning of
    Visual Representations", ICML 2020; Sohn, "Improved Deep Metric Learning with Multi-class
    N-pair Loss Objective", NeurIPS 2016; van den Oord et al. 2018).

    One term per positive pair (a, p), against the negatives n of the same anchor::

        L_ap = -log( exp(s_ap / τ) / (exp(s_ap / τ) + Σ_n exp(s_an / τ)) )
             = log(1 + Σ_n exp((s_an - s_ap) / τ))

    ``s`` is the similarity (``-d`` for a distance). With mined tuples, the positive pairs are
    the mined ones and the negatives of anchor a are a's mined negative pairs.

    Parameters
    ----------
    temperature : float
        Temperature τ (MoCo uses 0.07, SimCLR 0.5).
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    term_names = ("loss",)

    def __init__(self, temperature: float = 0.07, **base: Any):
        super().__init__(**base)
        require(temperature > 0, "ntxent", "temperature", "must be positive", temperature)
        self.temperature = temperature

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        logits = similarities(self.distance, embeddings) / self.temperature
        a1, p, a2, n = tuple_pairs(labels, indices_tuple)
        neg = index_mask(a2, n, labels.numel())
        values = masked_logsumexp(logits[a1] - logits[a1, p].unsqueeze(1), neg[a1], add_one=True)
        return {"loss": LossTerm(values, "pos_pair", a1)}
