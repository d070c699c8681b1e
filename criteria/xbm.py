"""Cross-batch memory wrapper (``--xbm_memory_size``)."""
from __future__ import annotations

from typing import Any

import torch

from criteria.base import BaseLoss, LossModule
from utilities.tuples import Pairs, all_pairs, all_triplets


class CrossBatchMemory(LossModule):
    """Cross-batch memory (Wang et al., "Cross-Batch Memory for Embedding Learning", CVPR 2020).

    Keeps the last ``memory_size`` embeddings (detached) and labels in a ring buffer. From
    iteration ``start_iteration`` on, the loss is ::

        L = L(batch; mined tuples) + L(batch ∪ memory; tuples with the anchor in the batch and
                                        the other items in the memory)

    where the second part uses every such pair (losses taking pairs) or triplet (others).
    Memory items carry no gradient; the current batch is enqueued after the loss. The memory and
    the iteration count are part of the module's ``state_dict`` (extra state), so ``--resume``
    continues exactly.

    Parameters
    ----------
    loss : BaseLoss
        A loss whose ``compute_loss`` takes pairs or triplets.
    memory_size : int
        Number of embeddings kept.
    start_iteration : int
        Training iteration from which the memory term is added (the memory fills before).
    """

    def __init__(self, loss: BaseLoss, memory_size: int, start_iteration: int = 0):
        super().__init__()
        kinds = set(loss.takes) & {"pairs", "triplets"}
        if not kinds:
            raise ValueError(f"--xbm_memory_size: {type(loss).__name__} takes no pairs or triplets")
        if memory_size <= 0:
            raise ValueError(f"--xbm_memory_size must be positive, got {memory_size}")
        self.loss, self.memory_size, self.start_iteration = loss, int(memory_size), int(start_iteration)
        self.kind = "pairs" if "pairs" in kinds else "triplets"
        self.iteration = 0
        self.memory: torch.Tensor | None = None
        self.memory_labels: torch.Tensor | None = None
        self.filled, self.pointer = 0, 0

    # the wrapper takes what the loss it wraps takes
    @property
    def takes(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.loss.takes

    @property
    def stats(self) -> dict[str, float | torch.Tensor]:  # type: ignore[override]
        return {**self.loss.stats, "xbm_filled": float(self.filled)}

    def param_groups(self) -> list[dict[str, Any]]:
        return self.loss.param_groups()

    def get_extra_state(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "filled": self.filled, "pointer": self.pointer,
                "memory": self.memory, "memory_labels": self.memory_labels}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.iteration, self.filled, self.pointer = state["iteration"], state["filled"], state["pointer"]
        self.memory, self.memory_labels = state["memory"], state["memory_labels"]

    def enqueue(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        emb, lab = embeddings.detach()[-self.memory_size:], labels.detach()[-self.memory_size:]
        if self.memory is None or self.memory.shape[1] != emb.shape[1] or self.memory.device != emb.device:
            self.memory = emb.new_zeros(self.memory_size, emb.shape[1])
            self.memory_labels = lab.new_zeros(self.memory_size)
            self.filled, self.pointer = 0, 0
        idx = (self.pointer + torch.arange(emb.shape[0], device=emb.device)) % self.memory_size
        self.memory[idx] = emb.to(self.memory.dtype)
        self.memory_labels[idx] = lab
        self.pointer = (self.pointer + emb.shape[0]) % self.memory_size
        self.filled = min(self.filled + emb.shape[0], self.memory_size)

    def cross_tuples(self, labels: torch.Tensor, memory_labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Pairs or triplets with the anchor in the batch and the rest in the memory."""
        offset = labels.numel()
        if self.kind == "pairs":
            a1, p, a2, n = all_pairs(labels, memory_labels, exclude_self=False)
            return Pairs(a1, p + offset, a2, n + offset)
        a, p, n = all_triplets(labels, exclude_self=False, ref_labels=memory_labels)
        return a, p + offset, n + offset

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices_tuple: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
        loss = self.loss(embeddings, labels, indices_tuple)
        if self.training:
            self.iteration += 1
        if self.filled and self.iteration > self.start_iteration:
            mem = self.memory[:self.filled].to(embeddings.dtype)
            mem_labels = self.memory_labels[:self.filled]
            tuples = self.cross_tuples(labels, mem_labels)
            if tuples[0].numel():
                loss = loss + self.loss.data_loss(torch.cat([embeddings, mem]),
                                                  torch.cat([labels, mem_labels]), tuples)
        if self.training:
            self.enqueue(embeddings, labels)
        return loss
