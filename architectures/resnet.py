"""ResNet-18/34/50/101 backbones (He et al., CVPR 2016) from torchvision."""
from __future__ import annotations

from torch import nn

from architectures import ARCHITECTURES
from architectures.input_space import IMAGENET
from architectures.weights import load_state_dict, require_rgb


class ResNetBackbone(nn.Sequential):
    """torchvision ResNet up to the last residual stage: feature maps (B, C, H/32, W/32).

    Pretrained weights are torchvision's ``IMAGENET1K_V1`` ImageNet weights.
    """

    depth = 50
    input_space = IMAGENET
    wired_params = ("in_channels", "pretrained", "weights_dir")

    def __init__(self, in_channels: int = 3, pretrained: bool = True, weights_dir: str = ""):
        from torchvision import models  # lazy: `import architectures` (flag building) stays light
        name = f"resnet{self.depth}"
        require_rgb(in_channels, name)
        net = getattr(models, name)(weights=None)
        if pretrained:
            weights = models.get_weight(f"ResNet{self.depth}_Weights.IMAGENET1K_V1")
            net.load_state_dict(load_state_dict(weights.url, weights_dir, name))
        super().__init__(*list(net.children())[:-2])          # drop global pooling and classifier
        self.feat_dim = net.fc.in_features


for _depth in (18, 34, 50, 101):
    ARCHITECTURES.register(f"resnet{_depth}")(type(f"ResNet{_depth}", (ResNetBackbone,), {
        "depth": _depth, "__doc__": f"ResNet-{_depth} (He et al., CVPR 2016; torchvision), "
                                    f"{512 if _depth < 50 else 2048}-d features. " + ResNetBackbone.__doc__}))
