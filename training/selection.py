"""Which epoch a run reports (``--selection``) and which model ``checkpoint_best.pt`` holds."""
from __future__ import annotations

import math
from typing import Any


class EpochSelector:
    """Track the selected epoch.

    * ``last``: the latest evaluated epoch.
    * ``val``: the epoch with the best validation value of the first storage metric.
    * ``test_max``: the epoch with the best *test* value (the Revisiting-DML paper's protocol;
      optimistic, since it selects on the test set).
    """

    def __init__(self, mode: str, metric: str, higher_is_better: bool = True):
        self.mode, self.metric, self.higher = mode, metric, higher_is_better
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self.test_metrics: dict[str, float] = {}
        self.results: dict[str, dict[str, float]] = {}     # every evaluated split at the selected epoch

    def update(self, epoch: int, results: dict[str, dict[str, float]]) -> bool:
        """Consider one evaluation; return True when it becomes the selected epoch."""
        if self.mode == "last":
            improved = True
        else:
            split = "val" if self.mode == "val" else "test"
            value = results.get(split, {}).get(self.metric, math.nan)
            if math.isnan(value):
                return False
            better = self.best_value is None or (value > self.best_value if self.higher else value < self.best_value)
            improved = better
            if improved:
                self.best_value = value
        if improved:
            self.best_epoch = epoch
            self.test_metrics = dict(results.get("test", {}))
            self.results = {split: dict(values) for split, values in results.items()}
        return improved

    def state_dict(self) -> dict[str, Any]:
        return {"best_epoch": self.best_epoch, "best_value": self.best_value, "test_metrics": self.test_metrics,
                "results": self.results}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_epoch, self.best_value = state["best_epoch"], state["best_value"]
        self.test_metrics = dict(state["test_metrics"])
        self.results = dict(state.get("results") or {"test": self.test_metrics})
