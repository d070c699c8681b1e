"""The embedding network: pixels to the input space, a backbone, global pooling, a linear head,
optional L2 normalisation."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from architectures.input_space import FromPixels


class EmbeddingNet(nn.Module):
    """``f(x) = normalize(W · pool(backbone(from_pixels(x))) + b)``; ``from_pixels`` maps a uint8
    image batch into the backbone's declared ``input_space`` (see :mod:`architectures.input_space`).

    Parameters
    ----------
    backbone : nn.Module
        Returns feature maps (B, C, H, W), or feature vectors (B, C) for token models.
    feat_dim : int
        C, the backbone's output width.
    embed_dim : int
        Width of the embedding.
    normalize : bool
        L2-normalise the output (the ``_normalize`` suffix).
    double_pool : bool
        Global average plus global max pooling (the ``_double`` suffix).
    frozen_bn : bool
        Keep every BatchNorm in eval mode with fixed affine parameters (the ``_frozen`` suffix).
    in_channels : int
        Channels of the input images.
    """

    def __init__(self, backbone: nn.Module, feat_dim: int, embed_dim: int, normalize: bool = False,
                 double_pool: bool = False, frozen_bn: bool = False, in_channels: int = 3):
        super().__init__()
        self.from_pixels = FromPixels(backbone.input_space, in_channels)
        self.backbone, self.normalize = backbone, normalize
        self.double_pool, self.frozen_bn = double_pool, frozen_bn
        self.head = nn.Linear(feat_dim, embed_dim)
        if frozen_bn:
            for module in self.batchnorms():
                for p in module.parameters():
                    p.requires_grad_(False)

    def batchnorms(self) -> list[nn.Module]:
        return [m for m in self.backbone.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def train(self, mode: bool = True) -> "EmbeddingNet":
        super().train(mode)
        if self.frozen_bn:
            for module in self.batchnorms():
                module.eval()
        return self

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() == 2:
            return features
        pooled = features.mean((2, 3))
        if self.double_pool:
            pooled = pooled + features.amax((2, 3))
        return pooled

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's own pooled features (B, feat_dim), before the embedding head."""
        return self.pool(self.backbone(self.from_pixels(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.head(self.features(x))
        return F.normalize(z, dim=-1) if self.normalize else z
