"""The miner interface: ``miner(embeddings, labels) -> typed index tuple``."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any

import torch
from torch import nn

import distances
from distances.base import BaseDistance
from utilities.tuples import tuple_kind


class BaseMiner(nn.Module, metaclass=ABCMeta):
    """Base class of every online batch miner.

    Subclasses implement :meth:`mine`, which runs under ``torch.no_grad`` on the embeddings'
    device and returns a :class:`~utilities.tuples.Triplets`, :class:`~utilities.tuples.Pairs`
    or :class:`~utilities.tuples.TupleSets`; ``output`` declares which (``"triplets"``,
    ``"pairs"`` or ``"sets"``). After every call ``stats`` holds the tuple count, the mean
    positive and negative distance (under the miner's distance) and the fraction of active
    anchors, plus the miner's own ``extra_stats``; they become ``train.csv`` columns prefixed
    ``miner_`` (e.g. ``miner_n_tuples``, ``miner_rho_flip_frac``).

    Class attributes read by ``batch_mining.build`` and by the training objective's pairing
    check (``training.objective.pairing_problem``):

    * ``output``: the tuple kind it yields;
    * ``default_distance``; ``follows_loss``: the loss's settings it takes where its own flags
      are unset: ``"distance"`` (the loss's distance instead of ``default_distance``) and
      ``"margin"`` (an argument of that name takes the loss's margin); the objective hands
      them over;
    * ``allowed_distances``: distance names the miner works with (``None``: any);
    * ``flag_defaults``: ``{arg: flag dest}``; an unset (``None``) argument takes that flag's
      value;
    * ``label_consistent``: positives share the anchor's label (and are not the anchor),
      negatives do not; false only for miners that break this on purpose (controls,
      ρ-flips, intra-class triplets), which say so in their docstring.
    """

    output: str = "triplets"
    default_distance: str = "euclidean"
    follows_loss: tuple[str, ...] = ()
    allowed_distances: tuple[str, ...] | None = None
    flag_defaults: dict[str, str] = {}
    label_consistent: bool = True
    wired_params: tuple[str, ...] = ("distance",)

    @classmethod
    def check_arguments(cls, **params: Any) -> None:
        """Raise a one-line ``ValueError`` naming the flag when the parameters (as the flags set
        them) are invalid; ``__init__`` runs it too. Parsing calls it without building anything."""

    def __init__(self, distance: BaseDistance | None = None):
        super().__init__()
        self.distance = distance if distance is not None else distances.build(self.default_distance)
        self.stats: dict[str, float] = {}
        self.extra_stats: dict[str, float] = {}
        self._batch: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            embeddings = embeddings.detach()
            self.extra_stats = {}
            self._batch = (embeddings, self.distance(embeddings.float()))   # one matrix per call
            try:
                tuples = self.mine(embeddings, labels)
                self.record(tuples, self._batch[1], len(labels))
            finally:
                self._batch = None
        return tuples

    @abstractmethod
    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Implemented by every registered subclass."""

    def raw_distances(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The (B, B) matrix of ``self.distance``; within :meth:`forward` the one computed there."""
        if self._batch is not None and self._batch[0] is embeddings:
            return self._batch[1]
        return self.distance(embeddings.float())

    def pairwise(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The (B, B) matrix with *smaller means closer* (similarities negated)."""
        return self.distance.closest_first(self.raw_distances(embeddings))

    def record(self, tuples: tuple[torch.Tensor, ...], dist: torch.Tensor, batch_size: int) -> None:
        """Store tuple count, mean positive/negative distance and the fraction of active anchors."""
        kind = tuple_kind(tuples)
        if kind == "sets":
            anchors, pos_mask, neg_mask = tuples
            rows = dist[anchors]
            pos, neg, count = rows[pos_mask], rows[neg_mask], anchors.numel()
        elif kind == "triplets":
            anchors, p, n = tuples
            pos, neg, count = dist[anchors, p], dist[anchors, n], anchors.numel()
        else:
            a1, p, a2, n = tuples
            pos, neg, anchors = dist[a1, p], dist[a2, n], torch.cat([a1, a2])
            count = a1.numel() + a2.numel()
        active = torch.zeros(max(batch_size, 1), dtype=torch.bool, device=dist.device)
        active[anchors] = True
        stats = {  # 0-dim tensors: the training loop averages them on the device (no sync per step)
            "n_tuples": float(count),
            "mean_pos_dist": pos.mean() if pos.numel() else float("nan"),
            "mean_neg_dist": neg.mean() if neg.numel() else float("nan"),
            "active_anchor_frac": active.float().mean(),
            **self.extra_stats,
        }
        self.stats = {f"miner_{key}": value for key, value in stats.items()}

