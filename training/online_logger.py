"""Optional Weights & Biases logging (``--log_online``); works offline with WANDB_MODE=offline."""
from __future__ import annotations

import os
from typing import Any

from training.run_folder import public_config

PLACEHOLDER_KEY = "<your_api_key_here>"


class OnlineLogger:
    """Logs the config once and metrics per epoch. A no-op unless ``enabled``.

    The API key is taken from ``WANDB_API_KEY`` or ``--wandb_key``; it is handed to wandb
    through the process environment only, and is never printed or logged.
    """

    def __init__(self, opt: Any, run_dir: str, enabled: bool):
        self.run = None
        if not enabled:
            return
        import wandb
        key = os.environ.get("WANDB_API_KEY") or (opt.wandb_key if opt.wandb_key != PLACEHOLDER_KEY else None)
        if key:
            os.environ["WANDB_API_KEY"] = key
        elif os.environ.get("WANDB_MODE", "") not in ("offline", "disabled"):
            raise RuntimeError("--log_online: no W&B key; set WANDB_API_KEY (or WANDB_MODE=offline)")
        self.run = wandb.init(project=opt.project, group=opt.group, name=opt.savename,
                              config=public_config(opt), dir=run_dir, reinit=True)

    def log(self, values: dict[str, Any], step: int) -> None:
        if self.run is not None:
            self.run.log({k: v for k, v in values.items() if isinstance(v, (int, float))}, step=step)

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
