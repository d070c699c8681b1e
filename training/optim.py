"""Optimizer and learning-rate schedule with per-component parameter groups."""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


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
    if name == "sgd":
        return torch.optim.SGD(groups, momentum=0.9)
    return OPTIMIZERS[name](groups)


def build_scheduler(name: str, optimizer: torch.optim.Optimizer, n_epochs: int, tau: list[int],
                    gamma: float) -> torch.optim.lr_scheduler.LRScheduler:
    """Epoch-level schedule: ``step`` (x gamma at each epoch in tau), ``cosine`` or ``none``."""
    if name == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=sorted(tau), gamma=gamma)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(n_epochs, 1))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


def select(opt: Any, model: nn.Module, loss: nn.Module) -> tuple[torch.optim.Optimizer, Any]:
    """The optimizer and scheduler named by ``opt.optim`` and ``opt.scheduler``; ``loss`` is
    anything with ``param_groups()`` (the objective, or a loss)."""
    groups = param_groups(model, loss, opt.lr, opt.decay, opt.fc_lr, opt.loss_weight_decay)
    optimizer = build_optimizer(opt.optim, groups)
    return optimizer, build_scheduler(opt.scheduler, optimizer, opt.n_epochs, opt.tau, opt.gamma)
