"""The distance interface shared by losses and miners."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

import torch
import torch.nn.functional as F
from torch import nn


class BaseDistance(nn.Module, metaclass=ABCMeta):
    """A pairwise distance or similarity.

    Subclasses implement :meth:`_pairwise` (on already normalised inputs when
    ``normalize_embeddings``) and set ``is_similarity``. Losses never branch on the kind of
    distance themselves: they call :meth:`gap`, which is positive when a negative is *closer*
    than a positive, whatever the direction of the measure.

    Parameters
    ----------
    normalize_embeddings : bool
        L2-normalise the embeddings before measuring (default: the distance's own choice,
        ``default_normalize``).
    """

    is_similarity: bool = False
    is_symmetric: bool = True            # d(x, y) == d(y, x); false for the anchor-relative SNR
    default_normalize: bool = False

    def __init__(self, normalize_embeddings: bool | None = None):
        super().__init__()
        self.normalize_embeddings = (self.default_normalize if normalize_embeddings is None
                                     else bool(normalize_embeddings))

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1) if self.normalize_embeddings else x

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The (N, M) matrix between the rows of ``x`` and ``y`` (``y`` defaults to ``x``)."""
        x = self.prepare(x)
        y = x if y is None else self.prepare(y)
        return self._pairwise(x, y)

    @abstractmethod
    def _pairwise(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Implemented by every registered subclass."""

    def gap(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """How much closer the negative is than the positive: ``d_ap - d_an`` or ``s_an - s_ap``."""
        return neg - pos if self.is_similarity else pos - neg

    def closest_first(self, values: torch.Tensor) -> torch.Tensor:
        """Values transformed so that *smaller means closer* (negated for similarities)."""
        return -values if self.is_similarity else values
