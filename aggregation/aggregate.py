"""Per-group statistics of the selected test metrics; excluded runs with their reasons."""
from __future__ import annotations

from dataclasses import dataclass, field

from aggregation.columns import lookup
from aggregation.groups import Group, label_of
from aggregation.identity import Duplicate
from aggregation.naming import Method
from aggregation.runs import Run
from aggregation.selection import SelectionError, select
from utilities.stats import Stat, describe


@dataclass
class Row:
    """One group's result: per metric, the per-seed values and their statistics."""
    dataset: str
    group: str
    label: str
    method: Method
    seeds: list[int | None]
    values: dict[str, list[float]]
    stats: dict[str, Stat]
    config_diffs: dict[str, list[str]] = field(default_factory=dict)
    repeats: list[Duplicate] = field(default_factory=list)  # runs of a seed the group already has

    @property
    def n(self) -> int:
        return len(self.seeds)


@dataclass
class Excluded:
    run: Run
    reason: str


def selection_metric(run: Run, override: str | None) -> str:
    """The metric that ``val`` / ``test_max`` select on: given, or the run's first storage metric."""
    if override:
        return override
    storage = run.flags.get("storage_metrics") or ["e_recall@1"]
    return str(storage[0] if isinstance(storage, list) else storage)


def summarise(groups: list[Group], metrics: list[str], selection: str,
              select_metric: str | None = None) -> tuple[list[Row], list[Excluded]]:
    """Statistics of ``metrics`` per group under ``selection``; runs that cannot count are excluded."""
    rows, excluded = [], []
    for group in groups:
        seeds, values = [], {m: [] for m in metrics}
        for run in group.runs:
            if run.status != "completed":
                excluded.append(Excluded(run, run.status + (f": {run.error}" if run.error else "")))
                continue
            try:
                chosen, _ = select(run.metric_rows, selection, selection_metric(run, select_metric),
                                   fallback=run.summary.get("metrics") or None)
            except SelectionError as err:
                excluded.append(Excluded(run, f"selection {selection}: {err}"))
                continue
            seeds.append(run.seed)
            for metric in metrics:
                values[metric].append(lookup(chosen, metric))
        if not seeds:
            continue
        rows.append(Row(group.dataset, group.name, label_of(group, groups), group.method, seeds, values,
                        {m: describe(v) for m, v in values.items()}, group.config_diffs, group.repeats))
    return rows, excluded
