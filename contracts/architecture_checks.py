"""The architecture contract: a tiny image batch gives finite (N, embed_dim) embeddings, of unit
norm for ``_normalize`` networks, and uint8 pixels give the embeddings of their normalisation into
the backbone's declared input space."""
from __future__ import annotations

from typing import Any

import torch

from architectures import parse_arch
from architectures.embedding_net import EmbeddingNet
from architectures.input_space import InputSpace
from contracts.base import Subject, check, tagger


@tagger("architecture")
def architecture_tags(component: Any) -> set[str]:
    """``pixels``: an embedding network (a registered name, or a built ``EmbeddingNet``), which
    normalises uint8 pixel batches itself; a bare module takes float images only."""
    return {"pixels"} if isinstance(component, (str, EmbeddingNet)) else set()


def normalizes(subject: Subject, model: torch.nn.Module) -> bool:
    """Whether the network promises unit-norm embeddings (the ``_normalize`` suffix)."""
    if isinstance(subject.component, str):
        return "normalize" in parse_arch(subject.component)[1]
    return isinstance(model, EmbeddingNet) and model.normalize


def images(subject: Subject, seed: int) -> torch.Tensor:
    size = (2, subject.in_channels, subject.image_size, subject.image_size)
    return torch.randn(*size, generator=torch.Generator().manual_seed(seed))


@check("architecture")
def check_architecture_output(subject: Subject) -> None:
    """A (2, C, size, size) float batch gives finite (2, embed_dim) embeddings, unit norm when ``_normalize``."""
    model = subject.built.eval()
    with torch.no_grad():
        out = model(images(subject, 0))
    assert isinstance(out, torch.Tensor) and out.shape == (2, subject.embed_dim), (
        f"output {type(out).__name__} of shape {tuple(out.shape) if isinstance(out, torch.Tensor) else ()}, "
        f"not (2, {subject.embed_dim})")
    assert torch.isfinite(out).all(), "non-finite embeddings"
    if normalizes(subject, model):
        assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5), "'_normalize' output not unit norm"


@check("architecture", requires="pixels")
def check_architecture_pixels(subject: Subject) -> None:
    """A uint8 pixel batch gives the embeddings of its normalisation into the backbone's ``input_space``."""
    model = subject.built.eval()
    space = model.backbone.input_space
    assert isinstance(space, InputSpace), "the backbone's input_space is not an architectures.input_space.InputSpace"
    c, size = subject.in_channels, subject.image_size
    pixels = torch.randint(0, 256, (2, c, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    mean, std = torch.tensor(space.mean).view(1, 3, 1, 1), torch.tensor(space.std).view(1, 3, 1, 1)
    if c != 3:                                                 # a grey network: the channel means
        mean, std = mean.mean(1, keepdim=True), std.mean(1, keepdim=True)
    floats = (pixels / 255.0 - mean) / std
    with torch.no_grad():
        from_pixels, from_floats = model(pixels), model(floats.flip(1) if space.bgr else floats)
    assert torch.allclose(from_pixels, from_floats, atol=1e-4 * (1 + float(from_floats.abs().max()))), (
        f"uint8 pixels do not give the embeddings of their {space} normalisation")
