"""Image transforms of the paper protocol (Roth et al., "Revisiting Training Strategies and
Generalization Performance in Deep Metric Learning", ICML 2020).

Training augmentations (``--augmentation``), with crop size ``c`` (224; 227 for googlenet;
256 for ``big``):

* ``base``: RandomResizedCrop(c), horizontal flip (p = 0.5);
* ``big``: as ``base`` with c = 256;
* ``adv``: RandomResizedCrop(c), RandomGrayscale(0.2), ColorJitter(0.2, 0.2, 0.2, 0.2), flip;
* ``red``: Resize(256), RandomCrop(c), flip.

Evaluation: Resize(256), CenterCrop(c). Every pipeline ends in raw RGB pixels, a uint8 tensor
``[3, c, c]``: the network maps them into its input space on the device (ImageNet normalisation,
or BN-Inception's BGR 0-255 space; see :mod:`architectures.input_space`).

Cheaper decoding and resampling (same outputs up to decoder rounding). The first, geometric step
of each pipeline (the crop or resize) is *planned* on the image's full size, read from the file
header before any pixel is decoded: :meth:`PaperTransform.plan` draws its randomness (the
RandomResizedCrop box, with torchvision's own ``get_params``, so the random stream is the one
``T.RandomResizedCrop`` draws) and names the smallest decoded size that still keeps the output at
full resolution. Then, per image (see :func:`datasets.images.decode`):

* a JPEG that the plan lets libjpeg decode at 1/2, 1/4 or 1/8 scale (``Image.draft``, DCT
  scaling; large photos) is decoded so by PIL, and ``Image.resize(box=...)`` resamples only the
  kept box in one pass;
* any other RGB or grey JPEG is decoded by TorchCodec (``decode_jpeg``, libjpeg-turbo straight
  into a uint8 tensor: the same pixels as PIL) and resampled on the uint8 tensor with torch's
  antialiased bilinear kernel (``T.Resize``/``T.RandomResizedCrop`` on tensors; within one grey
  level of PIL's);
* other files go through PIL as before.

Every later step (flip, colour, crop) runs on the uint8 tensor. ``bench/data.py`` measures it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Union

import torch

if TYPE_CHECKING:       # PIL and torchvision load when a transform is built (fast --help / parsing)
    from PIL.Image import Image as PILImage
    from torchvision import transforms as T

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


Size = tuple[int, int]          # (width, height), PIL's order


@dataclass(frozen=True)
class Plan:
    """The geometric step, decided on the full-size image: the source ``box`` (left, top, right,
    bottom) in full-size pixels, the output ``size``, and ``request``, the smallest decoded size that
    keeps the box at least as large as the output (what ``Image.draft`` may scale down to)."""

    full: Size
    box: tuple[float, float, float, float]
    size: Size
    request: Size


def resize_shorter(full: Size, side: int) -> Size:
    """``T.Resize(side)``'s output size: shorter side ``side``, longer side truncated as torchvision does."""
    w, h = full
    return (side, int(side * h / w)) if w <= h else (int(side * w / h), side)


class ResizeCenterCrop:
    """Resize(resize) then CenterCrop(crop) as one resampling of the kept box (evaluation)."""

    def __init__(self, resize: int, crop: int):
        self.resize, self.crop = resize, crop

    def plan(self, full: Size) -> Plan:
        rw, rh = resize_shorter(full, self.resize)
        left, top = int(round((rw - self.crop) / 2.0)), int(round((rh - self.crop) / 2.0))  # T.CenterCrop
        sx, sy = full[0] / rw, full[1] / rh
        box = (left * sx, top * sy, (left + self.crop) * sx, (top + self.crop) * sy)
        return Plan(full, box, (self.crop, self.crop), (rw, rh))

    def tensor(self, x: torch.Tensor, plan: Plan) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as F   # uint8 resampling without a float round trip
        return F.center_crop(F.resize(x, [self.resize], antialias=True), [self.crop])


class ResizedCrop:
    """RandomResizedCrop(crop): the box drawn on the full-size image by ``T.RandomResizedCrop.get_params``."""

    def __init__(self, crop: int, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3)):
        self.crop, self.scale, self.ratio = crop, scale, ratio

    def plan(self, full: Size) -> Plan:
        from torchvision import transforms as T
        shape = torch.empty(1, 1, 1).expand(1, full[1], full[0])        # only its size is read
        top, left, h, w = T.RandomResizedCrop.get_params(shape, list(self.scale), list(self.ratio))
        request = (math.ceil(full[0] * self.crop / w), math.ceil(full[1] * self.crop / h))
        return Plan(full, (left, top, left + w, top + h), (self.crop, self.crop), request)

    def tensor(self, x: torch.Tensor, plan: Plan) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as F   # uint8 resampling without a float round trip
        left, top, right, bottom = (int(v) for v in plan.box)
        return F.resized_crop(x, top, left, bottom - top, right - left, [self.crop, self.crop], antialias=True)


