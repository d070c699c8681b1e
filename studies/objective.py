"""A trial: the K fold runs of one configuration; its value is the mean validation metric.

The value of a trial is ``mean_i metric(val of fold i at the epoch --selection val picks)``, as
in the Reality Check's cross-validation (Musgrave et al., ECCV 2020, Sec. 4.2). With pruning,
the running mean is reported after each fold (``trial.report``) and Optuna's pruner may stop it
from the second fold on; a pruned trial has no objective, only the fold values it reached.
"""
from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from studies.folds import config_hash, ensure_run, run_path, selected_value
from studies.settings import Settings
from studies.spaces import Space, flag_argv


def dataset_of(argv: list[str]) -> str:
    """The ``--dataset`` of ``argv`` (the last one wins), default ``glyphs`` as ``main.py``'s."""
    value = "glyphs"
    for i, token in enumerate(argv[:-1]):
        if token == "--dataset":
            value = argv[i + 1]
    return value


def fold_argv(settings: Settings, space: Space, params: dict[str, Any], fold: int, seed: int,
              savename: str, save_path: str, with_test: bool) -> list[str]:
    """The ``main.py`` flags of one fold run. Search runs evaluate only ``val`` (the test classes
    stay untouched); reproduction runs evaluate ``val`` and ``test``."""
    return (list(settings.base_argv) + flag_argv(space.fixed) + flag_argv(params)
            + ["--cv_folds", str(settings.folds), "--cv_fold", str(fold), "--selection", "val",
               "--evaluation_metrics", *settings.evaluation_metrics(), "--storage_metrics", settings.metric,
               "--eval_splits", *(["val", "test"] if with_test else ["val"]),
               "--seed", str(seed), "--save_path", save_path, "--savename", savename])


def fold_folders(settings: Settings, space: Space, params: dict[str, Any], seed: int | list[int],
                 prefix: str, with_test: bool) -> list[tuple[list[str], str]]:
    """``(argv, folder)`` of the K fold runs of a configuration, named
    ``<prefix>-<hash of method, flags and seed>-f<i>``: the same configuration, the same folders.
    ``seed`` is every fold's seed, or one seed per fold."""
    seeds = list(seed) if isinstance(seed, list) else [seed] * settings.folds
    key = config_hash(space.method, space.fixed, params, settings.base_argv, settings.folds,
                      seed if isinstance(seed, int) else tuple(seeds), with_test)
    save_path = os.path.join(settings.method_dir(space.method), "runs")
    out = []
    for fold in range(settings.folds):
        savename = f"{prefix}-{key}-f{fold}"
        argv = fold_argv(settings, space, params, fold, seeds[fold], savename, save_path, with_test)
        out.append((argv, run_path(save_path, dataset_of(argv), savename)))
    return out


class Objective:
    """The Optuna objective of one method (picklable, for submitit workers)."""

    def __init__(self, settings: Settings, space: Space):
        self.settings, self.space = settings, space

    def __call__(self, trial: Any) -> float:
        import optuna
        params = self.space.suggest(trial)
        values, reused, start = [], 0, time.time()
        for fold, (argv, folder) in enumerate(fold_folders(self.settings, self.space, params,
                                                            self.settings.seed, "t", False)):
            reused += ensure_run(argv, folder)
            values.append(selected_value(folder, self.settings.metric))
            trial.set_user_attr(f"fold{fold}", values[-1])
            trial.set_user_attr(f"fold{fold}_run", folder)
            if self.settings.prune:
                trial.report(float(np.mean(values)), fold)
                if trial.should_prune():
                    trial.set_user_attr("pruned_after", fold + 1)
                    raise optuna.TrialPruned()
        trial.set_user_attr("reused_folds", reused)
        trial.set_user_attr("duration_s", round(time.time() - start, 2))
        return float(np.mean(values))
