"""Contract checks for every component kind, shipped with the package (scikit-learn's
``check_estimator``): a new loss, miner, distance, reducer, regularizer, sampler, architecture,
dataset source or metric is checked with one call::

    from contracts import check_component
    check_component("loss", MyLoss)                 # raises AssertionError naming the failed check
    check_component("dataset", MySource, root="/data", params={"image_size": 32})

Each kind's checks are small named functions (``CHECKS[kind]``); :func:`checks_for` yields the
ones that apply to a component (a check may require a tag, read from the component's
declarations, such as a miner's ``label_consistent``). A component that passes them works in a
run. ``tests/contracts`` runs them over every registry entry, one test per check and component,
and shows each check failing on a broken component.
"""
from __future__ import annotations

from contracts import (architecture_checks, dataset_checks, distance_checks, loss_checks,  # noqa: F401  (register)
                       metric_checks, miner_checks, reducer_checks, regularizer_checks, sampler_checks)
from contracts.base import CHECKS, KINDS, Check, Subject, check_component, checks_for, run_check

__all__ = ["CHECKS", "KINDS", "Check", "Subject", "check_component", "checks_for", "run_check"]