class ResizeOnly:
    """Resize(resize) (the ``red`` augmentation's first step; its RandomCrop follows)."""

    def __init__(self, resize: int):
        self.resize = resize

    def plan(self, full: Size) -> Plan:
        size = resize_shorter(full, self.resize)
        return Plan(full, (0.0, 0.0, float(full[0]), float(full[1])), size, size)

    def tensor(self, x: torch.Tensor, plan: Plan) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as F   # uint8 resampling without a float round trip
        return F.resize(x, [self.resize], antialias=True)


def apply_plan(image: PILImage, plan: Plan) -> PILImage:
    """Resample ``plan.box`` of ``image`` (full size, or the smaller decoded one) to ``plan.size``.

    Bilinear with PIL's antialiasing, as ``T.Resize``/``T.RandomResizedCrop`` on PIL images."""
    sx, sy = image.width / plan.full[0], image.height / plan.full[1]
    left, top, right, bottom = plan.box
    from PIL import Image
    return image.resize(plan.size, Image.BILINEAR, box=(left * sx, top * sy, right * sx, bottom * sy))


AnyImage = Union["PILImage", torch.Tensor]


def size_of(image: AnyImage) -> Size:
    """(width, height) of a PIL image or of a ``[C, H, W]`` tensor."""
    return (image.shape[-1], image.shape[-2]) if isinstance(image, torch.Tensor) else image.size


class PaperTransform:
    """PIL image or uint8 ``[3, H, W]`` tensor -> uint8 ``[3, c, c]`` tensor: a planned geometric
    step (:class:`Plan`; on the tensor with torch's resampling, on a PIL image with PIL's box
    resampling), then ``rest`` (a ``T.Compose`` on the uint8 tensor).

    ``transform(image)`` plans on the image's size; the loader instead calls ``plan(full_size)``
    before decoding (to decode smaller) and then ``transform(image, plan)``. Either way the random
    draws come in the same order: the crop box first, then the rest (flip, colour)."""

    def __init__(self, geometry: ResizeCenterCrop | ResizedCrop | ResizeOnly, rest: T.Compose):
        self.geometry, self.rest = geometry, rest

    def plan(self, full: Size) -> Plan:
        return self.geometry.plan(full)

    def __call__(self, image: AnyImage, plan: Plan | None = None) -> torch.Tensor:
        plan = plan if plan is not None else self.plan(size_of(image))
        if isinstance(image, torch.Tensor):
            return self.rest(self.geometry.tensor(image, plan))
        from torchvision.transforms.v2 import functional as F   # uint8 resampling without a float round trip
        return self.rest(F.pil_to_tensor(apply_plan(image, plan)))

    def __repr__(self) -> str:
        return f"PaperTransform({type(self.geometry).__name__}{vars(self.geometry)}, {self.rest})"


def build_transform(arch: str, augmentation: str, train: bool, image_size: int = 0) -> Callable:
    """PIL image or uint8 tensor -> uint8 ``[3, c, c]`` pixels for ``arch`` (its crop size; see the
    module docstring); a :class:`PaperTransform`, whose ``plan`` lets the loader decode JPEGs at a
    reduced scale."""
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"--augmentation {augmentation!r} is not one of {list(AUGMENTATIONS)}")
    crop = crop_size(arch, augmentation, image_size, train)
    from torchvision import transforms as T
    flip = T.RandomHorizontalFlip(0.5)
    geometry: ResizeCenterCrop | ResizedCrop | ResizeOnly
    if not train:
        geometry, steps = ResizeCenterCrop(resize_size(crop), crop), []
    elif augmentation in ("base", "big"):
        geometry, steps = ResizedCrop(crop), [flip]
    elif augmentation == "adv":
        geometry, steps = ResizedCrop(crop), [T.RandomGrayscale(p=0.2), T.ColorJitter(0.2, 0.2, 0.2, 0.2), flip]
    else:  # red
        geometry, steps = ResizeOnly(resize_size(crop)), [T.RandomCrop(crop), flip]
    return PaperTransform(geometry, T.Compose(steps))
