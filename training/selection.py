"""Which epoch a run reports (``--selection``) and which model ``checkpoint_best.pt`` holds.

:func:`select_epoch` is the one rule; the training loop (:class:`EpochSelector`, as evaluations
arrive) and the aggregation of finished runs (:mod:`aggregation.selection`, from ``metrics.csv``)
both call it, so a run's ``best_epoch`` and the epoch its table row reports are the same.

* ``last``: the latest evaluated epoch.
* ``val``: the epoch with the best validation value of the selection metric (the first
  ``--storage_metrics``): largest, or smallest for lower-is-better metrics; ties go to the earliest.
* ``test_max``: the same on the *test* split (the Revisiting-DML paper's protocol; optimistic,
  since it selects on the test set). One epoch for every metric; the aggregation's
  ``test_max_per_metric`` (each metric its own maximum) is another rule, with its own name.
"""
from __future__ import annotations

import math
from typing import Any, Iterable

SELECTIONS = ("last", "val", "test_max")


def selection_split(mode: str) -> str:
    """The split whose values ``mode`` selects on: ``val`` for ``val``, else ``test``."""
    return "val" if mode == "val" else "test"


def select_epoch(evaluations: Iterable[tuple[int, float]], mode: str, higher_is_better: bool = True) -> int | None:
    """The selected epoch of ``evaluations``, ``(epoch, value of the selection metric on the
    selection split)`` in epoch order; ``None`` when nothing can be selected.

    ``last``: the last epoch. ``val`` / ``test_max``: the earliest epoch with the best value (the
    largest, or with ``higher_is_better=False`` the smallest); NaN values are skipped."""
    if mode not in SELECTIONS:
        raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, got '{mode}'")
    chosen: tuple[int, float] | None = None
    for epoch, value in evaluations:
        if mode == "last":
            chosen = (epoch, value)
        elif not math.isnan(value) and (chosen is None or (value > chosen[1] if higher_is_better
                                                             else value < chosen[1])):
            chosen = (epoch, value)
    return None if chosen is None else chosen[0]


class EpochSelector:
    """The selected epoch of a run in progress, updated after each evaluation (:func:`select_epoch`
    over the best epoch so far and the new one: the best so far sums up the earlier ones)."""

    def __init__(self, mode: str, metric: str, higher_is_better: bool = True):
        self.mode, self.metric, self.higher = mode, metric, higher_is_better
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self.test_metrics: dict[str, float] = {}
        self.results: dict[str, dict[str, float]] = {}     # every evaluated split at the selected epoch

    def update(self, epoch: int, results: dict[str, dict[str, float]]) -> bool:
        """Consider one evaluation; return True when it becomes the selected epoch."""
        value = results.get(selection_split(self.mode), {}).get(self.metric, math.nan)
        so_far = [] if self.best_epoch is None else [(self.best_epoch, self.best_value)]
        if select_epoch(so_far + [(epoch, value)], self.mode, self.higher) != epoch:
            return False
        self.best_epoch = epoch
        if self.mode != "last":
            self.best_value = value
        self.test_metrics = dict(results.get("test", {}))
        self.results = {split: dict(values) for split, values in results.items()}
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"best_epoch": self.best_epoch, "best_value": self.best_value, "test_metrics": self.test_metrics,
                "results": self.results}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_epoch, self.best_value = state["best_epoch"], state["best_value"]
        self.test_metrics = dict(state["test_metrics"])
        self.results = dict(state.get("results") or {"test": self.test_metrics})


def patience_exhausted(patience: int, eval_every: int, epoch: int, best_epoch: int | None) -> bool:
    """Early stopping (as powerful-benchmarker's ``patience``): ``patience`` evaluations since the
    selected epoch without a better validation value. 0 never stops."""
    if patience <= 0 or best_epoch is None:
        return False
    return (epoch - best_epoch) // max(eval_every, 1) >= patience
