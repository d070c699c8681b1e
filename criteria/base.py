"""The loss interface (CONTRACT §4): ``loss(embeddings, labels, indices_tuple=None) -> 0-dim``."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

from typing import Any, Callable

import torch
from torch import nn

import distances
from criteria.reducers import REDUCERS
from criteria.terms import LossTerm
from distances.base import BaseDistance


class BaseLoss(nn.Module, metaclass=ABCMeta):
    """Base class of every loss: composes a distance, a reducer and optional regularizers.

    A subclass implements :meth:`compute_loss`, which returns its *unreduced* terms as
    ``{name: LossTerm}``; the reducer (``--loss_reducer``, default ``default_reducer``) turns
    each into a scalar and they are summed. Then ``embedding_reg_weight · R(embeddings)`` and
    ``weight_reg_weight · R(self.regularized_weights())`` are added when set.

    Class attributes declare what the loss works with, so ``parameters.py`` can reject a bad
    combination before any data is read:

    * ``accepts``: tuple kinds (``"triplets"``, ``"pairs"``) taken as ``indices_tuple``;
      empty for losses that use no miner (proxy and classification losses);
    * ``tuple_kinds``: tuple kinds :meth:`compute_loss` can take as an explicit
      ``indices_tuple`` (default: ``accepts``); a loss with its own mining (``accepts`` empty)
      may still take tuples here, which is how the XBM wrapper and direct callers restrict it;
    * ``default_distance``, ``allowed_distances`` (``None``: any), ``default_reducer``;
      ``distance_note`` says why only those distances make sense;
    * ``term_names``: the names of the terms it returns (for per-term ``--loss_reducer``);
    * ``wired_params``: arguments ``criteria.select`` fills in itself; every other argument
      becomes a ``--loss_<name>_<param>`` flag.
    """

    accepts: tuple[str, ...] = ("triplets",)
    default_distance: str = "euclidean"
    allowed_distances: tuple[str, ...] | None = None
    default_reducer: str = "mean"
    tuple_kinds: tuple[str, ...] | None = None
    distance_note: str = ""
    term_names: tuple[str, ...] = ()
    wired_params: tuple[str, ...] = ("distance", "reducer", "embedding_regularizer",
                                     "embedding_reg_weight", "weight_regularizer",
                                     "weight_reg_weight", "n_classes", "embed_dim")

    def __init__(self, distance: BaseDistance | None = None,
                 reducer: Callable[[LossTerm, torch.Tensor], torch.Tensor] | None = None,
                 embedding_regularizer: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 embedding_reg_weight: float = 0.0,
                 weight_regularizer: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 weight_reg_weight: float = 0.0):
        super().__init__()
        self.distance = distance if distance is not None else distances.build(self.default_distance)
        self.reducer = reducer if reducer is not None else REDUCERS.get(self.default_reducer)()
        self.embedding_regularizer, self.embedding_reg_weight = embedding_regularizer, embedding_reg_weight
        self.weight_regularizer, self.weight_reg_weight = weight_regularizer, weight_reg_weight
        self.stats: dict[str, float | torch.Tensor] = {}  # 0-dim tensors: read once per epoch, not per step

    @property
    def uses_miner(self) -> bool:
        return bool(self.accepts)

    @classmethod
    def consumed_tuples(cls) -> tuple[str, ...]:
        """Tuple kinds that :meth:`compute_loss` takes as ``indices_tuple``."""
        kinds = getattr(cls, "tuple_kinds", None)
        return tuple(kinds) if kinds is not None else tuple(cls.accepts)

    @abstractmethod
    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        """Implemented by every registered subclass."""

    def regularized_weights(self) -> torch.Tensor | None:
        """The weight matrix a weight regularizer acts on (proxies); ``None`` if the loss has none."""
        return None

    def param_groups(self) -> list[dict[str, Any]]:
        """Optimizer parameter groups for the loss's own parameters (none by default)."""
        return []

    def reduce(self, name: str, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        reducer = self.reducer.get(name, self.reducer.get("*")) if isinstance(self.reducer, dict) else self.reducer
        return reducer(term, labels)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices_tuple: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
        loss = self.data_loss(embeddings, labels, indices_tuple)
        if self.embedding_regularizer is not None and self.embedding_reg_weight:
            loss = loss + self.embedding_reg_weight * self.embedding_regularizer(embeddings)
        weights = self.regularized_weights()
        if self.weight_regularizer is not None and self.weight_reg_weight and weights is not None:
            loss = loss + self.weight_reg_weight * self.weight_regularizer(weights)
        return loss

    def data_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                  indices_tuple: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
        """The reduced terms summed, without the regularizers."""
        loss = self.connected_zero(embeddings)
        for name, term in self.compute_loss(embeddings, labels, indices_tuple).items():
            loss = loss + self.reduce(name, term, labels)
        return loss

    @staticmethod
    def connected_zero(tensor: torch.Tensor) -> torch.Tensor:
        """A zero that keeps the autograd graph connected (for batches with nothing to learn)."""
        return tensor.sum() * 0.0
