"""What a study leaves in its folder, per method and overall.

``<method>/trials.csv`` (number, state, objective, per-fold values, duration, parameters),
``<method>/best_params.yaml`` (fixed + best searched flags: ``main.py --config`` accepts it),
``<method>/figures/*.png`` and ``best_vs_trials.png`` (:mod:`studies.figures`),
``<method>/test.json`` (mean and 95 % CI over reproductions) and ``test_table.csv`` (all methods),
and ``study.json`` (the budget: trials, folds, epochs, metric), which ``Result_Evaluations.py
--reality_check`` reads.
"""
from __future__ import annotations

import os
from typing import Any

import yaml

from studies.objective import dataset_of
from studies.settings import KINDS, TABLE_METRICS, Settings, method_of
from studies.spaces import Space


def trial_note(trial: Any) -> str:
    """Why a trial is special: the default configuration, a retry, or why it failed."""
    if trial.user_attrs.get("failed_because"):
        return trial.user_attrs["failed_because"]
    if trial.state.name == "PRUNED":
        return f"pruned after {trial.user_attrs.get('pruned_after', '?')} folds (fold values shown)"
    if "retry_of" in trial.user_attrs:
        return f"retry of #{trial.user_attrs['retry_of']}"
    if trial.user_attrs.get("default_config"):
        outside = trial.user_attrs.get("default_outside_space") or []
        return "default configuration" + (f" ({', '.join(outside)}: default outside the space, sampled)"
                                          if outside else "")
    return ""


def trial_rows(study: Any, folds: int) -> tuple[list[dict[str, Any]], list[str]]:
    names = sorted({k for t in study.get_trials(deepcopy=False) for k in t.params})
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"number": t.number, "state": t.state.name,
               "objective": t.value if t.state.name != "PRUNED" else None,   # a partial mean is no objective
               **{f"fold{i}": t.user_attrs.get(f"fold{i}") for i in range(folds)},
               "duration_s": t.duration.total_seconds() if t.duration else None,
               "note": trial_note(t),
               **{n: t.params.get(n) for n in names}}
        rows.append(row)
    columns = ["number", "state", "objective"] + [f"fold{i}" for i in range(folds)] + ["duration_s", "note"] + names
    return rows, columns


def write_trials(settings: Settings, study: Any) -> str:
    from utilities.atomic import write_csv
    rows, columns = trial_rows(study, settings.folds)
    path = os.path.join(settings.method_dir(method_of(study.study_name)), "trials.csv")
    write_csv(path, rows, columns)
    return path


#: Flags of the study's base argv that are not part of a configuration (never written to a file).
NOT_CONFIGURATION = ("wandb_key", "config", "resume")


def argv_flags(argv: list[str]) -> dict[str, Any]:
    """The flags of a ``main.py`` argv as a ``--config`` mapping: flag -> the value as typed (a list
    for a flag of several values, ``true`` for a switch); a later flag wins, as on the command line."""
    import parameters
    actions = {s: a for a in parameters.build_parser()._actions for s in a.option_strings}
    out: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        name, eq, inline = argv[i].partition("=")
        end = i + 1
        while not eq and end < len(argv) and not argv[end].startswith("--"):
            end += 1
        values = [inline] if eq else argv[i + 1:end]
        i = end
        action = actions.get(name)
        if action is None or action.dest in NOT_CONFIGURATION:
            continue
        if action.nargs == 0:
            out[action.dest] = True
        else:
            out[action.dest] = values if action.nargs in ("+", "*") else (values[0] if values else True)
    return out


def best_flags(settings: Settings, space: Space, params: dict[str, Any]) -> dict[str, Any]:
    """Everything a fold-free run of the best configuration needs: the study's base flags, the
    method's fixed flags and the best searched ones."""
    return {**argv_flags(list(settings.base_argv)), **space.fixed, **params}


def write_best(settings: Settings, space: Space, params: dict[str, Any], value: float) -> str:
    """``best_params.yaml``: self-contained, ``python main.py --config best_params.yaml`` trains the best
    configuration on all the training classes (no folds)."""
    from utilities.atomic import atomic_write
    path = os.path.join(settings.method_dir(space.method), "best_params.yaml")
    header = (f"# best of {settings.trials} trials of '{space.method}' (mean {settings.metric} over "
              f"{settings.folds} class-disjoint folds: {value:.4f}). The study's base flags, the method's "
              "fixed flags and the best searched ones:\n# python main.py --config best_params.yaml trains "
              "it on all the training classes.\n")
    body = yaml.safe_dump(best_flags(settings, space, params), sort_keys=True)
    atomic_write(path, lambda fh: fh.write(header + body))
    return path


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and 95 % CI over reproductions: ``{trained|untrained|backbone: {separated|concatenated:
    {metric: {mean, ci95, std, n}}}}``, and under ``values`` the same nesting with each
    reproduction's value, in reproduction order (methods share their reproductions' seeds, so
    ``Result_Evaluations.py --reality_check`` compares them pairwise)."""
    from utilities.stats import describe
    out: dict = {"values": {}}
    for kind in [k for k in KINDS if all(k in r for r in results)]:
        out[kind], out["values"][kind] = {}, {}
        for mode in ("separated", "concatenated"):
            out[kind][mode], out["values"][kind][mode] = {}, {}
            for m in TABLE_METRICS:
                values = [r[kind][mode][m] for r in results]
                s = describe(values)
                out[kind][mode][m] = {"mean": s.mean, "ci95": s.ci95, "std": s.std, "n": s.n}
                out["values"][kind][mode][m] = values
    return out


def write_test(settings: Settings, method: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    from utilities.atomic import write_json
    summary = summarise(results)
    write_json(os.path.join(settings.method_dir(method), "test.json"), summary)
    return summary


def write_test_table(settings: Settings, summaries: dict[str, dict[str, Any]]) -> str:
    """``test_table.csv``: one row per method (and its two baselines), mean and CI columns."""
    from utilities.atomic import write_csv
    rows, columns = [], ["method", "model"]
    for mode in ("concatenated", "separated"):
        for m in TABLE_METRICS:
            columns += [f"{mode}/{m}", f"{mode}/{m}_ci95"]
    for method, summary in summaries.items():
        for kind in [k for k in ("backbone", "untrained", "trained") if k in summary]:
            row = {"method": method, "model": kind}
            for mode in ("concatenated", "separated"):
                for m in TABLE_METRICS:
                    row[f"{mode}/{m}"] = summary[kind][mode][m]["mean"]
                    row[f"{mode}/{m}_ci95"] = summary[kind][mode][m]["ci95"]
            rows.append(row)
    path = os.path.join(settings.study_dir, "test_table.csv")
    write_csv(path, rows, columns)
    return path


def write_study_record(settings: Settings, epochs: int) -> str:
    """``study.json``: the protocol and budget of the study (:mod:`studies.protocol`; per method:
    trials x folds x epochs), its spaces' files and its dataset."""
    from studies.protocol import protocol
    from utilities.atomic import write_json
    path = os.path.join(settings.study_dir, "study.json")
    record = protocol(settings, epochs)
    for method, space in settings.spaces.items():
        record["methods"][method]["space"] = space.path
    write_json(path, {**record, "dataset": dataset_of(settings.base_argv)})
    return path
