"""Runs pulled from the Weights & Biases API (``--wandb_project ENTITY/PROJECT``).

Optional: ``wandb`` is imported only here, and only when asked for. Each W&B run becomes a
:class:`~aggregation.runs.Run` like a local folder: its config gives the flags and the group,
its state the status, and its history keys ``<split>/<metric>`` (logged per epoch by
``--log_online``) the metric rows.
"""
from __future__ import annotations

import math
from typing import Any

from aggregation.runs import Run, group_of

STATES = {"finished": "completed", "running": "running", "crashed": "failed", "failed": "failed",
          "killed": "failed"}
SPLITS = ("train", "val", "test")


def metric_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """W&B history rows (``_step`` = epoch, keys ``test/e_recall@1``...) -> metrics.csv rows."""
    rows = []
    for entry in history:
        epoch = entry.get("_step")
        for split in SPLITS:
            values = {k.split("/", 1)[1]: float(v) for k, v in entry.items()
                      if k.startswith(split + "/") and isinstance(v, (int, float))
                      and not (isinstance(v, float) and math.isnan(v))}
            if values and epoch is not None:
                rows.append({"epoch": int(epoch), "split": split, **values})
    return rows


def to_run(wandb_run: Any) -> Run:
    flags = {k: v for k, v in dict(wandb_run.config).items() if not k.startswith("_")}
    status = STATES.get(getattr(wandb_run, "state", ""), "failed")
    history = list(wandb_run.scan_history())
    seed = flags.get("seed")
    return Run(path=f"wandb:{wandb_run.path if isinstance(wandb_run.path, str) else '/'.join(wandb_run.path)}",
               dataset=str(flags.get("dataset", "?")),
               group=str(wandb_run.group).strip() if getattr(wandb_run, "group", None)
               else group_of(flags, str(wandb_run.name)),
               seed=int(seed) if isinstance(seed, (int, float)) else None, status=status, flags=flags,
               metric_rows=metric_rows(history),
               summary={"status": status, "metrics": {k.split("/", 1)[1]: v for k, v in
                                                      dict(wandb_run.summary).items()
                                                      if k.startswith("test/") and isinstance(v, (int, float))}},
               error=None if status != "failed" else f"W&B state {getattr(wandb_run, 'state', '?')}")


def load_wandb_runs(project: str, api: Any = None) -> list[Run]:
    """Every run of ``ENTITY/PROJECT``. Needs ``wandb`` and network access (or an ``api`` object)."""
    if api is None:
        try:
            import wandb
        except ImportError as err:
            raise RuntimeError("--wandb_project needs the wandb package (pip install wandb)") from err
        api = wandb.Api()
    try:
        return [to_run(run) for run in api.runs(project)]
    except Exception as err:  # network, authentication, unknown project: one clear line for the CLI
        raise RuntimeError(f"--wandb_project {project}: {type(err).__name__}: {err}") from err
