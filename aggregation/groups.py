"""Runs grouped by dataset and ``--group``, with their differing configs flagged."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from aggregation.naming import Method, method_of
from aggregation.runs import Run

# Flags that legitimately differ between the seeds of one configuration.
RUN_SPECIFIC_KEYS = frozenset({
    "seed", "savename", "save_path", "source_path", "argv", "resume", "kernels", "device", "gpu",
    "log_online", "wandb_key", "comet_api_key", "project", "group", "config", "evaluate_on_gpu", "list",
    "plot_embeddings", "plot_retrievals",
})


@dataclass
class Group:
    """The runs of one configuration on one dataset."""
    dataset: str
    name: str
    runs: list[Run]
    method: Method
    config_diffs: dict[str, list[str]] = field(default_factory=dict)


def config_differences(runs: list[Run], ignore: frozenset[str] = RUN_SPECIFIC_KEYS) -> dict[str, list[str]]:
    """Flags (apart from ``ignore``) whose values differ between ``runs``: key -> sorted values."""
    keys = sorted({k for run in runs for k in run.flags} - ignore)
    diffs = {}
    for key in keys:
        values = {json.dumps(run.flags.get(key, "<missing>"), sort_keys=True, default=str) for run in runs}
        if len(values) > 1:
            diffs[key] = sorted(values)
    return diffs


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

