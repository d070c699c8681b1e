"""Run identity: a run is counted once, however many copies of its folder lie under the root.

A run is identified by ``(dataset, group, seed, config hash)``. The hash covers the resolved flags
of ``config.json`` except those that never change results (:func:`run_specific`: where the run was
saved, how it was launched, logging and plotting); the seed and group are part of the identity
themselves. ``--resume`` never rewrites ``config.json`` (the flags it may change, such as
``n_epochs``, are ``training.run_folder.RESUMABLE_KEYS``), so a backup copy taken before a run was
extended has the same identity as the run; the extension shows in ``epochs_done`` and is flagged
by :mod:`aggregation.groups`.

Of the folders of one identity the most finished one is used (completed before running, failed,
corrupt; then the most epochs; then the one at its own place ``<dataset>/<savename>``; then the
shortest path); the others are reported as duplicates.
A run whose ``config.json`` cannot be read has no identity and is never merged.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from aggregation.runs import Run

# Flags that never change a run's results (besides the seed and group, which identify it anyway).
RUN_SPECIFIC_KEYS = frozenset({
    "seed", "savename", "save_path", "source_path", "argv", "resume", "kernels", "device", "gpu",
    "log_online", "wandb_key", "comet_api_key", "project", "group", "config", "evaluate_on_gpu", "list",
    "plot_embeddings", "plot_retrievals",
})
STATUS_ORDER = ("completed", "running", "failed", "corrupt")


def run_specific(key: str) -> bool:
    """Whether the flag ``key`` may differ between copies or seeds of one configuration."""
    return key in RUN_SPECIFIC_KEYS or key.startswith("plot_")


def config_hash(flags: dict[str, Any]) -> str:
    """SHA-1 (12 hex digits) of the result-relevant flags, as sorted JSON."""
    kept = {k: v for k, v in flags.items() if not run_specific(k)}
    return hashlib.sha1(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:12]


def identity(run: Run) -> tuple[str, str, int | None, str] | None:
    """``(dataset, group, seed, config hash)``; ``None`` when ``config.json`` could not be read."""
    if not run.flags:
        return None
    return run.dataset, run.group, run.seed, config_hash(run.flags)


@dataclass
class Duplicate:
    """Folders holding one run: ``kept`` is counted, ``ignored`` are not."""
    kept: Run
    ignored: list[Run]


def at_home(run: Run) -> bool:
    """Whether the folder is where main.py wrote it: ``.../<dataset>/<savename>``."""
    folder = os.path.abspath(run.path)
    return (os.path.basename(os.path.dirname(folder)) == run.dataset
            and os.path.basename(folder) == str(run.flags.get("savename")))


def preference(run: Run) -> tuple[int, int, bool, int, str]:
    """Sort key of copies of one run, most finished first: completed before running, failed,
    corrupt; then the most epochs; then the folder at its own place; then the shortest path."""
    status = STATUS_ORDER.index(run.status) if run.status in STATUS_ORDER else len(STATUS_ORDER)
    return status, -(run.epochs or 0), not at_home(run), len(run.path), run.path


def deduplicate(runs: list[Run]) -> tuple[list[Run], list[Duplicate]]:
    """One run per identity (input order kept), and the duplicates found."""
    by_identity: dict[tuple, list[Run]] = {}
    for run in runs:
        key = identity(run)
        if key is not None:
            by_identity.setdefault(key, []).append(run)
    duplicates, dropped = [], set()
    for members in by_identity.values():
        if len(members) > 1:
            kept, *ignored = sorted(members, key=preference)
            duplicates.append(Duplicate(kept, ignored))
            dropped.update(id(run) for run in ignored)
    duplicates.sort(key=lambda d: d.kept.path)
    return [run for run in runs if id(run) not in dropped], duplicates
