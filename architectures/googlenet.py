"""GoogLeNet / Inception-v1 (Szegedy et al., CVPR 2015) from torchvision."""
from __future__ import annotations

import torch
from torch import nn

from architectures import ARCHITECTURES
from architectures.input_space import IMAGENET
from architectures.weights import load_state_dict, require_rgb

HEAD_LAYERS = ("aux1", "aux2", "avgpool", "dropout", "fc")


@ARCHITECTURES.register("googlenet")
class GoogLeNet(nn.Module):
    """GoogLeNet up to ``inception5b``: feature maps (B, 1024, H/32, W/32); evaluated at 227 px crops
    as in the Revisiting-DML protocol.

    Pretrained weights are torchvision's ``IMAGENET1K_V1``, which expect its ``transform_input``
    re-normalisation (applied here only when pretrained).
    """

    input_space = IMAGENET
    wired_params = ("in_channels", "pretrained", "weights_dir")

    def __init__(self, in_channels: int = 3, pretrained: bool = True, weights_dir: str = ""):
        from torchvision import models  # lazy: `import architectures` (flag building) stays light
        super().__init__()
        require_rgb(in_channels, "googlenet")
        net = models.googlenet(weights=None, aux_logits=pretrained, transform_input=pretrained,
                               init_weights=not pretrained)
        if pretrained:
            net.load_state_dict(load_state_dict(models.GoogLeNet_Weights.IMAGENET1K_V1.url, weights_dir, "googlenet"))
        # Keep only the feature layers: the classifier and auxiliary heads would be parameters that
        # never get a gradient (DistributedDataParallel refuses those).
        self.layers = nn.Sequential(*[m for n, m in net.named_children() if n not in HEAD_LAYERS])
        self.feat_dim = net.fc.in_features
        self.transform_input = pretrained

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:   # torchvision's re-normalisation from ImageNet stats to [-1, 1]
            x = torch.cat([x[:, 0:1] * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
                           x[:, 1:2] * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
                           x[:, 2:3] * (0.225 / 0.5) + (0.406 - 0.5) / 0.5], 1)
        return self.layers(x)
