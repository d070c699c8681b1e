"""NormSoftmax: softmax cross-entropy over cosine logits with a temperature."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, cosine_logits
from criteria.terms import LossTerm


@LOSSES.register("softmax")
class NormSoftmaxLoss(ProxyLoss):
    """NormSoftmax (Zhai & Wu, "Classification is a Strong Baseline for Deep Metric Learning",
    BMVC 2019).

    One weight row ``w_c`` per training class; with ``cos θ_ic`` between the L2-normalised
    embedding and the L2-normalised ``w_c`` and temperature ``T``::

        l_i = −log( exp(cos θ_{i y_i} / T) / Σ_c exp(cos θ_ic / T) )

    Parameters
    ----------
    lr : float
        Learning rate of the class weights (their own optimizer group).
    temperature : float
        Temperature T dividing the cosine logits.
    """

    term_names = ("softmax",)

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 1e-5,
                 temperature: float = 0.05, **base: Any):
        super().__init__(**base)
        if temperature <= 0:
            raise ValueError(f"--loss_softmax_temperature must be positive, got {temperature}")
        self.group_lr, self.temperature = lr, temperature
        self.init_proxies(n_classes, embed_dim)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        logits = cosine_logits(embeddings, self.proxies) / self.temperature
        return {"softmax": self.classification_term(logits, labels, indices_tuple)}
