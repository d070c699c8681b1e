"""CosFace: an additive cosine margin on the target class."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, cosine_logits, target_logits, with_target
from criteria.terms import LossTerm


@LOSSES.register("cosface")
class CosFaceLoss(ProxyLoss):
    """CosFace / large margin cosine loss (Wang et al., "CosFace: Large Margin Cosine Loss for
    Deep Face Recognition", CVPR 2018).

    With ``cos θ_ic`` between the normalised embedding and normalised class weight, scale ``s`` and
    margin ``m`` subtracted from the target cosine only::

        l_i = −log( exp(s (cos θ_{i y_i} − m)) / (exp(s (cos θ_{i y_i} − m)) + Σ_{c≠y_i} exp(s cos θ_ic)) )

    Parameters
    ----------
    lr : float
        Learning rate of the class weights (their own optimizer group).
    margin : float
        Cosine margin m.
    scale : float
        Scale s of the cosine logits.
    """

    term_names = ("cosface",)

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 0.0005, margin: float = 0.35,
                 scale: float = 64.0, **base: Any):
        super().__init__(**base)
        self.group_lr, self.margin, self.scale = lr, margin, scale
        self.init_proxies(n_classes, embed_dim)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        cos = cosine_logits(embeddings, self.proxies)
        logits = self.scale * with_target(cos, labels, target_logits(cos, labels) - self.margin)
        return {"cosface": self.classification_term(logits, labels, indices_tuple)}
