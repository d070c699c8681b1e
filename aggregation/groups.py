"""Runs grouped into the seeds of one configuration, with differing configs flagged.

* Runs on different data (another data fingerprint in ``config.json``) never share a group; groups
  of one name on different data are named apart: ``Margin [data 3fa2c1d0 from /data/omni_b]``.
* With ``--group``: the runs of one dataset, group name and data form a group, whatever their
  flags; a group whose runs differ in more than the seed is flagged (⚠, :func:`config_differences`).
* Without ``--group``: only runs whose result-relevant flags and data match apart from the seed
  (:meth:`aggregation.runs.Run.configuration`) group together. The group is named after the folder
  name minus ``_s<seed>[_<timestamp>]``; where several configurations share that name, the flags
  that tell them apart follow it: ``glyphs_margin_distance [use_tv_split=true]``.
* A seed counts once per group: of several runs with one seed, the most finished one
  (:func:`aggregation.identity.preference`) is used and the others are listed as repeats.

A completed run's ``n_epochs`` is the number of epochs it trained (``epochs_done``): ``--resume
--n_epochs N`` extends a run without rewriting its ``config.json``, and such a run must not pass
for a seed of its group.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aggregation.identity import Duplicate, preference
from aggregation.naming import Method, method_of
from aggregation.runs import Run
from training.run_record import RESULT_NEUTRAL_KEYS, result_neutral

MAX_NAME_FLAGS = 3  # flags named in a group name that needs them; more are elided
FLAG_DEFAULTS = {"world_size": 1}  # the value of a flag that a run does not carry (runs.load_run)


@dataclass
class Group:
    """The runs of one configuration (or one ``--group``) on one dataset, one run per seed."""
    dataset: str
    name: str
    runs: list[Run]
    method: Method
    config_diffs: dict[str, list[str]] = field(default_factory=dict)
    repeats: list[Duplicate] = field(default_factory=list)  # runs of a seed that the group already has
    distinction: str = ""  # "use_tv_split=true": what sets it apart from groups of the same name


def config_differences(runs: list[Run], ignore: frozenset[str] = RESULT_NEUTRAL_KEYS) -> dict[str, list[str]]:
    """Flags (apart from ``ignore`` and ``plot_*``) whose values differ between ``runs``: key ->
    sorted values, and ``data`` when they trained on different data. ``n_epochs`` is what a
    completed run trained, marked where it is not the config's."""
    keys = sorted(k for k in {k for run in runs for k in run.flags} - ignore if not result_neutral(k))
    diffs = {}
    for key in keys:
        values = {flag_value(run, key) for run in runs}
        if len(values) > 1:
            diffs[key] = sorted(values)
    data = {data_text(run) for run in runs}
    if len(data) > 1:
        diffs["data"] = sorted(data)
    return diffs


def data_text(run: Run) -> str:
    """``3fa2c1d0 from /data/omni_a``: the run's data fingerprint (8 digits) and source."""
    return f"{(run.data_fingerprint or 'unknown')[:8]} from {run.data_source or '?'}"


def flag_value(run: Run, key: str) -> str:
    """The flag as JSON; ``n_epochs`` of a completed run that trained another number of epochs
    (extended by ``--resume``) as ``"<epochs> trained (config.json: <n_epochs>)"``."""
    value: Any = run.flags.get(key, FLAG_DEFAULTS.get(key, "<missing>"))
    if (key == "n_epochs" and isinstance(value, int) and run.status == "completed"
            and run.epochs is not None and run.epochs != value):
        return f"{run.epochs} trained (config.json: {json.dumps(value, default=str)})"
    return json.dumps(value, sort_keys=True, default=str)


def group_key(run: Run) -> tuple[str, str, str, str]:
    """``(dataset, kind, value, data fingerprint)``: the ``--group`` name; without one, the
    configuration key (seed excluded); for a run whose flags could not be read, its folder name."""
    if run.flags.get("group"):
        return run.dataset, "group", run.group, run.data_fingerprint or ""
    if not run.flags:
        return run.dataset, "folder", run.group, ""
    return run.dataset, "config", run.configuration(), run.data_fingerprint or ""


