"""Weighted mean with one weight per class."""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from criteria.reducers import REDUCERS
from criteria.reducers.base import BaseReducer
from criteria.reducers.per_anchor import element_anchors
from criteria.terms import LossTerm


def read_class_weights(path: str) -> torch.Tensor:
    """Per-class weights from a ``.npy`` file or a text file (one number per class id)."""
    if not os.path.isfile(path):
        raise ValueError(f"--reducer_class_weights: file not found: {path}")
    array = np.load(path) if path.endswith(".npy") else np.loadtxt(path, ndmin=1)
    array = np.asarray(array, dtype=np.float64).reshape(-1)
    if array.size == 0 or not np.isfinite(array).all() or (array < 0).any():
        raise ValueError(f"--reducer_class_weights {path}: expected finite non-negative weights")
    return torch.from_numpy(array)


@REDUCERS.register("class_weighted")
class ClassWeightedReducer(BaseReducer):
    """Weighted mean ``Σ_i w_{y(a_i)} l_i / Σ_i w_{y(a_i)}`` with the class of each element's anchor.

    Without a file the weights come from the batch class frequencies, ``w_c = 1 / n_c`` with
    ``n_c`` the number of batch elements of class c, so every class present weighs the same
    (for elements spread evenly over anchors). With a file, ``w_c`` is read per class id.

    Parameters
    ----------
    class_weights : str
        A ``.npy`` or text file with one non-negative weight per class id (none: 1 / batch frequency).
    """

    @classmethod
    def check_arguments(cls, *, class_weights: str | None, **_: Any) -> None:
        if class_weights:
            read_class_weights(class_weights)

    def __init__(self, class_weights: str | None = None):
        self.class_weights = class_weights
        self.table = read_class_weights(class_weights) if class_weights else None

    def weights_of(self, labels: torch.Tensor) -> torch.Tensor:
        if self.table is not None:
            if int(labels.max()) >= self.table.numel():
                raise ValueError(f"--reducer_class_weights {self.class_weights}: has {self.table.numel()} "
                                 f"weights but label {int(labels.max())} occurs")
            return self.table.to(labels.device)[labels]
        _, inverse, counts = torch.unique(labels, return_inverse=True, return_counts=True)
        return 1.0 / counts[inverse].double()

    def reduce(self, term: LossTerm, labels: torch.Tensor) -> torch.Tensor:
        anchors = element_anchors(term, "class_weighted")
        w = self.weights_of(labels)[anchors].to(term.values.dtype)
        return (w * term.values).sum() / w.sum().clamp_min(torch.finfo(term.values.dtype).tiny)
