"""L-Softmax: a multiplicative angular margin on the target class, unnormalised weights."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.proxy_common import (ProxyLoss, compute_dtype, cosine_logits, multiplicative_angular_target,
                                   target_logits, with_target)
from criteria.terms import LossTerm


@LOSSES.register("large_margin_softmax")
class LargeMarginSoftmaxLoss(ProxyLoss):
    """Large-margin softmax (Liu et al., "Large-Margin Softmax Loss for Convolutional Neural
    Networks", ICML 2016).

    The logits keep the norms, ``f_ic = s ‖w_c‖ ‖x_i‖ cos θ_ic``, except the target, whose angle is
    multiplied by the integer margin m through ``ψ(θ) = (−1)^k cos(mθ) − 2k`` on
    ``θ ∈ [kπ/m, (k+1)π/m]``, blended with the plain cosine by λ as in the paper's training::

        f_{i y_i} = s ‖w_{y_i}‖ ‖x_i‖ (λ cos θ_{i y_i} + ψ(θ_{i y_i})) / (1 + λ)
        l_i = −log softmax_c(f_i)[y_i]

    (λ = 0 is the pure margin; the paper anneals λ towards 0, here it is a fixed flag.)

    Parameters
    ----------
    lr : float
        Learning rate of the class weights (their own optimizer group).
    margin : int
        Integer angular multiplier m (1 = plain softmax).
    scale : float
        Extra scale s of all logits.
    lambda_ : float
        Weight λ of the plain cosine blended into the target logit.
    """

    normalize_weights = False
    term_name = "large_margin_softmax"
    term_names = (term_name,)

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 0.0005, margin: int = 4,
                 scale: float = 1.0, lambda_: float = 0.0, **base: Any):
        super().__init__(**base)
        if margin < 1 or lambda_ < 0:
            raise ValueError(f"margin must be an integer >= 1 and lambda >= 0, got {margin}, {lambda_}")
        self.group_lr, self.margin, self.scale, self.lambda_ = lr, margin, scale, lambda_
        self.init_proxies(n_classes, embed_dim)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        cos = cosine_logits(embeddings, self.proxies)
        dtype = compute_dtype(embeddings, self.proxies)
        norms = embeddings.to(dtype).norm(dim=1, keepdim=True)
        if not self.normalize_weights:
            norms = norms * self.proxies.to(dtype).norm(dim=1)
        target_cos = target_logits(cos, labels)
        target = (self.lambda_ * target_cos + multiplicative_angular_target(target_cos, self.margin)) / (1 + self.lambda_)
        logits = self.scale * norms * with_target(cos, labels, target)
        return {self.term_name: self.classification_term(logits, labels, indices_tuple)}