def one_per_seed(runs: list[Run]) -> tuple[list[Run], list[Duplicate]]:
    """The preferred run of each seed (runs without a known seed all kept), and the repeats."""
    by_seed: dict[tuple, list[Run]] = {}
    for run in runs:
        by_seed.setdefault(("seed", run.seed) if run.seed is not None else ("run", id(run)), []).append(run)
    kept, repeats = [], []
    for members in by_seed.values():
        first, *others = sorted(members, key=preference)
        kept.append(first)
        if others:
            repeats.append(Duplicate(first, others))
    return kept, repeats


def _short(flags: dict[str, Any], key: str) -> str:
    """``flags[key]`` for a group name: a string as it is, anything else as JSON."""
    value = flags.get(key, FLAG_DEFAULTS.get(key))
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


Key = tuple[str, str, str, str]


def _clashes(names: dict[Key, str]) -> dict[tuple[str, str], list[Key]]:
    """Groups sharing a name on one dataset: ``(dataset, name) -> their keys``."""
    clashes: dict[tuple[str, str], list[Key]] = {}
    for key, name in names.items():
        clashes.setdefault((key[0], name), []).append(key)
    return clashes


def _names(buckets: dict[Key, list[Run]]) -> tuple[dict[Key, str], dict[Key, str]]:
    """A name per group, unique per dataset: the group name, or the most common folder name;
    groups sharing a name get their data where the data differ, and a configuration sharing its
    name with another group gets the flags that tell them apart (returned too, per group)."""
    names, distinctions = {}, {}
    for key, members in buckets.items():
        counts = Counter(run.group for run in members)
        names[key] = key[2] if key[1] != "config" else min(counts, key=lambda n: (-counts[n], n))
    for (_, name), keys in _clashes(names).items():
        if len({k[3] for k in keys}) > 1:
            for key in keys:
                distinctions[key] = f"data {data_text(buckets[key][0])}"
                names[key] = f"{name} [{distinctions[key]}]"
    for (_, name), keys in _clashes(names).items():
        configs = [k for k in keys if k[1] == "config"]
        if len(keys) < 2 or not configs:
            continue
        firsts = [buckets[k][0] for k in keys]
        keys_differing = [k for k in sorted({f for run in firsts for f in run.flags})
                          if not result_neutral(k) and len({_short(r.flags, k) for r in firsts}) > 1]
        shown = keys_differing[:MAX_NAME_FLAGS]
        for key in configs:
            flags = buckets[key][0].flags
            text = ", ".join(f"{k}={_short(flags, k)}" for k in shown)
            text += ", …" if len(keys_differing) > len(shown) else ""
            distinctions[key] = f"{distinctions[key]}, {text}" if key in distinctions else text
            names[key] = f"{name} [{text}]"
    seen = Counter((k[0], n) for k, n in names.items())
    for key, name in names.items():
        if seen[(key[0], name)] > 1 and key[1] == "config":
            names[key] = f"{name} #{key[2][:6]}"
            distinctions[key] = (distinctions.get(key, "") + f" #{key[2][:6]}").strip()
    return names, distinctions


def group_runs(runs: list[Run]) -> list[Group]:
    """Group runs (see the module docstring), ordered by dataset, then the paper's method order."""
    buckets: dict[Key, list[Run]] = {}
    for run in runs:
        buckets.setdefault(group_key(run), []).append(run)
    names, distinctions = _names(buckets)
    groups = []
    for key, members in buckets.items():
        members, repeats = one_per_seed(members)
        members.sort(key=lambda r: (r.seed is None, r.seed or 0, r.path))
        groups.append(Group(key[0], names[key], members, method_of(members[0].flags),
                            config_differences(members), repeats, distinctions.get(key, "")))
    groups.sort(key=lambda g: (g.dataset, g.method.sort_key, g.name))
    return groups


def label_of(group: Group, groups: list[Group]) -> str:
    """The method label, with what sets the group apart (its distinguishing flags, else its name)
    added where two groups share a label."""
    same = [g for g in groups if g.dataset == group.dataset and g.method.label == group.method.label]
    return group.method.label if len(same) == 1 else f"{group.method.label} [{group.distinction or group.name}]"
