"""Backbones, selectable with ``--arch BASE[_frozen][_normalize][_double]``.

The name is split into a registered base (the longest one the name starts with, on a token
boundary, e.g. ``vit_b_16``) and suffix tokens, in any order. Suffixes are matched as whole
tokens, never as substrings:

* ``_frozen``: BatchNorm statistics and affine parameters fixed (the paper protocol);
* ``_normalize``: L2-normalised embeddings;
* ``_double``: global average plus max pooling.
"""
from __future__ import annotations

import os
from typing import Any

from torch import nn

from utilities.registry import Registry, UnknownNameError

FLAG_TEMPLATE = "arch_{name}_{param}"
ARCHITECTURES = Registry("architecture", flag="--arch", template=FLAG_TEMPLATE,
                         supplies=("in_channels", "pretrained", "weights_dir"))
SUFFIXES = ("frozen", "normalize", "double")

from architectures.embedding_net import EmbeddingNet  # noqa: E402
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "embedding_net", "input_space"))


def parse_arch(name: str) -> tuple[str, set[str]]:
    """Split ``name`` into ``(base, suffixes)``; raise :class:`UnknownNameError` if invalid."""
    tokens = name.split("_")
    for cut in range(len(tokens), 0, -1):
        base = "_".join(tokens[:cut])
        if base in ARCHITECTURES:
            rest = tokens[cut:]
            bad = [t for t in rest if t not in SUFFIXES]
            if bad:
                raise UnknownNameError("architecture suffix", bad[0], list(SUFFIXES), "--arch")
            return base, set(rest)
    valid = ARCHITECTURES.names() + [f"{n}_{s}" for n in ARCHITECTURES.names() for s in ("frozen_normalize", "normalize")]
    raise UnknownNameError("architecture", name, valid, "--arch")


def build(arch: str, embed_dim: int, in_channels: int = 3, pretrained: bool = True,
          weights_dir: str = "", opt: Any = None) -> EmbeddingNet:
    """Build the embedding network named ``arch``."""
    base, suffixes = parse_arch(arch)
    backbone = ARCHITECTURES.create(base, opt, in_channels=in_channels, pretrained=pretrained,
                                    weights_dir=weights_dir)
    return EmbeddingNet(backbone, backbone.feat_dim, embed_dim, normalize="normalize" in suffixes,
                        double_pool="double" in suffixes, frozen_bn="frozen" in suffixes, in_channels=in_channels)


def select(opt: Any, *, in_channels: int) -> nn.Module:
    """The network named by ``opt.arch``; ``in_channels`` comes from the data."""
    weights_dir = os.environ.get("TORCH_HOME", os.path.expanduser("~/.cache/torch"))
    return build(opt.arch, opt.embed_dim, in_channels,
                 pretrained=not opt.not_pretrained, weights_dir=weights_dir, opt=opt)


def names() -> list[str]:
    return ARCHITECTURES.names()
