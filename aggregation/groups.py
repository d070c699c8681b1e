"""Runs grouped by dataset and ``--group``, with their differing configs flagged.

A completed run's ``n_epochs`` is the number of epochs it trained (``epochs_done``): ``--resume
--n_epochs N`` extends a run without rewriting its ``config.json``, and such a run must not pass
for a seed of its group.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aggregation.identity import RUN_SPECIFIC_KEYS, run_specific
from aggregation.naming import Method, method_of
from aggregation.runs import Run


@dataclass
class Group:
    """The runs of one configuration on one dataset."""
    dataset: str
    name: str
    runs: list[Run]
    method: Method
    config_diffs: dict[str, list[str]] = field(default_factory=dict)


def config_differences(runs: list[Run], ignore: frozenset[str] = RUN_SPECIFIC_KEYS) -> dict[str, list[str]]:
    """Flags (apart from ``ignore`` and ``plot_*``) whose values differ between ``runs``: key ->
    sorted values. ``n_epochs`` is what a completed run trained, marked where it is not the config's."""
    keys = sorted(k for k in {k for run in runs for k in run.flags} - ignore if not run_specific(k))
    diffs = {}
    for key in keys:
        values = {flag_value(run, key) for run in runs}
        if len(values) > 1:
            diffs[key] = sorted(values)
    return diffs


def flag_value(run: Run, key: str) -> str:
    """The flag as JSON; ``n_epochs`` of a completed run that trained another number of epochs
    (extended by ``--resume``) as ``"<epochs> trained (config.json: <n_epochs>)"``."""
    value: Any = run.flags.get(key, "<missing>")
    if (key == "n_epochs" and isinstance(value, int) and run.status == "completed"
            and run.epochs is not None and run.epochs != value):
        return f"{run.epochs} trained (config.json: {json.dumps(value, default=str)})"
    return json.dumps(value, sort_keys=True, default=str)


def group_runs(runs: list[Run]) -> list[Group]:
    """Group runs by (dataset, group), ordered by dataset, then the paper's method order."""
    buckets: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        buckets.setdefault((run.dataset, run.group), []).append(run)
    groups = []
    for (dataset, name), members in buckets.items():
        members.sort(key=lambda r: (r.seed is None, r.seed or 0, r.path))
        groups.append(Group(dataset, name, members, method_of(members[0].flags), config_differences(members)))
    groups.sort(key=lambda g: (g.dataset, g.method.sort_key, g.name))
    return groups


def label_of(group: Group, groups: list[Group]) -> str:
    """The method label, with the group name added where two groups share a label."""
    same = [g for g in groups if g.dataset == group.dataset and g.method.label == group.method.label]
    return group.method.label if len(same) == 1 else f"{group.method.label} [{group.name}]"

