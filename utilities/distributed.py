"""Multi-process training with ``torch.distributed``, launched by ``torchrun`` (one process per device).

Without torchrun's environment (``WORLD_SIZE`` unset or 1) every function here is a no-op and
dmlbench runs as a single process. Under torchrun:

* :func:`setup` joins the process group (``nccl`` on CUDA, ``gloo`` on the CPU), pins each
  process to its ``LOCAL_RANK`` GPU, makes every rank use rank 0's ``--savename`` and silences
  the standard output of the other ranks.
* :func:`wrap` puts the model in ``DistributedDataParallel`` (and ``torch.compile`` with
  ``--compile``) and returns the :class:`DistributedLoss` of one training step.
* Only rank 0 writes: every file of the run folder goes through :mod:`utilities.atomic`, which
  skips writes on other ranks (see :func:`is_main`).
* :func:`sharded` makes an embedding function embed only this rank's shard of a dataset and
  gather the rows; :func:`on_main` computes (metrics) on rank 0 and hands the result to all.

The gradient of a global-batch loss
-----------------------------------
Let rank ``r`` hold embeddings ``e_r = f_θ(x_r)`` of its slice of the global batch, and
``E = [e_1; ...; e_W]`` the all-gathered batch. Every rank computes the same value ``L(E)``.
:func:`all_gather` is differentiable and its backward *sums* the incoming gradients over ranks
(a reduce-scatter, like ``torch.distributed.nn.functional.all_gather``), so rank ``r``'s embeddings receive
``Σ_s ∂L/∂e_r = W · ∂L/∂e_r`` and its backward yields ``g_r = W · J_rᵀ ∂L/∂e_r``.
DistributedDataParallel then averages: ``(1/W) Σ_r g_r = Σ_r J_rᵀ ∂L/∂e_r = ∂L/∂θ``, exactly
the single-process gradient on the concatenated batch. Hence the loss scale is
:data:`GLOBAL_LOSS_SCALE` ``= 1``, and the logged loss equals the single-process loss. (A gather
whose backward only kept the local slice would need ``W``.) Loss parameters (proxies, class
boundaries) get the same ``∂L/∂φ`` on every rank; :func:`average_gradients` averages them, which
keeps them identical (and is what makes ``--dist_global_batch false`` correct for them).
``tests/distributed`` checks all of this against a single process to 1e-5.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, Subset

GLOBAL_LOSS_SCALE = 1.0  # derived in the module docstring; verified in tests/distributed
_owned_group = False  # True when setup() made the process group (so cleanup() may end it)


# ---- process group ----------------------------------------------------------------------------
def launched() -> bool:
    """True when torchrun started more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def enabled() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if enabled() else 0


def world_size() -> int:
    return dist.get_world_size() if enabled() else 1


def is_main() -> bool:
    """True on rank 0 and in a single-process run: the process that writes and prints."""
    return rank() == 0


def setup(opt: argparse.Namespace) -> None:
    """Join the process group from torchrun's environment variables; a no-op otherwise.

    ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` are set by
    torchrun (``env://`` initialisation). The backend is ``nccl`` for ``--device cuda`` and
    ``gloo`` for ``--device cpu``.
    """
    global _owned_group
    if not launched():
        return
    problem = batch_problem(opt.bs, opt.samples_per_class, int(os.environ["WORLD_SIZE"]), opt.dist_global_batch)
    if problem:
        if os.environ.get("RANK", "0") != "0":
            raise SystemExit(2)  # rank 0 says why, once
        from parameters import fail
        fail(problem)
    if not dist.is_initialized():  # else a caller (a test, a notebook) made it and owns it
        if opt.device == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if opt.device == "cuda" else "gloo")
        _owned_group = True
    opt.savename = broadcast_object(opt.savename)  # a timestamped default differs per rank
    if not is_main():
        sys.stdout = open(os.devnull, "w")  # one copy of the console output, from rank 0


