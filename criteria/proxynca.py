"""ProxyNCA / ProxyNCA++: NCA against one learnable proxy per class."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, compute_dtype, full_precision, linear_logits
from criteria.terms import LossTerm


@LOSSES.register("proxynca")
class ProxyNCALoss(ProxyLoss):
    """ProxyNCA (Movshovitz-Attias et al., "No Fuss Distance Metric Learning using Proxies",
    ICCV 2017) with the ProxyNCA++ options (Teh et al., "ProxyNCA++: Revisiting and Revitalizing
    Proxy Neighborhood Component Analysis", ECCV 2020).

    With the L2-normalised embedding ``x̂_i``, proxies ``p̂_c`` (normalised unless
    ``normalize_proxies`` is off), squared distances ``d_ic = ‖x̂_i − p̂_c‖²`` and temperature T::

        l_i = d_{i y_i} / T + log Σ_{c ∈ N_i} exp(−d_ic / T)

    where ``N_i`` is every class but ``y_i`` (``exclude_positive``, the original ProxyNCA and the
    old tool's form) or every class (ProxyNCA++: a softmax cross-entropy over ``−d/T``).
    ``T = 1/9`` equals the old tool's scaling of both sides by 3.

    Parameters
    ----------
    lrmulti : float
        The proxies' learning rate is lrmulti times --lr.
    temperature : float
        Temperature T dividing the distances.
    normalize_proxies : bool
        L2-normalise the proxies (ProxyNCA++, and the old tool).
    exclude_positive : bool
        Leave the positive proxy out of the denominator (original ProxyNCA).
    """

    term_names = ("proxynca",)

    wired_params = ProxyLoss.wired_params + ("base_lr",)   # its lr flag multiplies --lr

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, base_lr: float = 1e-5, lrmulti: float = 50.0,
                 temperature: float = 1.0 / 9.0, normalize_proxies: bool = True, exclude_positive: bool = True,
                 **base: Any):
        super().__init__(**base)
        if temperature <= 0:
            raise ValueError(f"--loss_proxynca_temperature must be positive, got {temperature}")
        self.group_lr, self.temperature = base_lr * lrmulti, temperature
        self.normalize_proxies, self.exclude_positive = normalize_proxies, exclude_positive
        self.init_proxies(n_classes, embed_dim, init="normal")
        with torch.no_grad():
            self.proxies.div_(8)   # the old tool's N(0, 1/64) init

    def squared_distances(self, embeddings: torch.Tensor) -> torch.Tensor:
        """``‖x̂_i − p_c‖²`` (B, C) from ``‖x̂‖² + ‖p‖² − 2 x̂·p``, clamped at 0."""
        dot = linear_logits(embeddings, self.proxies, True, self.normalize_proxies)
        if self.normalize_proxies:
            return (2 - 2 * dot).relu()
        sq = self.proxies.to(compute_dtype(embeddings, self.proxies)).pow(2).sum(1)
        return (1 + sq - 2 * dot).relu()

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        logits = -self.squared_distances(embeddings) / self.temperature
        if not self.exclude_positive:
            return {"proxynca": self.classification_term(logits, labels, indices_tuple)}
        with full_precision(logits.device):
            positive = F.one_hot(labels, logits.shape[1]).bool()
            target = logits.gather(1, labels.view(-1, 1)).squeeze(1)
            values = torch.logsumexp(logits.masked_fill(positive, float("-inf")), dim=1) - target
        # a single training class leaves no negative proxy: nothing to learn
        values = torch.where(torch.isfinite(values), values, torch.zeros_like(values))
        self.record_accuracy(logits, labels)
        return {"proxynca": self.element_term(values, indices_tuple)}
