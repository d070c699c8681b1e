"""The study's TPE sampler, seeded per trial so that a resumed study is the study it would have been.

A sampler seeded once per process replays its random stream after a kill and a rerun: the new
trials repeat the first trials' parameters. Here the random state is reset before every trial from
``(study seed, ordinal)``, where the ordinal of a trial is the number of earlier trials that count
(every trial with a smaller number that did not FAIL: a trial killed with its worker FAILs and its
parameters are enqueued again, so its retry takes its ordinal). An uninterrupted study and one
killed at any moment and rerun then sample every trial from the same seed and the same history
(TPE, Bergstra et al., NeurIPS 2011, models the finished trials, which are the same), and end with
the same trials. Concurrent workers get different ordinals, hence different seeds.

TPE proposes random configurations until ``n_startup_trials`` trials have finished (Optuna's
default is 10): a study of 10 trials or fewer would be a random search. The default here scales
with the budget (:func:`default_startup_trials`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import optuna

#: TPE's random start-up trials: a fifth of the budget, within these bounds.
STARTUP_FRACTION, MIN_STARTUP, MAX_STARTUP = 0.2, 2, 10


def default_startup_trials(budget: int) -> int:
    """``round(budget / 5)`` clipped to [2, 10]: 2 for a budget of 8, 10 from a budget of 50 on."""
    return int(min(MAX_STARTUP, max(MIN_STARTUP, round(STARTUP_FRACTION * budget))))


def trial_seed(study_seed: int, ordinal: int) -> int:
    """The sampler seed of the study's ``ordinal``-th counted trial (a 32-bit word of NumPy's
    ``SeedSequence([study_seed, ordinal])``: independent streams for neighbouring ordinals)."""
    return int(np.random.SeedSequence([study_seed, ordinal]).generate_state(1)[0])


def ordinal(study: Any, trial: Any) -> int:
    """How many trials before ``trial`` count: smaller number, any state but FAIL."""
    from optuna.trial import TrialState
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.number < trial.number and t.state != TrialState.FAIL)


class TrialSeededTPESampler(optuna.samplers.TPESampler):
    """Optuna's TPE sampler whose random state (its own and its start-up random sampler's) is
    reset from ``trial_seed(seed, ordinal(study, trial))`` before every trial."""

    def __init__(self, seed: int, n_startup_trials: int) -> None:
        super().__init__(seed=seed, n_startup_trials=n_startup_trials)
        self.study_seed = seed

    def before_trial(self, study: Any, trial: Any) -> None:
        seed = trial_seed(self.study_seed, ordinal(study, trial))
        self._rng.rng.seed(seed)                      # Optuna 5.0's LazyRandomState of TPE ...
        self._random_sampler._rng.rng.seed(seed)      # ... and of its start-up RandomSampler
        super().before_trial(study, trial)
