"""The settings of one study command, shared (pickled) with every worker."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from studies.spaces import Space

#: The test metrics of the final table (the Reality Check's P@1, R-Precision and MAP@R).
TABLE_METRICS = ("precision_at_1", "r_precision", "map_at_r")
#: The models each reproduction evaluates: trained, and the paper's two baselines (the untrained
#: network with a fresh head per fold, the backbone's own features without a head).
KINDS = ("trained", "untrained", "backbone")


@dataclass
class Settings:
    """What a study command asked for. ``base_argv`` are the ``main.py`` flags after ``--``."""
    study_dir: str
    spaces: dict[str, Space]
    trials: int
    folds: int
    metric: str = "map_at_r"
    seed: int = 0
    prune: bool = False
    storage: str | None = None
    reproductions: int = 0
    heartbeat_s: float = 30.0
    base_argv: list[str] = field(default_factory=list)
    startup_trials: int = 2     # TPE's random start-up trials (studies.sampler.default_startup_trials)

    @property
    def storage_url(self) -> str:
        """Optuna storage: ``--storage`` or the journal file in the study folder."""
        return self.storage or journal_path(self.study_dir)

    def study_name(self, method: str) -> str:
        """The method's study name in the Optuna storage: the method in the study folder's own
        journal; ``method@study folder`` in a ``--storage`` that other studies may share, so that
        two study folders never read each other's trials."""
        return method if self.storage is None else f"{method}@{self.study_dir}"

    def method_dir(self, method: str) -> str:
        return os.path.join(self.study_dir, method)

    def evaluation_metrics(self) -> list[str]:
        return [self.metric] + [m for m in TABLE_METRICS if m != self.metric]


def method_of(study_name: str) -> str:
    """The method of a study name made by :meth:`Settings.study_name`."""
    return study_name.partition("@")[0]


def journal_path(study_dir: str) -> str:
    return os.path.join(study_dir, "optuna.journal")
