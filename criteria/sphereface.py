"""SphereFace: L-Softmax's multiplicative angular margin with normalised class weights."""
from __future__ import annotations

from typing import Any

from criteria import LOSSES
from criteria.large_margin_softmax import LargeMarginSoftmaxLoss
from criteria.proxy_common import parameters_doc


@LOSSES.register("sphereface")
class SphereFaceLoss(LargeMarginSoftmaxLoss):
    __doc__ = """SphereFace / A-Softmax (Liu et al., "SphereFace: Deep Hypersphere Embedding for Face
    Recognition", CVPR 2017).

    As ``large_margin_softmax`` with ``‖w_c‖ = 1``: ``f_ic = s ‖x_i‖ cos θ_ic`` and, for the target,
    ``s ‖x_i‖ (λ cos θ + ψ(θ)) / (1 + λ)`` with ``ψ(θ) = (−1)^k cos(mθ) − 2k``. The paper anneals λ
    from 1000 down to 5; the default here is that final λ = 5.

    """ + parameters_doc(LargeMarginSoftmaxLoss)

    normalize_weights = True
    term_name = "sphereface"
    term_names = (term_name,)

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 0.0005, margin: int = 4,
                 scale: float = 1.0, lambda_: float = 5.0, **base: Any):
        super().__init__(n_classes=n_classes, embed_dim=embed_dim, lr=lr, margin=margin, scale=scale,
                         lambda_=lambda_, **base)
