"""Proxy Anchor: proxies as anchors, every batch embedding as positive or negative."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, cosine_logits, full_precision, tuple_element_weights
from criteria.terms import LossTerm
from utilities.masked_ops import masked_logsumexp


@LOSSES.register("proxyanchor")
class ProxyAnchorLoss(ProxyLoss):
    """Proxy Anchor loss (Kim et al., "Proxy Anchor Loss for Deep Metric Learning", CVPR 2020).

    With cosine similarities ``s(x, p)``, proxies ``P``, the proxies ``P⁺`` with positives in the
    batch, and ``X_p⁺`` / ``X_p⁻`` the batch embeddings of / not of p's class::

        ℓ = 1/|P⁺| Σ_{p ∈ P⁺} log(1 + Σ_{x ∈ X_p⁺} e^{−α (s(x, p) − δ)})
          + 1/|P|  Σ_{p ∈ P}  log(1 + Σ_{x ∈ X_p⁻} e^{ α (s(x, p) + δ)})

    The per-proxy averages are part of the formula, so both terms come back reduced. Mined tuples,
    when given, weight each embedding's exponential (unmined embeddings drop out).

    Parameters
    ----------
    lrmulti : float
        The proxies' learning rate is lrmulti times --lr (100 in the paper).
    margin : float
        Margin δ.
    alpha : float
        Scaling α.
    """

    term_names = ("pos", "neg")

    wired_params = ProxyLoss.wired_params + ("base_lr",)   # its lr flag multiplies --lr

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, base_lr: float = 1e-5, lrmulti: float = 100.0,
                 margin: float = 0.1, alpha: float = 32.0, **base: Any):
        super().__init__(**base)
        self.group_lr, self.margin, self.alpha = base_lr * lrmulti, margin, alpha
        self.init_proxies(n_classes, embed_dim, init="kaiming_normal")

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        cos = cosine_logits(embeddings, self.proxies)
        with full_precision(cos.device):
            positive = F.one_hot(labels, cos.shape[1]).bool()
            used = torch.ones(cos.shape[0], dtype=torch.bool, device=cos.device)
            log_w = torch.zeros(cos.shape[0], 1, dtype=cos.dtype, device=cos.device)
            if indices_tuple is not None:
                weights = tuple_element_weights(indices_tuple, cos.shape[0], cos.dtype)
                used, log_w = weights > 0, weights.clamp_min(1e-30).log().view(-1, 1)
            pos_mask, neg_mask = positive & used.view(-1, 1), ~positive & used.view(-1, 1)
            pos = masked_logsumexp(-self.alpha * (cos - self.margin) + log_w, pos_mask, dim=0, add_one=True)
            neg = masked_logsumexp(self.alpha * (cos + self.margin) + log_w, neg_mask, dim=0, add_one=True)
            with_pos = pos_mask.any(dim=0)
            pos_loss = pos[with_pos].sum() / with_pos.sum().clamp_min(1)
            neg_loss = neg.mean()
        self.stats = {"proxies_with_positives": with_pos.sum().detach().float()}
        return {"pos": LossTerm(pos_loss, "reduced"), "neg": LossTerm(neg_loss, "reduced")}
