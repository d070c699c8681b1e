"""BN-Inception (Ioffe & Szegedy, ICML 2015) from pretrainedmodels, the classic DML backbone."""
from __future__ import annotations

import torch
from torch import nn

from architectures import ARCHITECTURES
from architectures.input_space import BNINCEPTION
from architectures.weights import load_state_dict, require_rgb


@ARCHITECTURES.register("bninception")
class BNInception(nn.Module):
    """BN-Inception features (B, 1024, H/32, W/32) from ``pretrainedmodels`` (Cadene).

    Its ImageNet weights expect BGR images in the 0-255 range minus the mean (104, 117, 128): its
    ``input_space``, which the network's first step maps uint8 pixels into (architectures/input_space.py).
    """

    input_space = BNINCEPTION
    wired_params = ("in_channels", "pretrained", "weights_dir")

    def __init__(self, in_channels: int = 3, pretrained: bool = True, weights_dir: str = ""):
        super().__init__()
        import pretrainedmodels
        require_rgb(in_channels, "bninception")
        self.net = pretrainedmodels.bninception(num_classes=1000, pretrained=None)
        if pretrained:
            url = pretrainedmodels.pretrained_settings["bninception"]["imagenet"]["url"]
            self.net.load_state_dict(load_state_dict(url, weights_dir, "bninception"))
        self.net.last_linear = nn.Identity()
        self.feat_dim = 1024

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)
