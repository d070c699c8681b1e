"""ArcFace: an additive angular margin on the target class."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, additive_angular_target, cosine_logits, target_logits, with_target
from criteria.terms import LossTerm


@LOSSES.register("arcface")
class ArcFaceLoss(ProxyLoss):
    """ArcFace (Deng et al., "ArcFace: Additive Angular Margin Loss for Deep Face Recognition",
    CVPR 2019).

    With ``θ_ic`` the angle between the normalised embedding and normalised class weight ``w_c``,
    feature scale ``s`` and angular margin ``m`` **on the target class only**::

        l_i = −log( exp(s cos(θ_{i y_i} + m)) / (exp(s cos(θ_{i y_i} + m)) + Σ_{c≠y_i} exp(s cos θ_ic)) )

    Where ``θ + m > π`` the target logit continues as ``cos θ − (1 − cos m)`` (continuous and
    monotone in θ, see ``proxy_common.additive_angular_target``);
    ``easy_margin`` applies the margin only where ``cos θ > 0``.

    Parameters
    ----------
    lr : float
        Learning rate of the class weights (their own optimizer group).
    angular_margin : float
        Additive angular margin m, in radians.
    feature_scale : float
        Scale s of the cosine logits.
    easy_margin : bool
        Apply the margin only where the target cosine is positive.
    """

    term_names = ("arcface",)

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 0.0005,
                 angular_margin: float = 0.5, feature_scale: float = 16.0, easy_margin: bool = False,
                 **base: Any):
        super().__init__(**base)
        self.group_lr, self.margin, self.scale, self.easy_margin = lr, angular_margin, feature_scale, easy_margin
        self.init_proxies(n_classes * self.rows_per_class(), embed_dim)

    def rows_per_class(self) -> int:
        return 1

    def class_cosines(self, embeddings: torch.Tensor) -> torch.Tensor:
        """``cos θ_ic`` (B, C)."""
        return cosine_logits(embeddings, self.proxies)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        cos = self.class_cosines(embeddings)
        target = additive_angular_target(target_logits(cos, labels), self.margin, self.easy_margin)
        logits = self.scale * with_target(cos, labels, target)
        return {"arcface": self.classification_term(logits, labels, indices_tuple)}
