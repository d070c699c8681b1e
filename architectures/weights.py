"""Pretrained weights: found in the torch hub cache, downloaded once, or a clear offline error.

Weights live where torch puts them, ``$TORCH_HOME/hub/checkpoints/<file>`` (default
``~/.cache/torch/hub/checkpoints``), so a machine without internet can be prepared by copying the
file there. Pass ``--not_pretrained`` to train from random initialisation.
"""
from __future__ import annotations

import os
import shutil
import urllib.request
from urllib.parse import urlparse

import torch

DOWNLOAD_TIMEOUT_S = 30


class PretrainedWeightsError(FileNotFoundError):
    """Pretrained weights are neither cached nor downloadable; the message says where to put them."""


def checkpoint_folder(weights_dir: str) -> str:
    """The torch hub checkpoint folder under ``weights_dir`` (``$TORCH_HOME``)."""
    return os.path.join(weights_dir, "hub", "checkpoints") if weights_dir else os.path.join(torch.hub.get_dir(), "checkpoints")


def download(url: str, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.part{os.getpid()}"
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:
        shutil.copyfileobj(response, out)
    os.replace(tmp, path)


def load_state_dict(url: str, weights_dir: str, arch: str) -> dict[str, torch.Tensor]:
    """The state dict published at ``url``, from the cache folder or downloaded into it."""
    folder = checkpoint_folder(weights_dir)
    filename = os.path.basename(urlparse(url).path)
    path = os.path.join(folder, filename)
    if not os.path.isfile(path):
        try:
            download(url, path)
        except (OSError, ValueError) as err:       # URLError, timeouts and HTTP errors are OSErrors
            raise PretrainedWeightsError(
                f"--arch {arch}: pretrained weights file {filename} is not in the cache folder {folder} and "
                f"could not be downloaded ({type(err).__name__}: {err}). Download {url}, place it in "
                f"{folder} (set TORCH_HOME to move the cache), or pass --not_pretrained") from None
    return torch.load(path, map_location="cpu", weights_only=True)


def require_rgb(in_channels: int, arch: str) -> None:
    if in_channels != 3:
        raise ValueError(f"--arch {arch} takes 3-channel images, the data has {in_channels} "
                         "(use convnet for 1-channel data such as glyphs or digits)")
