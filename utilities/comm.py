"""Communication primitives of ``torch.distributed`` (one process per device, launched by torchrun).

Without torchrun's environment (``WORLD_SIZE`` unset or 1) every function here is a no-op that
returns its input, so single-process code calls them unconditionally. The training package
(``training/distributed.py``) builds the process group, DDP and the global-batch objective on
top of these; evaluation uses :func:`sharded` and :func:`on_main`.

* Only rank 0 writes: the writers of the run folder, checkpoints and figures ask
  :func:`is_main` before they call :mod:`utilities.atomic` (which always writes).
* :func:`sharded` makes an embedding function embed only this rank's shard of a dataset and
  gather the rows; :func:`on_main` computes (metrics) on rank 0 and hands the result to all.
* :func:`all_gather` is differentiable: its backward sums the incoming gradients over ranks
  and keeps this rank's rows (the adjoint of the gather); ``training/distributed.py`` derives
  why that makes the global-batch gradient exact.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Dataset, Subset


# ---- process group ----------------------------------------------------------------------------
def launched() -> bool:
    """True when torchrun started more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def world_size_from_env() -> int:
    """The number of processes torchrun started (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


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


def enabled() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if enabled() else 0


def world_size() -> int:
    return dist.get_world_size() if enabled() else 1


def is_main() -> bool:
    """True on rank 0 and in a single-process run: the process that writes and prints."""
    return rank() == 0


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
        plain = unwrap(model)  # DDP's forward would sync buffers: a collective per batch
        broadcast_module(plain)
        return tuple(gather_rows(part) for part in embed_fn(plain, shard(dataset), *args, **kwargs))
    return embed_all


def on_main(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` computed once, on rank 0, and returned on every rank."""
    return broadcast_object(fn(*args, **kwargs) if is_main() else None)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside DistributedDataParallel / ``torch.compile`` wrappers."""
    model = getattr(model, "module", model)
    return getattr(model, "_orig_mod", model)
