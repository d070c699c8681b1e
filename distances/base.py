"""The distance interface shared by losses and miners.

One rule for margins and thresholds, for every loss (PyTorch Metric Learning's convention):
a margin or threshold is a number in the measure's own units, and for a similarity (larger is
closer) every inequality flips. Two helpers write it, nowhere else: :meth:`BaseDistance.gap`
``(x, y)`` is ``x - y`` for a distance and ``y - x`` for a similarity (PML's
``distance.margin``), i.e. ``closest_first(x) - closest_first(y)``; a loss that works on the
``closest_first`` matrix passes a threshold through :meth:`BaseDistance.closest_first` too, so
the threshold and the values it is compared with are oriented alike (a threshold is never
compared with ``-s`` as it is). With ``m_pos``, ``m_neg`` thresholds and ``m`` a gap margin:

* a positive is penalised by ``gap(v_ap, m_pos)``: ``d_ap - m_pos`` or ``m_pos - s_ap``
  (it should have ``d_ap <= m_pos`` or ``s_ap >= m_pos``);
* a negative is penalised by ``gap(m_neg, v_an)``: ``m_neg - d_an`` or ``s_an - m_neg``
  (it should have ``d_an >= m_neg`` or ``s_an <= m_neg``);
* a triplet is penalised by ``gap(v_ap, v_an) + m``: ``d_ap - d_an + m`` or ``s_an - s_ap + m``
  (a gap margin is added as it is, never flipped).

On cosine, for instance, ``neg_margin 0.3`` asks for ``s_an <= 0.3`` in every loss.
"""
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

    def gap(self, pos: torch.Tensor | float, neg: torch.Tensor | float) -> torch.Tensor | float:
        """How much closer ``neg`` is than ``pos``: ``pos - neg`` for a distance, ``neg - pos``
        for a similarity; either may be a margin (a number in the measure's units, see the
        module docstring): ``gap(d_ap, m_pos)``, ``gap(m_neg, d_an)``, ``gap(d_ap, d_an)``."""
        return neg - pos if self.is_similarity else pos - neg

    def closest_first(self, values: torch.Tensor | float) -> torch.Tensor | float:
        """Values, or a threshold in the measure's units, transformed so that *smaller means
        closer* (negated for similarities)."""
        return -values if self.is_similarity else values
