"""Image transforms of the paper protocol (Roth et al., "Revisiting Training Strategies and
Generalization Performance in Deep Metric Learning", ICML 2020).

Training augmentations (``--augmentation``), with crop size ``c`` (224; 227 for googlenet;
256 for ``big``):

* ``base``: RandomResizedCrop(c), horizontal flip (p = 0.5);
* ``big``: as ``base`` with c = 256;
* ``adv``: RandomResizedCrop(c), RandomGrayscale(0.2), ColorJitter(0.2, 0.2, 0.2, 0.2), flip;
* ``red``: Resize(256), RandomCrop(c), flip.

Evaluation: Resize(256), CenterCrop(c). Then ImageNet normalisation, or for BN-Inception its own
input space: BGR channel order, 0-255 range, mean (104, 117, 128) in BGR and unit std.
"""
from __future__ import annotations

from typing import Callable

import torch

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
BNINCEPTION_MEAN_RGB = (128 / 255, 117 / 255, 104 / 255)       # (104, 117, 128) in BGR, 0-255
BNINCEPTION_STD = (1 / 255, 1 / 255, 1 / 255)
AUGMENTATIONS = ("base", "adv", "big", "red")


def crop_size(arch: str, augmentation: str, image_size: int, train: bool) -> int:
    """The crop side ``c``; ``image_size`` > 0 overrides the paper default (for tiny test runs)."""
    if image_size > 0:
        return image_size
    if train and augmentation == "big":
        return 256
    return 227 if arch.split("_")[0] == "googlenet" else 224


def resize_size(crop: int) -> int:
    """The evaluation resize: 256 for a 224 crop, scaled by the same ratio for other crops."""
    return 256 if crop in (224, 227, 256) else round(crop * 256 / 224)


def to_bgr_255(x: torch.Tensor) -> torch.Tensor:
    return x.flip(0)


def build_transform(arch: str, augmentation: str, train: bool, image_size: int = 0) -> Callable:
    """PIL image -> normalised FloatTensor[3, c, c] for ``arch`` (see the module docstring)."""
    from torchvision import transforms as T  # lazy: `import datasets` (flag building) stays light
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"--augmentation {augmentation!r} is not one of {list(AUGMENTATIONS)}")
    crop = crop_size(arch, augmentation, image_size, train)
    flip = T.RandomHorizontalFlip(0.5)
    if not train:
        steps = [T.Resize(resize_size(crop)), T.CenterCrop(crop)]
    elif augmentation in ("base", "big"):
        steps = [T.RandomResizedCrop(crop), flip]
    elif augmentation == "adv":
        steps = [T.RandomResizedCrop(crop), T.RandomGrayscale(p=0.2), T.ColorJitter(0.2, 0.2, 0.2, 0.2), flip]
    else:  # red
        steps = [T.Resize(resize_size(crop)), T.RandomCrop(crop), flip]
    steps.append(T.ToTensor())
    if arch.split("_")[0] == "bninception":
        steps += [T.Normalize(BNINCEPTION_MEAN_RGB, BNINCEPTION_STD), T.Lambda(to_bgr_255)]
    else:
        steps.append(T.Normalize(IMAGENET_MEAN, IMAGENET_STD))
    return T.Compose(steps)
