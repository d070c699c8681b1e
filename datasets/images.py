"""Image files: listing class folders, decoding (high bit depth, bombs), checking that images decode,
and the image ``Dataset``."""
from __future__ import annotations

import functools
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from datasets.base import SplitDataset
from datasets.epoch_keys import SampleKey, split_key
from datasets.table import Table
from utilities.seeding import item_rng

if TYPE_CHECKING:  # PIL is imported where images are decoded: `import datasets` (flag building) stays light
    from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


class BadImageError(ValueError):
    """An image file that cannot be read; the message names the file."""


def natural_key(name: str) -> list:
    """Sort key that orders numbers as numbers: ``class_2`` < ``class_10`` (string order says otherwise)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder: str) -> list[str]:
    """The image files directly in ``folder``, sorted; hidden and AppleDouble (``._*``) files skipped."""
    names = [n for n in os.listdir(folder)
             if not n.startswith(".") and n.lower().endswith(IMAGE_EXTENSIONS)
             and os.path.isfile(os.path.join(folder, n))]
    return [os.path.join(folder, n) for n in sorted(names, key=natural_key)]


def class_folders(images_root: str) -> list[str]:
    """The class sub-folders of ``images_root`` in natural order (hidden folders skipped)."""
    return sorted((n for n in os.listdir(images_root)
                   if not n.startswith(".") and os.path.isdir(os.path.join(images_root, n))), key=natural_key)


def table_from_folders(images_root: str, classes: list[str], category: np.ndarray | None = None) -> Table:
    """One row per image of the listed class folders; label ``i`` for ``classes[i]``.

    Raises ``ValueError`` naming the first class folder without images.
    """
    paths, labels = [], []
    for label, name in enumerate(classes):
        files = list_images(os.path.join(images_root, name))
        if not files:
            raise ValueError(f"empty class folder (no image files): {os.path.join(images_root, name)}")
        paths += files
        labels += [label] * len(files)
    cat = None if category is None else np.asarray(category)[labels]
    return Table(labels=np.asarray(labels, dtype=np.int64), items=np.asarray(paths, dtype=object), category=cat)


HIGH_BIT_DEPTH = {"I;16": 65535.0, "I;16L": 65535.0, "I;16B": 65535.0, "I;16N": 65535.0, "I": 65535.0, "F": 1.0}
"""Single-channel modes PIL cannot convert to 8 bits without saturating or zeroing, and the value
that maps to white. ``I`` (32-bit int) is what older Pillow versions return for 16-bit PNGs, so it
is read as 16-bit too; ``F`` holds floats already in [0, 1]. Values outside are clipped."""

def decode_errors() -> tuple[type[BaseException], ...]:
    """The exceptions of a file that does not decode (PIL's decompression-bomb error and warning too)."""
    from PIL import Image
    return (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning)


def to_rgb(img: Image.Image) -> Image.Image:
    """``img`` in the RGB mode the transforms expect; high-bit-depth grey scaled to [0, 1] first.

    ``I;16`` pixels ``v`` become ``v / 65535``, ``F`` pixels stay as they are, both clipped to
    [0, 1] and then quantised to 8 bits (``round(255 x)``), which is what ``ToTensor`` reads back.
    """
    from PIL import Image
    scale = HIGH_BIT_DEPTH.get(img.mode)
    if scale is not None:
        grey = np.clip(np.asarray(img, dtype=np.float32) / scale, 0.0, 1.0)
        img = Image.fromarray(np.rint(grey * 255.0).astype(np.uint8), mode="L")
    if img.mode == "RGB":       # convert() would copy the pixels
        img.load()
        return img
    return img.convert("RGB")


def bomb_problem(img: Image.Image) -> str | None:
    """A decompression bomb: more pixels than ``PIL.Image.MAX_IMAGE_PIXELS`` (PIL only warns below 2x)."""
    from PIL import Image
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and img.width * img.height > limit:
        return (f"decompression bomb: {img.width}x{img.height} pixels exceed the limit of {limit} "
                "(PIL.Image.MAX_IMAGE_PIXELS)")
    return None


Planner = Callable[[tuple[int, int]], Any]
"""Given the full (width, height) from the header, a plan whose ``request`` is the smallest decoded
size the transform needs (see :class:`datasets.transforms.Plan`)."""


def draft_scale(full: tuple[int, int], request: tuple[int, int]) -> int:
    """The DCT scale ``Image.draft(None, request)`` decodes a ``full``-size JPEG at (1 = none)."""
    scale = min(full[0] // max(request[0], 1), full[1] // max(request[1], 1))
    return next((s for s in (8, 4, 2) if scale >= s), 1)


@functools.cache
def jpeg_decoder() -> Callable[..., torch.Tensor] | None:
    """TorchCodec's ``decode_jpeg``, or ``None`` where TorchCodec is missing or cannot load its
    native library (then PIL decodes every image, as fast as before this decoder was added)."""
    try:
        from torchcodec.decoders import decode_jpeg
    except (ImportError, OSError, RuntimeError):
        return None
    return decode_jpeg


def decode_jpeg_file(path: str) -> torch.Tensor:
    """An RGB or grey JPEG as a uint8 ``[3, H, W]`` tensor, decoded by TorchCodec (libjpeg-turbo:
    the same pixels as PIL, straight into the tensor, without PIL's 4-byte pixel buffer and copy;
    torchvision's own decoder is deprecated in its favour); ``OSError`` if it does not decode."""
    decode_jpeg = jpeg_decoder()
    if decode_jpeg is None:
        raise RuntimeError("TorchCodec is not available (pip install torchcodec==0.17.0)")
    try:
        return decode_jpeg(path, mode="RGB")
    except RuntimeError as err:                          # "<function>, <source:line>, <why>"
        raise OSError(str(err).rsplit(", ", 1)[-1]) from None


def decode(path: str, planner: Planner | None = None, as_tensor: bool = False) -> tuple[Any, Any]:
    """Open and decode ``path`` as RGB, with the plan ``planner`` made from the full size (or None).

    A JPEG is decoded at the smallest 1/2, 1/4 or 1/8 scale that is still at least ``plan.request``
    (``Image.draft``: libjpeg's DCT scaling, much cheaper than decoding every pixel and resizing).
    With ``as_tensor``, an RGB or grey JPEG that is not scaled so comes back as a uint8 ``[3, H, W]``
    tensor (:func:`decode_jpeg_file`, where TorchCodec loads); otherwise the image is a PIL image.
    Raises ``OSError``/``ValueError`` (bombs as ``ValueError``)."""
    from PIL import Image
    with Image.open(path) as img:
        bomb = bomb_problem(img)
        if bomb:
            raise ValueError(bomb)
        plan = planner(img.size) if planner is not None else None
        if img.format == "JPEG":
            if plan is not None and draft_scale(img.size, plan.request) > 1:
                img.draft(None, plan.request)
            elif as_tensor and img.mode in ("RGB", "L") and jpeg_decoder() is not None:
                return decode_jpeg_file(path), plan
        return to_rgb(img), plan


def load_image(path: str, planner: Planner | None = None) -> Image.Image:
    """Decode ``path`` as an RGB PIL image; :class:`BadImageError` names the file on failure."""
    return load_planned(path, planner)[0]


def load_planned(path: str, planner: Planner | None = None, as_tensor: bool = False) -> tuple[Any, Any]:
    """:func:`decode` with :class:`BadImageError` naming the file on failure."""
    try:
        return decode(path, planner, as_tensor)
    except decode_errors() as err:
        raise BadImageError(f"unreadable image {path}: {err} (pass --skip_bad_images to skip such files)") from None


def image_problem(path: str) -> str | None:
    """Why ``path`` is not a readable image (missing, not an image, truncated, a decompression bomb,
    corrupt data), or ``None``. Decodes every pixel: ``verify()`` alone passes truncated JPEGs."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            bomb = bomb_problem(img)
            if bomb:
                return bomb
            img.load()
    except FileNotFoundError:
        return "missing file"
    except Image.DecompressionBombError as err:
        return f"decompression bomb: {err}"
    except decode_errors() as err:
        return str(err) or type(err).__name__
    return None


def pool_size(workers: int = 0) -> int:
    """Threads for decoding: ``workers`` when given, else one per core (PIL decodes without the GIL)."""
    return workers if workers > 0 else (os.cpu_count() or 1)


def check_images(paths: np.ndarray, workers: int = 0) -> list[tuple[int, str]]:
    """``(row, problem)`` for every path that does not decode fully, checked by a thread pool."""
    from PIL import Image
    with warnings.catch_warnings():          # PIL's bomb warning: reported as a problem by bomb_problem
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with ThreadPoolExecutor(pool_size(workers)) as pool:
            problems = list(pool.map(image_problem, paths, chunksize=16))
    return [(i, p) for i, p in enumerate(problems) if p is not None]


BAD_NAMED = 5


def bad_images_line(bad: dict[str, str]) -> str:
    """``unreadable image <first> (<why>); N bad file(s) in total: <first few paths> and M more``."""
    first, why = next(iter(bad.items()))
    named = ", ".join(list(bad)[:BAD_NAMED]) + (f" and {len(bad) - BAD_NAMED} more" if len(bad) > BAD_NAMED else "")
    return f"unreadable image {first} ({why}); {len(bad)} bad file(s) in total: {named}"


class ImageDataset(SplitDataset):
    """Items ``(image: uint8 Tensor[3, H, W], label: int)`` read from the paths of a :class:`Table`
    (raw RGB pixels of the transform's output size; the network normalises them on the device).

    A :class:`~datasets.base.SplitDataset` that also exposes ``paths`` (the table's items).
    Indexed with a sample key ``(index, epoch)`` (see :mod:`datasets.epoch_keys`), the transform's
    randomness is a pure function of ``(seed, epoch, index)``; with a plain index it draws from the
    global generators as usual.
    """

    takes_sample_keys = True

    def __init__(self, table: Table, transform: Callable, eval_transform: Callable | None = None,
                 seed: int = 0):
        super().__init__(table)
        self.transform, self.seed = transform, seed
        self.eval_transform = eval_transform if eval_transform is not None else transform
        self.paths: np.ndarray = table.items

    def __getitem__(self, key: int | SampleKey) -> tuple[torch.Tensor, int]:
        index, epoch = split_key(key)
        with nullcontext() if epoch is None else item_rng(self.seed, epoch, index):
            planner = getattr(self.transform, "plan", None)      # decode smaller when it allows
            if planner is None:
                return self.transform(load_image(self.paths[index])), int(self.labels[index])
            image, plan = load_planned(self.paths[index], planner, as_tensor=True)
            return self.transform(image, plan), int(self.labels[index])

    def eval_view(self) -> "ImageDataset":
        """The same rows with the evaluation transforms (for embedding the training split)."""
        return ImageDataset(self.table, self.eval_transform, self.eval_transform, self.seed)
