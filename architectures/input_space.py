"""A network's input space: what its weights expect of an image, and the layer that maps raw
uint8 pixels into it.

The image datasets yield raw RGB pixels (uint8 ``[3, H, W]``): a batch crosses from the loader
workers and onto the device at a quarter of the float32 size, and the normalisation runs on the
device, in one pass, as the network's first step (:class:`FromPixels`), as GPU-fed pipelines do.
Float input is taken to be in the input space already (the tensor datasets ``glyphs`` and
``digits``, tests) and passes unchanged.

Each backbone class declares its space as data, ``input_space`` (timm keeps the same facts in its
pretrained configs): ImageNet's per-channel mean and std for the torchvision backbones, and for
BN-Inception (Ioffe & Szegedy, ICML 2015; the ``pretrainedmodels`` weights) BGR channel order in
the 0-255 range minus (104, 117, 128).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class InputSpace:
    """``(x - mean) / std`` per RGB channel of an image ``x`` in [0, 1]; channels reversed (BGR) last when ``bgr``."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    bgr: bool = False


IMAGENET = InputSpace((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
BNINCEPTION = InputSpace((128 / 255, 117 / 255, 104 / 255), (1 / 255, 1 / 255, 1 / 255), bgr=True)


class FromPixels(nn.Module):
    """uint8 pixels ``[B, C, H, W]`` -> float32 ``(x / 255 - mean) / std`` (computed as
    ``(x - 255 mean) · 1 / (255 std)``), BGR-flipped for a ``bgr`` space; float input unchanged.

    With C = 1 (a grey network) the channel means of the space are averaged. The constants are
    non-persistent buffers: they follow ``.to(device)`` and stay out of checkpoints."""

    def __init__(self, space: InputSpace, channels: int = 3):
        super().__init__()
        self.space = space
        mean, std = (space.mean, space.std) if channels == 3 else \
            ((sum(space.mean) / 3,) * channels, (sum(space.std) / 3,) * channels)
        shift = torch.tensor(mean, dtype=torch.float64).mul(255)
        scale = torch.tensor(std, dtype=torch.float64).mul(255).reciprocal()
        self.register_buffer("shift", shift.float().view(1, -1, 1, 1), persistent=False)
        self.register_buffer("scale", scale.float().view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != torch.uint8:
            return x
        out = (x.to(torch.float32) - self.shift) * self.scale
        return out.flip(1) if self.space.bgr else out
