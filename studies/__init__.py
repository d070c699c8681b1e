"""Fair comparison studies: the protocol of "A Metric Learning Reality Check" (Musgrave, Belongie
and Lim, ECCV 2020, arXiv:2003.08505).

Every method gets the same hyperparameter-search budget (Optuna, seeded TPE) on class-disjoint
cross-validation folds of the training classes (``main.py --cv_folds K --cv_fold i``); the best
configuration is retrained several times, and only then are the test classes touched: per
reproduction, the mean of the K fold models (*separated*) and the K models' concatenated
embeddings (*concatenated*), reported with 95 % confidence intervals.

Parts, one job each: :mod:`studies.spaces` (search spaces as YAML data), :mod:`studies.folds`
(one fold run: its folder, reuse or resume, its validation value), :mod:`studies.objective` (a
trial = K fold runs), :mod:`studies.storage` (Optuna storage, stale trials), :mod:`studies.worker`
(one worker's loop over the shared budget), :mod:`studies.launch` (local processes or SLURM jobs
through submitit), :mod:`studies.reproductions` (retrain and test), :mod:`studies.outputs`
(tables, best parameters, figures), :mod:`studies.cli` (the ``Reality_Check_Studies.py`` command).
"""
from __future__ import annotations


class StudyError(ValueError):
    """Bad study input; the command prints it as one line and exits with code 2."""
