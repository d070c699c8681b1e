"""SoftTriple: K centres per class, a soft maximum over them, a margin on the target class."""
from __future__ import annotations

from typing import Any

import torch

from criteria import LOSSES
from criteria.proxy_common import ProxyLoss, compute_dtype, cosine_logits, target_logits, with_target
from criteria.regularizers.sparse_centers import SparseCentersRegularizer
from criteria.terms import LossTerm


@LOSSES.register("softtriplet")
class SoftTripleLoss(ProxyLoss):
    """SoftTriple loss (Qian et al., "SoftTriple Loss: Deep Metric Learning Without Triplet
    Sampling", ICCV 2019), following the paper and its reference code.

    Each class c has K centres ``w_c^k``, each L2-normalised on its own; with the normalised
    embedding ``x_i``, the class similarity is a softmax over **the K centres of that class**::

        S_ic = Σ_k softmax_k(x_i·w_c^k / γ) · x_i·w_c^k
        l_i  = −log( exp(λ (S_{i y_i} − δ)) / (exp(λ (S_{i y_i} − δ)) + Σ_{c≠y_i} exp(λ S_ic)) )

    plus ``τ · R`` with the centre regulariser
    ``R = Σ_c Σ_{s<t} sqrt(2 + 10⁻⁵ − 2 w_c^s·w_c^t) / (C K (K − 1))`` (the reference code's
    normalisation), ``τ = reg_weight`` (skipped for K = 1).

    Parameters
    ----------
    n_centroids : int
        Centres K per class.
    margin_delta : float
        Margin δ on the target class similarity.
    gamma : float
        Temperature γ of the softmax over a class's centres (divides the similarities).
    lambda_ : float
        Scale λ of the class similarities.
    reg_weight : float
        Weight τ of the centre regulariser.
    lrmulti : float
        The centres' learning rate is lrmulti times --lr.
    """

    term_names = ("softtriple", "centre_reg")

    wired_params = ProxyLoss.wired_params + ("base_lr",)   # its lr flag multiplies --lr

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, base_lr: float = 1e-5, n_centroids: int = 2,
                 margin_delta: float = 0.01, gamma: float = 0.1, lambda_: float = 8.0, reg_weight: float = 0.2,
                 lrmulti: float = 1.0, **base: Any):
        super().__init__(**base)
        if n_centroids < 1 or gamma <= 0:
            raise ValueError(f"--loss_softtriplet_n_centroids must be >= 1 and _gamma > 0, got {n_centroids}, {gamma}")
        self.n_centroids, self.margin_delta, self.gamma = n_centroids, margin_delta, gamma
        self.lambda_, self.reg_weight, self.group_lr = lambda_, reg_weight, base_lr * lrmulti
        self.init_proxies(n_classes * n_centroids, embed_dim, init="kaiming_uniform")

    def class_similarities(self, embeddings: torch.Tensor) -> torch.Tensor:
        """``S_ic`` (B, C); centre row ``c·K + k`` is ``w_c^k``.

        The product takes the centres k-major (row ``k·C + c``), so the softmax over a class's K
        centres runs along the middle axis of a (B, K, C) matrix: PyTorch's CPU softmax over a short
        last axis (B, C, K) is some 20× slower."""
        k, dim = self.n_centroids, self.proxies.shape[1]
        centres = self.proxies.view(-1, k, dim).transpose(0, 1).reshape(-1, dim)
        sim = cosine_logits(embeddings, centres).view(embeddings.shape[0], k, -1)     # (B, K, C)
        return (torch.softmax(sim / self.gamma, dim=1) * sim).sum(dim=1)

    def centre_regularizer(self) -> torch.Tensor:
        """The sparse-centres regulariser ``R`` of the centres (computed in :func:`compute_dtype`)."""
        return SparseCentersRegularizer(self.n_centroids).compute(self.proxies.to(compute_dtype(self.proxies)))

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        sim = self.class_similarities(embeddings)
        logits = self.lambda_ * with_target(sim, labels, target_logits(sim, labels) - self.margin_delta)
        terms = {"softtriple": self.classification_term(logits, labels, indices_tuple)}
        if self.reg_weight and self.n_centroids > 1:
            terms["centre_reg"] = LossTerm(self.reg_weight * self.centre_regularizer(), "reduced")
        return terms
