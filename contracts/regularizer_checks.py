"""The regularizer contract (embedding and weight regularizers): a matrix becomes a finite 0-dim
tensor of its dtype with a gradient; an empty matrix a finite value."""
from __future__ import annotations

import torch

from contracts.base import Subject, check
from contracts.fixtures import B, D, N_CLASSES, backward, batch, finite_scalar

#: Rows of the matrix a regularizer gets: a batch of embeddings, or one weight row per class.
ROWS = {"embedding_regularizer": B, "weight_regularizer": N_CLASSES}


@check("embedding_regularizer", "weight_regularizer")
def check_regularizer_matrix(subject: Subject) -> None:
    """A finite 0-dim tensor of the input dtype, with a gradient, on a (rows, D) matrix."""
    reg = subject.build()
    for dtype in (torch.float32, torch.float64):
        x, _ = batch(list(range(ROWS[subject.kind])), dtype)
        out = reg(x)
        finite_scalar(out, f"a ({dtype}) matrix", dtype)
        backward(out, x, f"a ({dtype}) matrix")


@check("embedding_regularizer", "weight_regularizer")
def check_regularizer_empty_matrix(subject: Subject) -> None:
    """A finite 0-dim tensor of the input dtype on a (0, D) matrix."""
    reg = subject.build()
    for dtype in (torch.float32, torch.float64):
        out = reg(torch.zeros(0, D, dtype=dtype, requires_grad=True))
        finite_scalar(out, f"an empty {dtype} matrix", dtype)
