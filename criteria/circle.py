"""Circle loss."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from criteria import LOSSES
from criteria.base import BaseLoss
from criteria.functional import tuple_masks, upcast
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp


@LOSSES.register("circle")
class CircleLoss(BaseLoss):
    """Circle loss (Sun et al., "Circle Loss: A Unified Perspective of Pair Similarity
    Optimization", CVPR 2020), the pair-wise form with class labels.

    For an anchor i with positive similarities ``s_p`` and negative similarities ``s_n``::

        L_i = softplus( logsumexp_p(-γ α_p (s_p - Δ_p)) + logsumexp_n(γ α_n (s_n - Δ_n)) )
        α_p = [1 + m - s_p]_+ ,  α_n = [s_n + m]_+   (constants: no gradient)
        Δ_p = 1 - m ,            Δ_n = m

    Anchors without a positive or without a negative (in the batch, or among the mined pairs)
    contribute nothing. Cosine similarity only.

    Parameters
    ----------
    m : float
        Relaxation margin m (0.4 for fine-grained retrieval, 0.25 for faces).
    gamma : float
        Scale γ (80 for fine-grained retrieval, 256 for faces).
    """

    takes = ("pairs", "triplets")
    default_distance = "cosine"
    allowed_distances = ("cosine",)
    distance_note = "its margins live on the cosine scale [-1, 1]"
    default_reducer = "avg_nonzero"
    term_names = ("loss",)

    def __init__(self, m: float = 0.4, gamma: float = 80.0, **base: Any):
        super().__init__(**base)
        self.m, self.gamma = m, gamma

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = upcast(self.distance(embeddings))
        pos, neg = tuple_masks(labels, indices_tuple)
        alpha_p = (1 + self.m - sim.detach()).relu()
        alpha_n = (sim.detach() + self.m).relu()
        logit_p = -self.gamma * alpha_p * (sim - (1 - self.m))
        logit_n = self.gamma * alpha_n * (sim - self.m)
        total = masked_logsumexp(logit_p, pos) + masked_logsumexp(logit_n, neg)
        valid = pos.any(1) & neg.any(1)
        return {"loss": LossTerm(F.softplus(total[valid]), "element", torch.nonzero(valid).flatten())}
