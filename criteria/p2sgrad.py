"""P2SGrad: a squared loss on the cosines, whose gradient is the paper's refined gradient."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, cosine_logits
from criteria.terms import LossTerm


@LOSSES.register("p2sgrad")
class P2SGradLoss(ProxyLoss):
    """P2SGrad (Zhang et al., "P2SGrad: Refined Gradients for Optimizing Deep Face Models",
    CVPR 2019).

    The paper's gradient (its Eq. 11), ``(cos θ_ic − 1[c = y_i]) ∇cos θ_ic``, free of scale and
    margin hyper-parameters, is the gradient of a mean squared error between the cosines and
    the one-hot target (as in the authors' follow-up code, ``nn.MSELoss``, and PML)::

        l_i = (1/C) Σ_c (cos θ_ic − 1[c = y_i])²        L = (1/B) Σ_i l_i

    i.e. the mean over the B × C entries (the default ``mean`` reducer over the l_i).

    Parameters
    ----------
    lr : float
        Learning rate of the class weights (their own optimizer group).
    """

    term_names = ("p2sgrad",)

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 0.0005, **base: Any):
        super().__init__(**base)
        self.group_lr = lr
        self.init_proxies(n_classes, embed_dim)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        cos = cosine_logits(embeddings, self.proxies)
        one_hot = torch.zeros_like(cos).scatter_(1, labels.view(-1, 1), 1.0)
        values = F.mse_loss(cos, one_hot, reduction="none").mean(dim=1)      # one fused op and backward
        self.record_accuracy(cos, labels)
        return {"p2sgrad": self.element_term(values, indices_tuple)}
