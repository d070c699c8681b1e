"""The tiny inputs every check uses, and the assertions several kinds share."""
from __future__ import annotations

from typing import Any, Iterator

import torch

B, D, N_CLASSES = 12, 8, 16
#: What a :class:`~criteria.terms.LossTerm` element can be (criteria/terms.py).
TERM_KINDS = ("element", "pos_pair", "neg_pair", "triplet", "reduced")
TUPLE_KINDS = ("triplets", "pairs", "sets")
#: Degenerate batches every loss and miner must survive: all one class, all distinct, two items.
DEGENERATE = {"one_class": [0] * 8, "all_distinct": list(range(8)), "two_same": [0, 0], "two_distinct": [0, 1]}


def batch(labels: list[int] | torch.Tensor, dtype: torch.dtype = torch.float32, seed: int = 1,
          dim: int = D) -> tuple[torch.Tensor, torch.Tensor]:
    """Leaf embeddings (requiring grad) and int64 labels."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    emb = torch.randn(labels.numel(), dim, generator=gen, dtype=torch.float64).to(dtype).requires_grad_(True)
    return emb, labels


def degenerate_batches() -> Iterator[tuple[str, torch.Tensor, torch.Tensor]]:
    """``(case, embeddings, labels)`` of every :data:`DEGENERATE` batch."""
    for case, labels in DEGENERATE.items():
        yield (case, *batch(labels))


def regular_labels() -> torch.Tensor:
    """4 classes x 3 items."""
    return torch.arange(4).repeat_interleave(B // 4)


def finite_scalar(out: Any, what: str, dtype: torch.dtype | None = None) -> None:
    """``out`` is a finite 0-dim tensor (of ``dtype`` when given)."""
    assert isinstance(out, torch.Tensor), f"{what}: returned {type(out).__name__}, not a tensor"
    assert out.dim() == 0, f"{what}: returned shape {tuple(out.shape)}, not a 0-dim tensor"
    assert torch.isfinite(out), f"{what}: returned {out.item()}"
    if dtype is not None:
        assert out.dtype == dtype, f"{what}: {dtype} input gave a {out.dtype} output"


def backward(out: torch.Tensor, leaf: torch.Tensor, what: str) -> None:
    """``out`` is connected to ``leaf`` and gives it a finite gradient."""
    assert out.requires_grad, f"{what}: output is not connected to the input's graph"
    leaf.grad = None
    out.backward()
    assert leaf.grad is not None, f"{what}: no gradient reached the input"
    assert torch.isfinite(leaf.grad).all(), f"{what}: non-finite gradient"
