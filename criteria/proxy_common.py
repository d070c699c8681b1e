"""Shared math and mechanics of the losses that own learnable proxies / class weights.

Everything the proxy and classification losses have in common lives here once:

* :class:`ProxyLoss`: the base class. It owns the ``(n_classes * per_class, embed_dim)`` weight
  matrix, gives it its own optimizer parameter group (``param_groups``; weight decay is added by
  ``training.optim`` from ``--loss_weight_decay``, 0 by default), exposes it to
  ``--weight_regularizer`` (``regularized_weights``), and turns mined tuples, when given, into
  per-element weights;
* :func:`compute_dtype` / :func:`cosine_logits` / :func:`linear_logits`: class logits computed in
  float32 (or float64 when the embeddings are float64) outside autocast, without ever changing the
  parameters' own dtype;
* :func:`with_target` (a new value for the target logit only), :func:`angles`,
  :func:`additive_angular_target` (ArcFace's cos(θ + m) with the θ + m > π fix) and
  :func:`multiplicative_angular_target` (ψ(θ) of L-Softmax and SphereFace).
"""
from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from criteria.base import BaseLoss
from criteria.terms import LossTerm
from utilities.tuples import element_weights

# acos'(x) = -1/sqrt(1 - x^2) is infinite at |x| = 1; clamping a hair inside keeps gradients finite.
ACOS_EPS = 1e-6


