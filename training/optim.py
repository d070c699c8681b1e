"""Optimizer and learning-rate schedule with per-component parameter groups."""
from __future__ import annotations

import functools
import math
from typing import Any

import torch
from torch import nn

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD,
              "rmsprop": torch.optim.RMSprop}
#: Momentum of the optimizers that take one: SGD, and RMSprop as the Reality Check ran it
#: (Musgrave et al., ECCV 2020: RMSprop, momentum 0.9).
MOMENTUM = 0.9


def param_groups(model: nn.Module, loss: nn.Module, lr: float, decay: float, fc_lr: float,
                 loss_weight_decay: float) -> list[dict[str, Any]]:
    """Groups: backbone (lr, decay), embedding head (``fc_lr`` unless -1), and each loss's own
    parameters at the lr its flag names, with ``loss_weight_decay`` (default 0)."""
    head = getattr(model, "head", None)
    head_ids = {id(p) for p in head.parameters()} if (head is not None and fc_lr != -1) else set()
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    groups = [{"params": body, "lr": lr, "weight_decay": decay, "name": "backbone"}]
    if head_ids:
        groups.append({"params": [p for p in head.parameters() if p.requires_grad], "lr": fc_lr,
                       "weight_decay": decay, "name": "head"})
    for group in loss.param_groups():
        groups.append({**group, "weight_decay": loss_weight_decay})
    return [g for g in groups if g["params"]]


def build_optimizer(name: str, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
    if name in ("sgd", "rmsprop"):
        return OPTIMIZERS[name](groups, momentum=MOMENTUM)
    return OPTIMIZERS[name](groups)


def lr_factor(name: str, epoch: int, n_epochs: int, tau: list[int], gamma: float) -> float:
    """The learning-rate factor after ``epoch`` epochs, in closed form:

    * ``step``: ``gamma ** |{t in tau : t <= epoch}|`` (x gamma at each epoch of ``--tau``);
    * ``cosine``: ``(1 + cos(pi * epoch / n_epochs)) / 2`` (Loshchilov & Hutter, SGDR, ICLR 2017,
      without restarts; 0 at ``n_epochs``);
    * ``none``: 1.
    """
    if name == "step":
        return gamma ** sum(t <= epoch for t in tau)
    if name == "cosine":
        return (1.0 + math.cos(math.pi * min(epoch, n_epochs) / max(n_epochs, 1))) / 2.0
    return 1.0


def build_scheduler(name: str, optimizer: torch.optim.Optimizer, n_epochs: int, tau: list[int],
                    gamma: float) -> torch.optim.lr_scheduler.LambdaLR:
    """Epoch-level schedule ``lr = base_lr * lr_factor(epoch)`` (:func:`lr_factor`).

    The closed form depends only on the epoch and the run's length, never on the previous lr, so
    a run resumed with more epochs (``--resume RUN --n_epochs N``) follows the schedule of the new
    length from the resumed epoch on (:func:`follow_schedule`)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, functools.partial(lr_factor, name, n_epochs=n_epochs, tau=sorted(tau), gamma=gamma))


def follow_schedule(scheduler: torch.optim.lr_scheduler.LambdaLR) -> None:
    """Set every group's lr to the schedule's value at ``scheduler.last_epoch`` (after a restore,
    whose optimizer state holds the lr of the saved run's schedule)."""
    for group, base, factor in zip(scheduler.optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas):
        group["lr"] = base * factor(scheduler.last_epoch)
    scheduler._last_lr = [group["lr"] for group in scheduler.optimizer.param_groups]


def select(opt: Any, model: nn.Module, loss: nn.Module) -> tuple[torch.optim.Optimizer, Any]:
    """The optimizer and scheduler named by ``opt.optim`` and ``opt.scheduler``; ``loss`` is
    anything with ``param_groups()`` (the objective, or a loss)."""
    groups = param_groups(model, loss, opt.lr, opt.decay, opt.fc_lr, opt.loss_weight_decay)
    optimizer = build_optimizer(opt.optim, groups)
    return optimizer, build_scheduler(opt.scheduler, optimizer, opt.n_epochs, opt.tau, opt.gamma)
