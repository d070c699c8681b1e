"""``checkpoint_last.pt`` / ``checkpoint_best.pt``: everything needed to continue a run exactly."""
from __future__ import annotations

import os
from typing import Any

import torch

from training.optim import follow_schedule
from utilities.atomic import save_torch
from utilities.comm import unwrap
from utilities.seeding import rng_state, set_rng_state
from utilities.torch_files import UnsafeFileError, load_plain

KEYS = ("epoch", "model", "loss", "optimizer", "scheduler", "sampler", "selector", "rng", "wall_time", "config")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read; the message names the file and the problem."""


def save_checkpoint(path: str, *, epoch: int, model: torch.nn.Module, loss: torch.nn.Module,
                    optimizer: torch.optim.Optimizer, scheduler: Any, sampler: Any,
                    selector: Any, wall_time: float, config: dict[str, Any],
                    logs: dict[str, list[dict[str, Any]]]) -> None:
    """Atomically write model, loss parameters, optimizer, scheduler, sampler, RNG states, epoch,
    and the rows of ``train.csv`` / ``metrics.csv`` so far (``logs``), so that a resume can
    rebuild those files even if they were lost."""
    save_torch(path, {
        "epoch": epoch, "model": unwrap(model).state_dict(), "loss": loss.state_dict(),
        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
        "sampler": sampler.state_dict(), "selector": selector.state_dict(), "rng": rng_state(),
        "wall_time": wall_time, "config": config, "logs": logs,
    })


def load_checkpoint(path: str, required: tuple[str, ...] = KEYS) -> dict[str, Any]:
    """Read a checkpoint; :class:`CheckpointError` (one line naming ``path``) if it is missing,
    truncated, not a torch file, holds any object but tensors and plain values
    (:func:`utilities.torch_files.load_plain`) or lacks one of ``required`` (to continue a run:
    :data:`KEYS`)."""
    if not os.path.isfile(path):
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = load_plain(path)        # tensors and plain values only: a checkpoint never runs code
    except UnsafeFileError as err:
        raise CheckpointError(str(err)) from None
    except Exception as err:   # truncated zip, not a torch file, a broken pickle: many types, one answer
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({type(err).__name__}: "
                              f"{' '.join(str(err).split())[:120]})") from None
    missing = [k for k in required if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(f"{path}: not a dmlbench checkpoint (missing {', '.join(missing)})")
    return state


def restore(state: dict[str, Any], *, model: torch.nn.Module, loss: torch.nn.Module,
            optimizer: torch.optim.Optimizer, scheduler: Any, sampler: Any, selector: Any) -> int:
    """Load ``state`` into the live objects; return the last completed epoch.

    The schedule is a closed form of the epoch (``training.optim.build_scheduler``): it is set to
    the restored epoch under the *current* run length, so extending ``--n_epochs`` gives the
    schedule of the new length from there on."""
    unwrap(model).load_state_dict(state["model"])
    loss.load_state_dict(state["loss"])
    optimizer.load_state_dict(state["optimizer"])
    sampler.load_state_dict(state["sampler"])
    selector.load_state_dict(state["selector"])
    set_rng_state(state["rng"])
    epoch = int(state["epoch"])
    scheduler.last_epoch = epoch
    follow_schedule(scheduler)
    return epoch