def compute_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The dtype logits are computed in: the promotion of the inputs, never below float32."""
    dtype = torch.float32
    for t in tensors:
        dtype = torch.promote_types(dtype, t.dtype)
    return dtype


def full_precision(device: torch.device) -> AbstractContextManager:
    """Disable autocast so the logits are computed in float32 even inside ``torch.autocast``
    (a no-op context when autocast is off: entering ``torch.autocast`` costs more than the
    small proxy losses' arithmetic)."""
    return torch.autocast(device.type, enabled=False) if torch.is_autocast_enabled(device.type) else nullcontext()


def linear_logits(embeddings: torch.Tensor, weights: torch.Tensor, normalize_embeddings: bool,
                  normalize_weights: bool) -> torch.Tensor:
    """``x_i · w_c`` (B, N) in :func:`compute_dtype`, each side optionally L2-normalised.

    The parameter is cast for the product only (a view for autograd); its storage keeps its dtype.
    """
    dtype = compute_dtype(embeddings, weights)
    with full_precision(embeddings.device):
        x, w = embeddings.to(dtype), weights.to(dtype)
        if normalize_embeddings:
            x = unit_rows(x)
        if normalize_weights:
            w = unit_rows(w)
        return x @ w.t()


class _UnitRows(torch.autograd.Function):
    """``y = x / max(‖x‖, eps)`` per row as one autograd node, with the analytic backward
    ``∂L/∂x = (g − y ⟨g, y⟩) / ‖x‖`` (``g / eps`` on a clamped row, as ``F.normalize``)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, eps: float) -> torch.Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
        inv = norm.clamp_min(eps).reciprocal_()
        y = x * inv
        ctx.save_for_backward(y, inv, (norm > eps).to(y.dtype))
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        y, inv, unclamped = ctx.saved_tensors           # unclamped: 1.0, or 0.0 on a clamped row
        along = torch.linalg.vecdot(grad, y).unsqueeze(-1).mul_(unclamped)
        return grad.addcmul(y, along, value=-1.0).mul_(inv), None


def unit_rows(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``x / max(‖x‖, eps)`` per row: ``F.normalize``'s value and gradient in one autograd node
    (some 45 µs less per forward + backward of a proxy loss's two normalisations)."""
    return _UnitRows.apply(x, eps)


def cosine_logits(embeddings: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``cos θ_ic`` between every embedding and every weight row, (B, N)."""
    return linear_logits(embeddings, weights, True, True)


def target_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``logits[i, y_i]``, shape (B,)."""
    return logits.gather(1, labels.view(-1, 1)).squeeze(1)


def with_target(logits: torch.Tensor, labels: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``logits`` with ``logits[i, y_i]`` replaced by ``target[i]``; every other logit unchanged."""
    return logits.scatter(1, labels.view(-1, 1), target.view(-1, 1).to(logits.dtype))


def angles(cos: torch.Tensor) -> torch.Tensor:
    """``θ = arccos(cos)`` with finite gradients at ``cos = ±1``."""
    return torch.acos(cos.clamp(-1 + ACOS_EPS, 1 - ACOS_EPS))


def additive_angular_target(cos: torch.Tensor, margin: float, easy_margin: bool) -> torch.Tensor:
    """ArcFace's target logit ``cos(θ + m)`` (Deng et al., CVPR 2019).

    ``cos(θ + m)`` stops decreasing in θ once ``θ + m > π`` (it rises again towards ``cos m``), which
    would reward pushing an embedding further from its class. There the target becomes
    ``cos θ − (1 − cos m)``: a CosFace-style shift chosen so that it equals ``cos(π) = −1`` at the
    switch ``θ = π − m``, so the target is continuous and monotonically decreasing on [0, π]. (The
    common ``cos θ − m sin m`` fallback is monotone too but jumps at the switch.) With
    ``easy_margin`` the margin only applies where ``cos θ > 0``.
    """
    theta = angles(cos)
    shifted = torch.cos(theta + margin)
    if easy_margin:
        return torch.where(cos > 0, shifted, cos)
    return torch.where(theta + margin <= math.pi, shifted, cos - (1.0 - math.cos(margin)))


def multiplicative_angular_target(cos: torch.Tensor, margin: int) -> torch.Tensor:
    """``ψ(θ) = (−1)^k cos(mθ) − 2k`` for ``θ ∈ [kπ/m, (k+1)π/m]`` (Liu et al., L-Softmax 2016 and
    SphereFace 2017): monotonically decreasing on [0, π], equal to ``cos θ`` when ``m = 1``."""
    theta = angles(cos)
    k = torch.floor(theta * margin / math.pi).detach()
    sign = 1.0 - 2.0 * torch.remainder(k, 2)
    return sign * torch.cos(margin * theta) - 2.0 * k


def tuple_element_weights(indices_tuple: tuple[torch.Tensor, ...], batch_size: int,
                          dtype: torch.dtype) -> torch.Tensor:
    """Per-embedding weights from mined tuples: ``utilities.tuples.element_weights`` (occurrences
    in any role) divided by the largest count, so unmined elements weigh 0 and the most mined 1."""
    counts = element_weights(indices_tuple, batch_size, dtype)
    return counts / counts.max().clamp_min(1)


class ProxyLoss(BaseLoss):
    """Base of the losses with learnable proxies / class weights (no miner: ``takes = ()``).

    Subclasses call :meth:`init_proxies` and implement ``compute_loss``; :meth:`element_term`
    wraps per-embedding losses into a :class:`LossTerm`, weighted by mined tuples when
    ``indices_tuple`` is given (a direct call; ``main.py`` builds no miner for these losses).

    ``group_lr`` is the learning rate of the parameter group; a loss whose flag is a multiplier of
    the base ``--lr`` (``lrmulti``) declares ``base_lr`` among its needs (``wired_params``).
    """

    takes: tuple[str, ...] = ()
    wired_params = BaseLoss.wired_params + ("n_classes", "embed_dim")
    default_distance = "cosine"
    allowed_distances = ("cosine",)   # every one compares normalised embeddings with its weights
    default_reducer = "mean"

    proxies: nn.Parameter

    def init_proxies(self, n_rows: int, embed_dim: int, init: str = "uniform") -> None:
        """Create ``self.proxies`` (n_rows, embed_dim).

        ``uniform``: U(−1/√D, 1/√D) (the class-weight init of linear layers); ``normal``: N(0, 1);
        ``kaiming_normal``: fan-out Kaiming normal (ProxyAnchor's init); ``kaiming_uniform``.
        """
        weight = torch.empty(n_rows, embed_dim)
        if init == "uniform":
            bound = 1.0 / math.sqrt(embed_dim)
            nn.init.uniform_(weight, -bound, bound)
        elif init == "normal":
            nn.init.normal_(weight)
        elif init == "kaiming_normal":
            nn.init.kaiming_normal_(weight, mode="fan_out")
        elif init == "kaiming_uniform":
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
        else:
            raise ValueError(f"unknown proxy init '{init}'")
        self.proxies = nn.Parameter(weight)

    group_lr: float = 0.0  # set by each subclass from its lr flag

    def param_groups(self) -> list[dict[str, Any]]:
        name = type(self).__name__
        return [{"params": [p for p in self.parameters() if p.requires_grad], "lr": self.group_lr,
                 "name": f"loss_{name}"}]

    def regularized_weights(self) -> torch.Tensor:
        return self.proxies

    def element_term(self, values: torch.Tensor, indices_tuple: tuple[torch.Tensor, ...] | None) -> LossTerm:
        """Per-embedding losses (B,) as a LossTerm, times the mined-tuple weights when given."""
        if indices_tuple is not None:
            values = values * tuple_element_weights(indices_tuple, values.shape[0], values.dtype)
        return LossTerm(values, "element", torch.arange(values.shape[0], device=values.device))

    def classification_term(self, logits: torch.Tensor, labels: torch.Tensor,
                            indices_tuple: tuple[torch.Tensor, ...] | None) -> LossTerm:
        """Softmax cross-entropy per embedding, ``log Σ_c exp(z_ic) − z_{i y_i}``."""
        with full_precision(logits.device):
            values = F.cross_entropy(logits, labels, reduction="none")
        self.record_accuracy(logits, labels)
        return self.element_term(values, indices_tuple)

    def record_accuracy(self, scores: torch.Tensor, labels: torch.Tensor) -> None:
        """``stats["accuracy"]``: the top-1 accuracy of the class ``scores`` (B, C), kept as a
        detached 0-dim tensor so recording it costs no device sync."""
        self.stats = {"accuracy": (scores.detach().argmax(1) == labels).float().mean()}


def parameters_doc(cls: type) -> str:
    """The numpy-style ``Parameters`` section of ``cls``'s docstring, for a subclass to reuse (the
    generated flags take their help from the registered class's own docstring)."""
    doc = cls.__doc__ or ""
    return doc[doc.index("    Parameters\n"):].rstrip() + "\n" if "    Parameters\n" in doc else ""

