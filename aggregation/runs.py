"""Read run folders (docs/run_folder.md) into :class:`Run` records.

A run folder is any directory holding ``summary.json`` or ``config.json``; folders whose name
starts with ``_`` or ``.`` (logs, superseded attempts) are not searched. The search goes on below
a run folder: a run saved with ``--savename ""`` lives in ``<save_path>/<dataset>/`` itself, so its
folder holds the dataset's other run folders, and those are counted too (:func:`nesting` names
such folders for the report). A run whose files cannot be read is kept with status ``corrupt`` so
that it can be listed, never silently dropped.

A run launched by torchrun with several processes (``world_size`` > 1 at the top of
``config.json``) carries its world size as the flag ``world_size``: its results depend on it (each
rank mines its own slice of the batch), so it never pools with single-process runs.
"""
from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from utilities.csv_rows import as_float, read_csv_rows

STATUSES = ("completed", "running", "failed", "corrupt")
SEED_SUFFIX = re.compile(r"_s(\d+)(_\d{8}-\d{6})?$")


@dataclass
class Run:
    """One training run: where it lives, its flags, its status and its evaluations."""
    path: str
    dataset: str
    group: str
    seed: int | None
    status: str
    flags: dict[str, Any] = field(default_factory=dict)
    metric_rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    epochs: int | None = None  # epochs trained: summary.json's epochs_done, else train.csv's last epoch

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip("/")) or self.path


def discover(root: str) -> list[str]:
    """Every run folder under ``root`` (``root`` itself included, and run folders inside run
    folders), sorted."""
    found = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        if "summary.json" in files or "config.json" in files:
            found.append(here)
    return sorted(found)


def nesting(folders: list[str]) -> dict[str, list[str]]:
    """Run folders that hold other run folders (``--savename ""``): outer -> the inner ones."""
    known, outer = set(folders), {}
    for folder in sorted(folders):
        parent = os.path.dirname(folder)
        while parent and parent != os.path.dirname(parent):
            if parent in known:
                outer.setdefault(parent, []).append(folder)
            parent = os.path.dirname(parent)
    return outer


def epochs_trained(summary: dict[str, Any], folder: str) -> int | None:
    """``epochs_done`` of ``summary.json``; without it, the last epoch of ``train.csv``."""
    done = summary.get("epochs_done")
    if isinstance(done, int) and not isinstance(done, bool):
        return done
    try:
        epochs = [int(float(row["epoch"])) for row in read_csv_rows(os.path.join(folder, "train.csv"))]
    except (OSError, ValueError, KeyError, TypeError, csv.Error):
        return None
    return max(epochs, default=None)


def _read_json(path: str) -> dict[str, Any]:
    with open(path) as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def read_metric_rows(path: str) -> list[dict[str, Any]]:
    """``metrics.csv`` as rows of ``{"epoch": int, "split": str, <metric>: float}``."""
    rows = []
    for raw in read_csv_rows(path):
        row: dict[str, Any] = {"epoch": int(float(raw["epoch"])), "split": raw["split"]}
        row.update({k: as_float(v) for k, v in raw.items() if k not in ("epoch", "split") and k})
        rows.append(row)
    return rows


def group_of(flags: dict[str, Any], folder: str) -> str:
    """``--group``, or the folder name without its ``_s<seed>[_<timestamp>]`` suffix."""
    if flags.get("group"):
        return str(flags["group"]).strip()
    return SEED_SUFFIX.sub("", os.path.basename(folder.rstrip("/")))


def load_run(folder: str) -> Run:
    """Read one run folder; unreadable or inconsistent files give status ``corrupt``."""
    dataset = os.path.basename(os.path.dirname(os.path.abspath(folder)))
    run = Run(path=folder, dataset=dataset, group=group_of({}, folder), seed=None, status="corrupt")
    try:
        config = _read_json(os.path.join(folder, "config.json"))
        run.flags = dict(config.get("flags", {}))
        world = config.get("world_size")
        if isinstance(world, int) and not isinstance(world, bool) and world > 1:
            run.flags["world_size"] = world
    except (OSError, ValueError) as err:
        run.error = f"config.json unreadable: {err}"
        return run
    run.dataset = str(run.flags.get("dataset", dataset))
    run.group = group_of(run.flags, folder)
    seed = run.flags.get("seed")
    run.seed = int(seed) if isinstance(seed, (int, float)) else None
    try:
        run.summary = _read_json(os.path.join(folder, "summary.json"))
        run.metric_rows = read_metric_rows(os.path.join(folder, "metrics.csv"))
    except (OSError, ValueError, KeyError, csv.Error) as err:
        run.error = f"summary.json/metrics.csv unreadable: {err}"
        return run
    run.epochs = epochs_trained(run.summary, folder)
    status = run.summary.get("status")
    if status not in ("completed", "running", "failed"):
        run.error = f"summary.json has no valid status ({status!r})"
        return run
    run.status = status
    run.error = run.summary.get("error")
    if status == "completed" and not run.metric_rows and not run.summary.get("metrics"):
        run.status, run.error = "corrupt", "completed but no metrics were recorded"
    return run


def load_runs(root: str) -> list[Run]:
    """Every run under ``root``. Raises ``FileNotFoundError`` when ``root`` does not exist."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"--root: no such folder: {root}")
    return [load_run(folder) for folder in discover(root)]
