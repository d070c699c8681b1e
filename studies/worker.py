"""One worker: run trials of one method's study until the budget of finished trials is spent.

Several workers (local processes or SLURM jobs) share the study through its Optuna storage. The
budget counts finished trials (COMPLETE or PRUNED); a trial that starts when the finished trials
plus the RUNNING ones before it already fill the budget is given up at once (FAIL, marked
``surplus``), so the study ends with exactly ``--trials`` finished trials.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any

from studies.objective import Objective
from studies.settings import Settings, method_of
from studies.spaces import Space
from studies.storage import heartbeat_file, open_storage, requeue_stale, worker_id

FINISHED = ("COMPLETE", "PRUNED")
#: The median pruner compares a trial's running fold mean with the other trials' at the same fold,
#: once PRUNE_STARTUP trials have finished, and never on the first fold alone (fold index 0).
PRUNE_STARTUP, PRUNE_WARMUP_FOLDS = 2, 1
MIN_FOLDS_TO_PRUNE = PRUNE_WARMUP_FOLDS + 2     # a fold to warm up, a fold to decide on, a fold to save


class SurplusTrial(Exception):
    """The budget is already taken by finished and earlier running trials."""


def load_study(settings: Settings, method: str) -> Any:
    """The method's Optuna study (created if new): a TPE sampler seeded per trial from ``--seed``
    (:mod:`studies.sampler`: a resumed study samples what the uninterrupted one would have, and
    concurrent workers sample different points), median pruner with ``--prune``."""
    import optuna
    from studies.sampler import TrialSeededTPESampler
    sampler = TrialSeededTPESampler(settings.seed, settings.startup_trials)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=PRUNE_STARTUP, n_warmup_steps=PRUNE_WARMUP_FOLDS) \
        if settings.prune else optuna.pruners.NopPruner()
    return optuna.create_study(study_name=settings.study_name(method), storage=open_storage(settings.storage_url), sampler=sampler,
                               pruner=pruner, direction="maximize", load_if_exists=True)


def counts(study: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        out[trial.state.name] = out.get(trial.state.name, 0) + 1
    return out


class Heartbeat:
    """Touch the trial's heartbeat file every ``period`` seconds while it runs."""

    def __init__(self, path: str, period: float):
        self.path, self.period, self.stop = path, period, threading.Event()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        while not self.stop.is_set():
            with open(self.path, "a"):
                os.utime(self.path)
            self.stop.wait(self.period)

    def __enter__(self) -> "Heartbeat":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()


class BudgetedObjective(Objective):
    """:class:`Objective` behind the budget check, with the worker record and heartbeat."""

    def __call__(self, trial: Any) -> float:
        from optuna.trial import TrialState
        trial.set_user_attr("worker", worker_id())
        study = trial.study
        ahead = sum(1 for t in study.get_trials(deepcopy=False)
                    if t.state.name in FINISHED or (t.state == TrialState.RUNNING and t.number < trial.number))
        if ahead >= self.settings.trials:
            trial.set_user_attr("failed_because", "surplus")
            raise SurplusTrial(f"trial {trial.number}: the budget of {self.settings.trials} is taken")
        with Heartbeat(heartbeat_file(self.settings.study_dir, method_of(study.study_name), trial.number),
                       self.settings.heartbeat_s):
            return super().__call__(trial)


def progress_line(method: str, trial: Any, study: Any, budget: int) -> str:
    """One line per trial: method, trial i/N, objective, best so far, duration."""
    done = sum(1 for t in study.get_trials(deepcopy=False) if t.state.name in FINISHED)
    try:
        best = f"{study.best_value:.4f}"
    except ValueError:
        best = "-"
    if trial.state.name == "PRUNED":
        value = f"pruned after {trial.user_attrs.get('pruned_after', '?')} folds"
    else:
        value = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
    duration = trial.duration.total_seconds() if trial.duration else float("nan")
    reused = trial.user_attrs.get("reused_folds", 0)
    return (f"[{method}] trial {done}/{budget} (#{trial.number}): objective {value}, best {best}, "
            f"{duration:.1f} s" + (f" ({reused} fold runs reused)" if reused else ""))


def run_worker(settings: Settings, space: Space, poll_s: float = 2.0) -> int:
    """Run trials until the method's study has ``settings.trials`` finished trials; returns the
    number of trials this worker finished."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = load_study(settings, space.method)
    objective = BudgetedObjective(settings, space)
    mine = 0

    def report(study: Any, trial: Any) -> None:
        nonlocal mine
        if trial.state.name in FINISHED:
            mine += 1
            print(progress_line(space.method, trial, study, settings.trials), flush=True)
        elif trial.user_attrs.get("failed_because") != "surplus":
            print(f"[{space.method}] trial #{trial.number} failed", file=sys.stderr, flush=True)

    while True:
        requeue_stale(study, settings.study_dir, settings.heartbeat_s)
        state = counts(study)
        finished = sum(state.get(s, 0) for s in FINISHED)
        if finished >= settings.trials:
            return mine
        failed = sum(1 for t in study.get_trials(deepcopy=False)
                     if t.state.name == "FAIL" and t.user_attrs.get("failed_because") is None)
        if failed >= max(3, settings.trials):
            print(f"[{space.method}] {failed} trials failed; stopping this worker (see the fold runs' "
                  f"messages above)", file=sys.stderr, flush=True)
            return mine
        if finished + state.get("RUNNING", 0) >= settings.trials and not state.get("WAITING"):
            time.sleep(poll_s)             # the rest of the budget is running elsewhere
            continue
        study.optimize(objective, n_trials=1, catch=(Exception,), callbacks=[report])
