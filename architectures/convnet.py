"""A small CNN for small 1- or 3-channel images (glyphs, digits, tests)."""
from __future__ import annotations

from torch import nn

from architectures import ARCHITECTURES
from architectures.input_space import IMAGENET
from utilities.flags import between


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


@ARCHITECTURES.register("convnet")
class ConvNet(nn.Sequential):
    """Small CNN: three conv-BN-ReLU stages of width ``width, 2·width, 4·width`` with 2x max-pooling
    between them. Always randomly initialised (there are no pretrained weights to load).

    Parameters
    ----------
    width : int
        Channels of the first stage.
    """

    input_space = IMAGENET            # uint8 images of a folder dataset; glyphs/digits are float
    wired_params = ("in_channels", "pretrained", "weights_dir")
    param_domains = {"width": between(1, 1024)}   # checked at parse time; 1024: 300 MB of 3x3 weights

    def __init__(self, in_channels: int = 3, width: int = 32, pretrained: bool = False,
                 weights_dir: str = ""):
        super().__init__(conv_block(in_channels, width), nn.MaxPool2d(2, ceil_mode=True),
                         conv_block(width, 2 * width), nn.MaxPool2d(2, ceil_mode=True),
                         conv_block(2 * width, 4 * width))
        self.feat_dim = 4 * width
