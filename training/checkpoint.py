"""``checkpoint_last.pt`` / ``checkpoint_best.pt``: everything needed to continue a run exactly."""
from __future__ import annotations

import os
from typing import Any

import torch

from utilities.atomic import save_torch
from utilities.comm import unwrap
from utilities.seeding import rng_state, set_rng_state


def save_checkpoint(path: str, *, epoch: int, model: torch.nn.Module, loss: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler: Any, sampler: Any,
                    selector: Any, wall_time: float, config: dict[str, Any]) -> None:
    """Atomically write model, loss parameters, optimizer, scheduler, sampler, RNG states, epoch."""
    save_torch(path, {
        "epoch": epoch, "model": unwrap(model).state_dict(), "loss": loss.state_dict(),
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "sampler": sampler.state_dict(), "selector": selector.state_dict(), "rng": rng_state(),
        "wall_time": wall_time, "config": config,
    })


def load_checkpoint(path: str) -> dict[str, Any]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"--resume: no checkpoint at {path}")
    return torch.load(path, map_location="cpu", weights_only=False)


def restore(state: dict[str, Any], *, model: torch.nn.Module, loss: torch.nn.Module,
            optimizer: torch.optim.Optimizer, scheduler: Any, sampler: Any, selector: Any) -> int:
    """Load ``state`` into the live objects; return the last completed epoch."""
    unwrap(model).load_state_dict(state["model"])
    loss.load_state_dict(state["loss"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    sampler.load_state_dict(state["sampler"])
    selector.load_state_dict(state["selector"])
    set_rng_state(state["rng"])
    return int(state["epoch"])
