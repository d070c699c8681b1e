"""The planned pipeline (JPEG draft + one box resampling) gives the paper transforms' inputs up to
decoder rounding, with the same random crops, and decodes large JPEGs at a reduced scale."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from datasets.images import load_image, load_planned
from datasets.transforms import IMAGENET_MEAN, IMAGENET_STD, build_transform
from utilities.seeding import item_rng

STD = torch.tensor(IMAGENET_STD).view(3, 1, 1)


def photo(path, width: int, height: int) -> str:
    rng = np.random.default_rng(width)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    field = np.stack([np.sin(5 * xx + 2 * yy), np.cos(3 * xx - 4 * yy), np.sin(7 * xx * yy + 1)], -1)
    pixels = (127 + 100 * field + rng.normal(0, 12, field.shape)).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return str(path)


def reference(train: bool) -> T.Compose:
    geometry = [T.RandomResizedCrop(224), T.RandomHorizontalFlip(0.5)] if train else [T.Resize(256), T.CenterCrop(224)]
    return T.Compose(geometry + [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


@pytest.mark.parametrize("size,decoded", [((500, 375), (500, 375)), ((375, 500), (375, 500)),
                                          ((1200, 900), (600, 450)), ((2000, 1500), (500, 375))])
def test_eval_inputs_match_the_reference_up_to_decoder_rounding(tmp_path, size, decoded):
    path = photo(tmp_path / "a.jpg", *size)
    new = build_transform("resnet50", "base", train=False)
    image, plan = load_planned(path, new.plan)
    assert image.size == decoded                          # draft only where the output stays full size
    assert min(image.size) >= 256
    got, want = new(image, plan), reference(False)(load_image(path))
    assert got.shape == want.shape == (3, 224, 224)
    assert float(((got - want) * STD).abs().max()) < 0.02   # on the [0, 1] pixel scale


@pytest.mark.parametrize("size", [(500, 375), (1600, 1200)])
def test_train_crops_are_the_same_random_crops(tmp_path, size):
    path = photo(tmp_path / "a.jpg", *size)
    new = build_transform("resnet50", "base", train=True)
    for index in range(4):
        with item_rng(3, 1, index):
            want = reference(True)(load_image(path))
        with item_rng(3, 1, index):
            image, plan = load_planned(path, new.plan)
            got = new(image, plan)
        left, top, right, bottom = plan.box
        if image.size != size:                             # drafted: the crop still spans >= 224 px
            assert min(right - left, bottom - top) * image.width / size[0] >= 224 - 1e-6
        assert float(((got - want) * STD).abs().max()) < 0.05


def test_transform_still_takes_a_decoded_image():
    image = Image.new("RGB", (300, 200), (10, 200, 30))
    for train in (False, True):
        assert build_transform("resnet50", "base", train)(image).shape == (3, 224, 224)
    assert build_transform("resnet50", "red", True, image_size=32)(image).shape == (3, 32, 32)
