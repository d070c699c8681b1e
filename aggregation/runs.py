"""Find run folders under a root and read each, through :class:`training.run_record.RunRecord`,
into a :class:`Run` (the record's facts that aggregation needs; W&B runs become ``Run`` too).

Every folder holding ``summary.json`` or ``config.json`` is a run folder, whatever its name
(``--group _x`` makes ``_x_s0``) and wherever it lies: symbolic links are followed (a folder
reached twice is read once and the second path reported), and the search goes on below a run
folder: a run saved with ``--savename ""`` lives in ``<save_path>/<dataset>/`` itself, so its
folder holds the dataset's other run folders, and those are counted too (:func:`nesting` names
such folders for the report). Two folders are not searched, and every run folder inside them is
reported with the reason: ``_logs`` (sweep logs) and ``_superseded`` (attempts a sweep moved
aside). A run whose files cannot be read is kept with status ``corrupt`` so that it can be
listed, never silently dropped.

A run launched by torchrun with several processes (``world_size`` > 1 at the top of
``config.json``) carries its world size as the flag ``world_size``: its results depend on it (each
rank mines its own slice of the batch), so it never pools with single-process runs.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from typing import Any

from training.run_record import RunFolderError, RunRecord, configuration_key

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
    data_fingerprint: str | None = None  # of the data it trained on (config.json's data identity)
    data_source: str | None = None

    def configuration(self) -> str:
        """What makes runs the same configuration (:func:`training.run_record.configuration_key`)."""
        return configuration_key(self.flags, self.data_fingerprint)

    @property
    def name(self) -> str:
        return os.path.basename(self.path.rstrip("/")) or self.path


NOT_SEARCHED = {"_logs": "sweep logs", "_superseded": "an attempt Revisit_Runs.sh moved aside"}


@dataclass
class Unsearched:
    """A run folder that is not read, and why."""
    path: str
    reason: str


def discover(root: str) -> tuple[list[str], list[Unsearched]]:
    """Every run folder under ``root`` (``root`` itself included, run folders inside run folders,
    symbolic links followed), sorted; and the run folders not read, with the reason."""
    found, unsearched, seen = [], [], {}
    for here, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:                      # a link to a folder already searched (or a loop)
            if RunRecord.holds_run(here):
                unsearched.append(Unsearched(here, f"the same folder as {seen[real]} (a symbolic link)"))
            dirs[:] = []
            continue
        seen[real] = here
        for name in [d for d in dirs if d in NOT_SEARCHED]:
            for inner, _, inner_files in os.walk(os.path.join(here, name), followlinks=True):
                if "summary.json" in inner_files or "config.json" in inner_files:
                    unsearched.append(Unsearched(inner, f"under {name}/: {NOT_SEARCHED[name]}"))
        dirs[:] = sorted(d for d in dirs if d not in NOT_SEARCHED)
        if "summary.json" in files or "config.json" in files:
            found.append(here)
    return sorted(found), sorted(unsearched, key=lambda u: u.path)


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


def group_of(flags: dict[str, Any], folder: str) -> str:
    """``--group``, or the folder name without its ``_s<seed>[_<timestamp>]`` suffix."""
    if flags.get("group"):
        return str(flags["group"]).strip()
    return SEED_SUFFIX.sub("", os.path.basename(folder.rstrip("/")))


def load_run(folder: str) -> Run:
    """Read one run folder; unreadable or inconsistent files give status ``corrupt``."""
    dataset = os.path.basename(os.path.dirname(os.path.abspath(folder)))
    run = Run(path=folder, dataset=dataset, group=group_of({}, folder), seed=None, status="corrupt")
    record = RunRecord(folder)
    try:
        run.flags = record.flags
        run.data_fingerprint, run.data_source = record.data_fingerprint, (record.data or {}).get("source")
    except RunFolderError as err:
        run.error = f"config.json unreadable: {err}"
        return run
    run.dataset = str(run.flags.get("dataset", dataset))
    run.group = group_of(run.flags, folder)
    run.seed = record.seed
    try:
        run.summary = record.read_summary()
        run.metric_rows = record.metric_rows()
    except (OSError, ValueError, KeyError, csv.Error) as err:
        run.error = f"summary.json/metrics.csv unreadable: {err}"
        return run
    run.epochs = record.epochs_done
    status = run.summary.get("status")
    if status not in ("completed", "running", "failed"):
        run.error = f"summary.json has no valid status ({status!r})"
        return run
    run.status = status
    run.error = run.summary.get("error")
    if status == "completed" and not run.metric_rows and not run.summary.get("metrics"):
        run.status, run.error = "corrupt", "completed but no metrics were recorded"
    return run


def find_runs(root: str) -> tuple[list[Run], list[Unsearched]]:
    """Every run under ``root``, and the run folders not read (:func:`discover`). Raises
    ``FileNotFoundError`` when ``root`` does not exist."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f"--root: no such folder: {root}")
    folders, unsearched = discover(root)
    return [load_run(folder) for folder in folders], unsearched


def load_runs(root: str) -> list[Run]:
    """Every run under ``root`` (:func:`find_runs`, without the folders not read)."""
    return find_runs(root)[0]
