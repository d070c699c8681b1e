"""Run identity: a run is counted once, however many copies of its folder lie under the root.

A run is identified by ``(dataset, group, seed, configuration)``; the configuration key is the run
record's (:func:`training.run_record.configuration_key`): the result-relevant flags of
``config.json`` (every flag but where the run was saved, how it was launched, logging and
plotting) and the fingerprint of the data it trained on, so runs on different data are never
copies of one run.

Of the folders of one identity the most finished one is used (completed before running, failed,
corrupt; then the most epochs; then the one at its own place ``<dataset>/<savename>``; then the
shortest path); the others are reported as duplicates.
A run whose ``config.json`` cannot be read has no identity and is never merged.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aggregation.runs import Run

STATUS_ORDER = ("completed", "running", "failed", "corrupt")


def identity(run: Run) -> tuple[str, str, int | None, str] | None:
    """``(dataset, group, seed, configuration)``; ``None`` when ``config.json`` could not be read."""
    if not run.flags:
        return None
    return run.dataset, run.group, run.seed, run.configuration()


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
