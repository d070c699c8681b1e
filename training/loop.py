"""One training epoch: batches -> embeddings -> objective (mine -> convert -> loss) -> step."""
from __future__ import annotations

import math
import time
from typing import Any, Iterable

import torch
from torch import nn
from tqdm import tqdm

from datasampler.base import BaseBatchSampler
from training.objective import Objective
from utilities.comm import average_gradients


class NonFiniteLossError(RuntimeError):
    """The loss or a gradient became NaN/inf and no more skips were allowed."""


class RunningMeans:
    """Per-key means of the finite values of miner/loss ``stats`` over an epoch.

    Values may be floats or 0-dim tensors on any device; sums stay on that device, so reading
    statistics costs one device sync per key per epoch instead of one per step.
    """

    def __init__(self) -> None:
        self.sums: dict[str, Any] = {}
        self.counts: dict[str, Any] = {}

    def add(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                value = value.detach().to(torch.float64)
                ok = torch.isfinite(value)
                value, ok = torch.where(ok, value, torch.zeros_like(value)), ok.to(torch.float64)
            elif isinstance(value, (int, float)):
                ok = float(math.isfinite(value))
                value = value if ok else 0.0
            else:
                continue
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0.0) + ok

    def means(self) -> dict[str, float]:
        return {key: float(self.sums[key] / self.counts[key]) if float(self.counts[key]) else float("nan")
                for key in self.sums}


def grads_finite(params: Iterable[torch.Tensor]) -> bool:
    """Whether every gradient is finite, with one device sync for all parameters."""
    flags = [torch.isfinite(p.grad).all() for p in params if p.grad is not None]
    return bool(torch.stack(flags).all()) if flags else True


def batchnorm_buffers(model: nn.Module) -> list[torch.Tensor]:
    """The running statistics of every BatchNorm layer (means, variances, batch counts): the
    state a forward pass in train mode changes besides the weights."""
    return [buf for module in model.modules() if isinstance(module, nn.modules.batchnorm._BatchNorm)
            for buf in (module.running_mean, module.running_var, module.num_batches_tracked) if buf is not None]


def train_epoch(model: nn.Module, objective: Objective, loader: Iterable,
                optimizer: torch.optim.Optimizer, device: torch.device, epoch: int,
                amp: bool = False, skip_budget: int = 0,
                sampler: BaseBatchSampler | None = None) -> dict[str, Any]:
    """Train one epoch and return its ``train.csv`` row (mean loss, mean miner/loss statistics).

    ``sampler`` is the batch sampler that ``loader`` draws from: it receives each batch's
    embeddings (embedding-storage samplers) and its ``stats`` join the row.
    A batch whose loss or gradient is not finite is skipped (counted in ``skipped_nonfinite``)
    while ``skip_budget`` lasts; after that :class:`NonFiniteLossError` names the iteration. A
    skipped batch changes nothing: no optimizer step, BatchNorm running statistics restored, no
    embedding-storage update, no statistics; an epoch whose every batch was skipped trained
    nothing and raises :class:`NonFiniteLossError` too (its loss would be NaN).
    """
    model.train()
    start, losses, skipped = time.time(), [], 0
    stats = RunningMeans()
    params = [p for g in optimizer.param_groups for p in g["params"]]
    running_stats = batchnorm_buffers(model) if skip_budget else []
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False, disable=None)
    for it, (images, labels) in enumerate(bar):
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        saved_stats = [buf.clone() for buf in running_stats]     # restored if the batch is skipped
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            embeddings = model(images)
        embeddings = embeddings.float()
        loss = objective(embeddings, labels)
        optimizer.zero_grad(set_to_none=True)
        value = loss.item()                      # the step's one read of the loss
        finite = math.isfinite(value)
        if finite:
            loss.backward()
            average_gradients(objective)  # the loss's own parameters (DDP averages the model's)
            finite = grads_finite(params)
        if not finite:
            skipped += 1
            if skipped > skip_budget:
                raise NonFiniteLossError(f"non-finite loss or gradient at epoch {epoch}, iteration {it} "
                                         "(use --skip_nonfinite N to skip such batches)")
            optimizer.zero_grad(set_to_none=True)
            with torch.no_grad():
                for buf, saved in zip(running_stats, saved_stats):
                    buf.copy_(saved)
            continue
        if sampler is not None:
            sampler.update_storage(embeddings.detach())          # embedding-storage samplers (datasampler/)
        optimizer.step()
        losses.append(value)
        stats.add(objective.stats)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    if skipped and not losses:
        raise NonFiniteLossError(f"every batch of epoch {epoch} had a non-finite loss or gradient "
                                 f"({skipped} skipped): nothing was trained")
    row = {"epoch": epoch, "loss": sum(losses) / len(losses) if losses else float("nan"),
           "lr": optimizer.param_groups[0]["lr"], "time_s": round(time.time() - start, 3)}
    row.update(stats.means())
    row.update(sampler.stats if sampler is not None else {})
    if skip_budget:
        row["skipped_nonfinite"] = skipped
    return row
