"""The loss interface: ``loss(embeddings, labels, indices_tuple=None) -> 0-dim tensor``.

:class:`LossModule` is what the training objective, the optimizer and the run folder see of
every loss-like thing (a registered loss, the cross-batch memory, a weighted sum);
:class:`BaseLoss` is the base of every registered loss.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

from typing import Any, Callable

import torch
from torch import nn

import distances
from criteria.reducers import REDUCERS
from criteria.terms import LossTerm
from distances.base import BaseDistance
from utilities.tuples import adapt


class LossModule(nn.Module, metaclass=ABCMeta):
    """The interface of every loss-like module, declared once.

    * ``takes``: the tuple kinds (``"triplets"``, ``"pairs"``, ``"sets"``) that ``forward``
      accepts as ``indices_tuple``; empty for losses that take none (proxy and classification
      losses). A miner's output is handed over through :meth:`convert`.
    * ``stats``: the last call's statistics (floats or 0-dim tensors), for ``train.csv``.
    * :meth:`param_groups`: optimizer groups of the loss's own parameters.
    """

    takes: tuple[str, ...] = ()
    stats: dict[str, float | torch.Tensor]   # set by each call (a wrapper derives it from its parts)

    @abstractmethod
    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices_tuple: Any = None) -> torch.Tensor:
        """The 0-dim loss of a batch; ``indices_tuple`` restricts it to those tuples."""

    def convert(self, tuples: tuple[torch.Tensor, ...], batch_size: int) -> Any:
        """A miner's output in the form :meth:`forward` takes (:func:`utilities.tuples.adapt`)."""
        return adapt(tuples, self.takes, batch_size)

    def param_groups(self) -> list[dict[str, Any]]:
        """Optimizer parameter groups for the loss's own parameters (none by default)."""
        return []


class BaseLoss(LossModule):
    """Base class of every loss: composes a distance, a reducer and optional regularizers.

    A subclass implements :meth:`compute_loss`, which returns its *unreduced* terms as
    ``{name: LossTerm}``; the reducer (``--loss_reducer``, default ``default_reducer``) turns
    each into a scalar and they are summed. Then ``embedding_reg_weight · R(embeddings)`` and
    ``weight_reg_weight · R(self.regularized_weights())`` are added when set.

    Class attributes declare what the loss works with, so ``parameters.py`` can reject a bad
    combination before any data is read:

    * ``takes`` (see :class:`LossModule`);
    * ``default_miner``: the miner that runs when ``--batch_mining`` is not given, for losses
      that are defined on mined tuples (the Revisiting-DML tool's losses that required a miner:
      ``distance`` for margin, triplet, contrastive, quadruplet and SNR; ``npair`` for N-pair and
      angular; ``lifted`` for the lifted loss). ``None``: without a named miner the loss uses
      every pair, triplet or set of the batch. Only the training objective reads it
      (``training.objective.default_miner``, also for a sum ``a+b``);
    * ``default_distance``, ``allowed_distances`` (``None``: any), ``default_reducer``;
      ``distance_note`` says why only those distances make sense;
    * ``term_names``: the names of the terms it returns (for per-term ``--loss_reducer``);
    * ``wired_params``: what the loss needs from ``criteria.select`` (its composition here;
      a loss with proxies adds ``n_classes`` and ``embed_dim``, one whose learning rate
      multiplies ``--lr`` adds ``base_lr``), handed over by ``LOSSES.create`` under this
      declaration; every other argument becomes a ``--loss_<name>_<param>`` flag.
    """

    takes: tuple[str, ...] = ("triplets",)
    default_miner: str | None = None
    default_distance: str = "euclidean"
    allowed_distances: tuple[str, ...] | None = None
    default_reducer: str = "mean"
    distance_note: str = ""
    term_names: tuple[str, ...] = ()
    wired_params: tuple[str, ...] = ("distance", "reducer", "embedding_regularizer",
                                     "embedding_reg_weight", "weight_regularizer", "weight_reg_weight")

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
        self.stats = {}  # 0-dim tensors: read once per epoch, not per step

    @abstractmethod
    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor,
                     indices_tuple: tuple[torch.Tensor, ...] | None) -> dict[str, LossTerm]:
        """Implemented by every registered subclass."""

    def regularized_weights(self) -> torch.Tensor | None:
        """The weight matrix a weight regularizer acts on (proxies); ``None`` if the loss has none."""
        return None

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
        """The reduced terms summed, without the regularizers (a connected zero when there are none)."""
        loss = None
        for name, term in self.compute_loss(embeddings, labels, indices_tuple).items():
            value = self.reduce(name, term, labels)
            loss = value if loss is None else loss + value
        return self.connected_zero(embeddings) if loss is None else loss

    @staticmethod
    def connected_zero(tensor: torch.Tensor) -> torch.Tensor:
        """A zero that keeps the autograd graph connected (for batches with nothing to learn)."""
        return tensor.sum() * 0.0