def batch_problem(bs: int, samples_per_class: int, n_ranks: int, global_batch: bool) -> str | None:
    """Why ``--bs`` cannot be shared by ``n_ranks`` ranks, or ``None``.

    ``--bs`` is the global batch. Each rank takes ``bs / n_ranks`` of it; without global-batch
    mining a rank only sees its own slice, so the slice must hold whole classes (K items each).
    """
    if bs % n_ranks:
        return f"--bs {bs} (the global batch) is not divisible by the {n_ranks} ranks"
    if not global_batch and (bs // n_ranks) % samples_per_class:
        return (f"--dist_global_batch false: each rank's {bs // n_ranks} items are not whole classes of "
                f"--samples_per_class {samples_per_class}; use --bs a multiple of {n_ranks * samples_per_class}")
    return None


def cleanup() -> None:
    """End the process group that :func:`setup` made (one made elsewhere is left alone)."""
    global _owned_group
    if _owned_group and dist.is_initialized():
        dist.destroy_process_group()
    _owned_group = False


def barrier() -> None:
    if enabled():
        dist.barrier()


def _comm_device(tensor: torch.Tensor) -> torch.device:
    """The device collectives need: CUDA for nccl, the CPU for gloo."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


# ---- collectives --------------------------------------------------------------------------------
class _AllGatherSumGrad(torch.autograd.Function):
    """All-gather whose backward sums the gathered gradient over ranks and keeps this rank's rows
    (the adjoint of the gather; what ``torch.distributed.nn.functional.all_gather`` computes)."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(tensor) for _ in range(world_size())]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rows = len(tensor)
        return torch.cat(parts)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone(memory_format=torch.contiguous_format)  # never reduce autograd's buffer in place
        dist.all_reduce(grad)
        return grad[rank() * ctx.rows:(rank() + 1) * ctx.rows]


def all_gather(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's ``tensor`` (equal shapes) along dim 0, in rank order.

    Differentiable: the gradient of the result flows back to each rank's own rows, summed over
    ranks (as with ``torch.distributed.nn.functional.all_gather``, deprecated in torch 2.14).
    """
    if not enabled():
        return tensor
    if tensor.requires_grad:
        return _AllGatherSumGrad.apply(tensor)
    parts = [torch.empty_like(tensor) for _ in range(world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


def gather_rows(rows: np.ndarray) -> np.ndarray:
    """Concatenate every rank's ``rows`` (any lengths, same trailing shape) in rank order."""
    if not enabled():
        return rows
    local = torch.from_numpy(np.ascontiguousarray(rows))
    device = _comm_device(local)
    sizes = all_gather(torch.tensor([len(local)], device=device)).tolist()
    padded = torch.zeros((max(sizes),) + tuple(local.shape[1:]), dtype=local.dtype, device=device)
    padded[:len(local)] = local.to(device)
    gathered = all_gather(padded).view(len(sizes), max(sizes), *local.shape[1:])
    return torch.cat([part[:n] for part, n in zip(gathered, sizes)]).cpu().numpy()


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` (any picklable value) on every rank."""
    if not enabled():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_tuples(tuples: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Rank 0's mined tuple (triplets, pairs or sets) on every rank, with the same type.

    Every rank's miner yields the same kind (same ``ndim`` and dtype per field); only the sizes
    differ, so the shapes travel first and then the values, as one int64 vector.
    """
    if not enabled():
        return tuples
    device = _comm_device(tuples[0])
    shapes = torch.tensor([n for t in tuples for n in t.shape], dtype=torch.int64, device=device)
    dist.broadcast(shapes, src=0)
    dims = iter(shapes.tolist())
    sizes = [[next(dims) for _ in range(t.dim())] for t in tuples]
    numels = [int(np.prod(size)) for size in sizes]
    flat = torch.cat([t.reshape(-1).to(device, torch.int64) for t in tuples]) if is_main() else \
        torch.empty(sum(numels), dtype=torch.int64, device=device)
    dist.broadcast(flat, src=0)
    parts = [p.view(size).to(t.device, t.dtype) for p, size, t in zip(flat.split(numels), sizes, tuples)]
    return type(tuples)(*parts) if hasattr(tuples, "_fields") else tuple(parts)


def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers (BatchNorm statistics, proxies) to every rank."""
    if not enabled():
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        data = tensor.data.to(_comm_device(tensor))
        dist.broadcast(data, src=0)
        tensor.data.copy_(data)


def average_gradients(module: nn.Module) -> None:
    """Average the gradients of ``module``'s trainable parameters over ranks (one all-reduce).

    Called after every backward for the loss's own parameters, which DDP does not see. A
    parameter without a gradient on some rank counts as zero there, so no rank can wait forever.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    if not enabled() or not params:
        return
    device = _comm_device(params[0])
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1).to(device, torch.float64) for g in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    for p, chunk in zip(params, flat.split([p.numel() for p in params])):
        p.grad = chunk.view_as(p).to(p.device, p.dtype)


def all_finite(loss: torch.Tensor) -> bool:
    """True when ``loss`` is finite on every rank (so that all ranks skip a batch together)."""
    flag = torch.tensor([float(torch.isfinite(loss).all())])
    if enabled():
        flag = flag.to(_comm_device(loss))
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item() > 0)


# ---- the loss of one step -----------------------------------------------------------------------
class DistributedLoss(nn.Module):
    """The loss of one training step under DDP.

    With ``global_batch`` (``--dist_global_batch true``, the default), embeddings and labels are
    all-gathered, the miner runs on the global batch (every rank then uses rank 0's tuples, so a
    random miner draws once), and the loss is computed on the global batch, scaled by
    :data:`GLOBAL_LOSS_SCALE` so that DDP's averaged gradient is the single-process gradient.
    An ``indices_tuple`` passed in indexes the global batch and replaces mining.

    Without ``global_batch`` every rank mines and computes its loss on its own slice (DDP then
    averages the per-rank gradients); a batch is skipped on all ranks if any rank's loss is not
    finite, so that ranks never disagree on whether to call backward.

    Parameters
    ----------
    loss : nn.Module
        A dmlbench loss (``criteria.select``).
    miner : nn.Module or None
        The batch miner, for losses that take tuples.
    global_batch : bool
        Mine and compute the loss on the all-gathered batch.
    """

    def __init__(self, loss: nn.Module, miner: nn.Module | None = None, global_batch: bool = True):
        super().__init__()
        self.loss, self.miner, self.global_batch = loss, miner, global_batch

    @property
    def uses_miner(self) -> bool:
        """False in global-batch mode: the miner is run here, on the gathered batch."""
        return self.loss.uses_miner and not self.global_batch

    @property
    def accepts(self) -> tuple[str, ...]:
        return getattr(self.loss, "accepts", ())

    @property
    def components(self) -> nn.ModuleDict | None:
        """The parts of a summed loss (``--loss a+b``), so ``batch_mining.adapt_for`` converts per part."""
        return getattr(self.loss, "components", None)

    @property
    def stats(self) -> dict[str, float]:
        return self.loss.stats

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor,
                indices_tuple: tuple[torch.Tensor, ...] | None = None) -> torch.Tensor:
        if not self.global_batch:
            loss = self.loss(embeddings, labels, indices_tuple)
            return loss if all_finite(loss) else loss + float("nan")
        embeddings, labels = all_gather(embeddings), all_gather(labels)
        if indices_tuple is None and self.miner is not None and self.loss.uses_miner:
            from batch_mining import adapt_for  # the loop's own conversion to the kinds the loss accepts
            mined = broadcast_tuples(self.miner(embeddings, labels))
            indices_tuple = adapt_for(self.loss, mined, len(labels))
        return self.loss(embeddings, labels, indices_tuple) * GLOBAL_LOSS_SCALE


def wrap(model: nn.Module, loss: nn.Module, miner: nn.Module | None,
         opt: argparse.Namespace) -> tuple[nn.Module, nn.Module]:
    """The model to train (DDP and/or ``torch.compile``) and the loss to call at each step.

    In a single process the loss is returned as it is. Under torchrun, BatchNorm becomes
    SyncBatchNorm on CUDA with ``--dist_global_batch`` (the CPU has no SyncBatchNorm), the loss's
    parameters are copied from rank 0, and the loss is a :class:`DistributedLoss`.
    """
    step_loss = loss
    if enabled():
        if opt.device == "cuda" and opt.dist_global_batch:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)  # same Parameter objects
        device_ids = [torch.cuda.current_device()] if opt.device == "cuda" else None
        model = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
        broadcast_module(loss)
        step_loss = DistributedLoss(loss, miner, global_batch=opt.dist_global_batch)
    if opt.compile:
        model = torch.compile(model)
    return model, step_loss


# ---- evaluation ---------------------------------------------------------------------------------
def shard(dataset: Dataset) -> Dataset:
    """This rank's contiguous block of ``dataset`` (blocks in rank order cover it exactly once)."""
    if not enabled():
        return dataset
    n, r, w = len(dataset), rank(), world_size()
    return Subset(dataset, range(n * r // w, n * (r + 1) // w))


def sharded(embed_fn: Callable[..., tuple[np.ndarray, ...]]) -> Callable[..., tuple[np.ndarray, ...]]:
    """Decorate ``embed_fn(model, dataset, ...) -> arrays`` to embed this rank's :func:`shard`
    with the plain model (rank 0's BatchNorm statistics) and return every rank's rows, in order."""
    @functools.wraps(embed_fn)
    def embed_all(model: nn.Module, dataset: Dataset, *args: Any, **kwargs: Any) -> tuple[np.ndarray, ...]:
        if not enabled():
            return embed_fn(model, dataset, *args, **kwargs)
        from utilities.checkpoint import unwrap
        plain = unwrap(model)  # DDP's forward would sync buffers: a collective per batch
        broadcast_module(plain)
        return tuple(gather_rows(part) for part in embed_fn(plain, shard(dataset), *args, **kwargs))
    return embed_all


def on_main(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` computed once, on rank 0, and returned on every rank."""
    return broadcast_object(fn(*args, **kwargs) if is_main() else None)
