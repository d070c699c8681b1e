"""Optional Weights & Biases logging (``--log_online``); works offline with WANDB_MODE=offline."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from training.run_folder import public_config, redact_argv

PLACEHOLDER_KEY = "<your_api_key_here>"


@contextlib.contextmanager
def argv_redacted() -> Iterator[None]:
    """``sys.argv`` without secret values while inside: ``wandb.init`` copies it into the run's
    metadata (``wandb-metadata.json`` "args" and the ``.wandb`` file that is synced to the server)."""
    saved = sys.argv
    sys.argv = saved[:1] + redact_argv(saved[1:])
    try:
        yield
    finally:
        sys.argv = saved


def missing_key(opt: Any) -> str | None:
    """Why ``--log_online`` cannot log in (no key in ``WANDB_API_KEY`` nor ``--wandb_key``, and W&B
    not offline), or ``None``; checked when the flags are parsed, before any run folder is touched."""
    flag_key = opt.wandb_key if opt.wandb_key != PLACEHOLDER_KEY else None
    if opt.log_online and not (os.environ.get("WANDB_API_KEY") or flag_key) \
            and os.environ.get("WANDB_MODE", "") not in ("offline", "disabled"):
        return "--log_online: no W&B key; set WANDB_API_KEY (or WANDB_MODE=offline)"
    return None


class OnlineLogger:
    """Logs the config once and metrics per epoch. A no-op unless ``enabled``.

    The API key is taken from ``WANDB_API_KEY`` or ``--wandb_key``. A flag key is handed to wandb
    as ``Settings(api_key=...)``, which wandb uses for this process only: unlike ``wandb.login(key=)``
    it is not written to ``~/.netrc``. The key is kept out of the logged config and of the command
    line wandb records, so it reaches no file.
    """

    def __init__(self, opt: Any, run_dir: str, enabled: bool):
        self.run = None
        if not enabled:
            return
        import wandb
        flag_key = opt.wandb_key if opt.wandb_key != PLACEHOLDER_KEY else None
        if missing_key(opt):
            raise RuntimeError(missing_key(opt))
        settings = wandb.Settings(api_key=flag_key) if flag_key and not os.environ.get("WANDB_API_KEY") \
            else wandb.Settings()
        with argv_redacted():
            self.run = wandb.init(project=opt.project, group=opt.group, name=opt.savename,
                                  config=public_config(opt), dir=run_dir, reinit=True, settings=settings)

    def log(self, values: dict[str, Any], step: int) -> None:
        if self.run is not None:
            self.run.log({k: v for k, v in values.items() if isinstance(v, (int, float))}, step=step)

    def finish(self) -> None:
        if self.run is not None:
            self.run.finish()
