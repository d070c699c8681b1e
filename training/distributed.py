"""Multi-process training with ``torch.distributed``, launched by ``torchrun`` (one process per device).

Without torchrun's environment (``WORLD_SIZE`` unset or 1) every function here is a no-op and
dmlbench runs as a single process. Under torchrun:

* :func:`setup` joins the process group (``nccl`` on CUDA, ``gloo`` on the CPU) and pins each
  process to its ``LOCAL_RANK`` GPU; :func:`shared_savename` makes every rank use rank 0's
  run folder name; the other ranks' standard output is silenced.
* :func:`wrap` puts the model in ``DistributedDataParallel`` (and ``torch.compile`` with
  ``--compile``) and wraps the :class:`~training.objective.Objective` in a
  :class:`DistributedObjective`, which gathers the embeddings around it.
* The collectives themselves are in :mod:`utilities.comm`.

The gradient of a global-batch loss
-----------------------------------
Let rank ``r`` hold embeddings ``e_r = f_θ(x_r)`` of its slice of the global batch, and
``E = [e_1; ...; e_W]`` the all-gathered batch. Every rank computes the same value ``L(E)``.
:func:`utilities.comm.all_gather` is differentiable and its backward *sums* the incoming gradients over ranks
(a reduce-scatter, like ``torch.distributed.nn.functional.all_gather``), so rank ``r``'s embeddings receive
``Σ_s ∂L/∂e_r = W · ∂L/∂e_r`` and its backward yields ``g_r = W · J_rᵀ ∂L/∂e_r``.
DistributedDataParallel then averages: ``(1/W) Σ_r g_r = Σ_r J_rᵀ ∂L/∂e_r = ∂L/∂θ``, exactly
the single-process gradient on the concatenated batch. Hence the loss scale is
:data:`GLOBAL_LOSS_SCALE` ``= 1``, and the logged loss equals the single-process loss. (A gather
whose backward only kept the local slice would need ``W``.) Loss parameters (proxies, class
boundaries) get the same ``∂L/∂φ`` on every rank; :func:`utilities.comm.average_gradients` averages them, which
keeps them identical (and is what makes ``--dist_global_batch false`` correct for them).
``tests/distributed`` checks all of this against a single process to 1e-5.
"""
from __future__ import annotations

import os
import sys

import torch
import torch.distributed as dist
from torch import nn

from training.objective import Objective
from utilities.comm import (all_finite, all_gather, broadcast_module, broadcast_object, broadcast_tuples,
                            enabled, is_main, launched)

GLOBAL_LOSS_SCALE = 1.0  # derived in the module docstring; verified in tests/distributed
_owned_group = False  # True when setup() made the process group (so cleanup() may end it)


def setup(device: str) -> None:
    """Join the process group from torchrun's environment variables; a no-op otherwise.

    ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` are set by
    torchrun (``env://`` initialisation). The backend is ``nccl`` for ``device == "cuda"`` and
    ``gloo`` for the CPU. The batch layout was checked at parse time (:func:`utilities.comm.batch_problem`).
    """
    global _owned_group
    if not launched():
        return
    if not dist.is_initialized():  # else a caller (a test, a notebook) made it and owns it
        if device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
        _owned_group = True
    if not is_main():
        sys.stdout = open(os.devnull, "w")  # one copy of the console output, from rank 0


def shared_savename(savename: str) -> str:
    """Rank 0's run folder name on every rank (a timestamped default differs per rank)."""
    return broadcast_object(savename)


def cleanup() -> None:
    """End the process group that :func:`setup` made (one made elsewhere is left alone)."""
    global _owned_group
    if _owned_group and dist.is_initialized():
        dist.destroy_process_group()
    _owned_group = False


class DistributedObjective(Objective):
    """The objective of one training step under DDP: the same mine -> convert -> loss, with the
    embeddings gathered around it.

    With ``global_batch`` (``--dist_global_batch true``, the default), embeddings and labels are
    all-gathered, the miner runs on the global batch (every rank then uses rank 0's tuples, so a
    random miner draws once), and the loss is computed on the global batch, scaled by
    :data:`GLOBAL_LOSS_SCALE` so that DDP's averaged gradient is the single-process gradient.

    Without ``global_batch`` every rank mines and computes its loss on its own slice (DDP then
    averages the per-rank gradients); a batch is skipped on all ranks if any rank's loss is not
    finite, so that ranks never disagree on whether to call backward.

    Parameters
    ----------
    objective : Objective
        The single-process objective (its loss and miner are shared, not copied).
    global_batch : bool
        Mine and compute the loss on the all-gathered batch.
    """

    def __init__(self, objective: Objective, global_batch: bool = True):
        super().__init__(objective.loss, objective.miner)
        self.global_batch = global_batch

    def share(self, tuples: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        return broadcast_tuples(tuples) if self.global_batch else tuples

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if not self.global_batch:
            loss = super().forward(embeddings, labels)
            return loss if all_finite(loss) else loss + float("nan")
        return super().forward(all_gather(embeddings), all_gather(labels)) * GLOBAL_LOSS_SCALE


def wrap(model: nn.Module, objective: Objective, *, device: str, global_batch: bool,
         compile: bool) -> tuple[nn.Module, Objective]:
    """The model to train (DDP and/or ``torch.compile``) and the objective to call at each step.

    In a single process the objective is returned as it is. Under torchrun, BatchNorm becomes
    SyncBatchNorm on CUDA with ``global_batch`` (the CPU has no SyncBatchNorm), the loss's
    parameters are copied from rank 0, and the objective is a :class:`DistributedObjective`.
    """
    if enabled():
        if device == "cuda" and global_batch:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # same Parameter objects
        device_ids = [torch.cuda.current_device()] if device == "cuda" else None
        model = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
        broadcast_module(objective)
        objective = DistributedObjective(objective, global_batch=global_batch)
    if compile:
        model = torch.compile(model)
    return model, objective
