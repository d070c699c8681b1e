"""The planned pipeline (JPEG draft + one box resampling, or TorchCodec decoding + torch resampling
on uint8 tensors) gives the paper transforms' inputs up to decoder rounding, with the same random
crops, and decodes large JPEGs at a reduced scale."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from architectures.input_space import BNINCEPTION, IMAGENET, FromPixels
from datasets.images import BadImageError, decode_jpeg_file, load_image, load_planned
from datasets.transforms import build_transform, size_of
from utilities.seeding import item_rng

STD = torch.tensor(IMAGENET.std).view(3, 1, 1)


def normalised(pixels: torch.Tensor) -> torch.Tensor:
    """The network's first step on one image (uint8 -> ImageNet-normalised float)."""
    assert pixels.dtype == torch.uint8
    return FromPixels(IMAGENET)(pixels[None])[0]


def photo(path, width: int, height: int) -> str:
    rng = np.random.default_rng(width)
    yy, xx = np.mgrid[0:height, 0:width] / max(width, height)
    field = np.stack([np.sin(5 * xx + 2 * yy), np.cos(3 * xx - 4 * yy), np.sin(7 * xx * yy + 1)], -1)
    pixels = (127 + 100 * field + rng.normal(0, 12, field.shape)).clip(0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return str(path)


def reference(train: bool) -> T.Compose:
    geometry = [T.RandomResizedCrop(224), T.RandomHorizontalFlip(0.5)] if train else [T.Resize(256), T.CenterCrop(224)]
    return T.Compose(geometry + [T.ToTensor(), T.Normalize(IMAGENET.mean, IMAGENET.std)])


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize("size,decoded", [((500, 375), (500, 375)), ((375, 500), (375, 500)),
                                          ((1200, 900), (600, 450)), ((2000, 1500), (500, 375))])
def test_eval_inputs_match_the_reference_up_to_decoder_rounding(tmp_path, size, decoded, as_tensor):
    path = photo(tmp_path / "a.jpg", *size)
    new = build_transform("resnet50", "base", train=False)
    image, plan = load_planned(path, new.plan, as_tensor=as_tensor)
    assert size_of(image) == decoded                      # draft only where the output stays full size
    assert isinstance(image, torch.Tensor) == (as_tensor and decoded == size)   # TorchCodec when not drafted
    assert min(size_of(image)) >= 256
    got, want = normalised(new(image, plan)), reference(False)(load_image(path))
    assert got.shape == want.shape == (3, 224, 224)
    assert float(((got - want) * STD).abs().max()) < 0.02   # on the [0, 1] pixel scale


@pytest.mark.parametrize("as_tensor", [False, True])
@pytest.mark.parametrize("size", [(500, 375), (1600, 1200)])
def test_train_crops_are_the_same_random_crops(tmp_path, size, as_tensor):
    path = photo(tmp_path / "a.jpg", *size)
    new = build_transform("resnet50", "base", train=True)
    for index in range(4):
        with item_rng(3, 1, index):
            want = reference(True)(load_image(path))
        with item_rng(3, 1, index):
            image, plan = load_planned(path, new.plan, as_tensor=as_tensor)
            got = normalised(new(image, plan))
        left, top, right, bottom = plan.box
        if size_of(image) != size:                         # drafted: the crop still spans >= 224 px
            assert min(right - left, bottom - top) * size_of(image)[0] / size[0] >= 224 - 1e-6
        assert float(((got - want) * STD).abs().max()) < 0.05


def test_transform_still_takes_a_decoded_image():
    image = Image.new("RGB", (300, 200), (10, 200, 30))
    for train in (False, True):
        assert build_transform("resnet50", "base", train)(image).shape == (3, 224, 224)
    assert build_transform("resnet50", "red", True, image_size=32)(image).shape == (3, 32, 32)


def test_torchcodec_decodes_the_same_pixels_as_pil_grey_included(tmp_path):
    path = photo(tmp_path / "a.jpg", 64, 48)
    want = torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1)
    assert torch.equal(decode_jpeg_file(path), want)
    Image.open(path).convert("L").save(tmp_path / "grey.jpg")
    grey = decode_jpeg_file(str(tmp_path / "grey.jpg"))
    assert grey.shape == (3, 48, 64) and torch.equal(grey[0], grey[2])


def test_a_truncated_jpeg_names_the_file(tmp_path):
    path = photo(tmp_path / "a.jpg", 64, 48)
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])
    with pytest.raises(BadImageError, match="a.jpg: .*truncated"):
        load_planned(path, build_transform("resnet50", "base", False).plan, as_tensor=True)


@pytest.mark.parametrize("space", [IMAGENET, BNINCEPTION])
def test_from_pixels_is_to_tensor_then_normalize(space):
    x = torch.randint(0, 256, (2, 3, 5, 7), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    want = ((x.double() / 255 - torch.tensor(space.mean, dtype=torch.float64).view(3, 1, 1))
            / torch.tensor(space.std, dtype=torch.float64).view(3, 1, 1))
    want = want.flip(1) if space.bgr else want
    got = FromPixels(space)(x)
    assert got.dtype == torch.float32
    assert torch.allclose(got.double(), want, rtol=1e-6, atol=1e-5 * float(want.abs().max()))
    floats = torch.randn(2, 3, 5, 7)
    assert FromPixels(space)(floats) is floats                 # float input is in the space already


def test_without_torchcodec_pil_decodes_the_same_inputs(tmp_path, monkeypatch):
    import datasets.images as images
    path = photo(tmp_path / "a.jpg", 500, 375)
    new = build_transform("resnet50", "base", train=False)
    fast = normalised(new(*load_planned(path, new.plan, as_tensor=True)))
    monkeypatch.setattr(images, "jpeg_decoder", lambda: None)
    image, plan = load_planned(path, new.plan, as_tensor=True)
    assert isinstance(image, Image.Image)
    assert float(((normalised(new(image, plan)) - fast) * STD).abs().max()) < 0.02
