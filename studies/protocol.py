"""What makes a study the study it is, recorded in ``study.json`` and checked on every rerun.

A study folder holds one protocol: its methods' spaces, the budget (trials, folds, epochs), the
objective (metric), the seed, the base ``main.py`` flags, the TPE start-up and pruning settings,
and the number of reproductions. Running the command again on the folder continues or re-reports
that study; with any other protocol it would label an old search with a new budget or metric. So
a rerun whose protocol differs is refused with one line naming every differing setting, except
that ``--extend`` may raise ``--trials`` and ``--reproductions`` (a larger budget continues the
same search) and a new method may join (its own study in the folder).
"""
from __future__ import annotations

import json
import os
from typing import Any

from studies import StudyError
from studies.settings import Settings

#: Settings ``--extend`` may raise on a rerun; every other one must stay as recorded.
EXTENDABLE = ("trials", "reproductions")


def protocol(settings: Settings, epochs: int) -> dict[str, Any]:
    """The protocol of a study command (the comparable part of ``study.json``)."""
    return {"methods": {m: {"fixed": s.fixed, "search": s.search} for m, s in settings.spaces.items()},
            "trials": settings.trials, "folds": settings.folds, "epochs": epochs, "metric": settings.metric,
            "seed": settings.seed, "reproductions": settings.reproductions, "prune": settings.prune,
            "startup_trials": settings.startup_trials, "main_argv": list(settings.base_argv)}


def recorded(study_dir: str) -> dict[str, Any] | None:
    """The protocol recorded in ``study_dir/study.json``, or None for a new folder."""
    path = os.path.join(study_dir, "study.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as err:
        raise StudyError(f"{path}: cannot read the study's record ({type(err).__name__}); "
                         "name a new --study folder") from None


def _flag(name: str) -> str:
    return {"folds": "--cv_folds", "main_argv": "the main.py flags after --", "epochs": "--n_epochs"}.get(
        name, f"--{name}")


def differences(old: dict[str, Any], new: dict[str, Any], extend: bool) -> list[str]:
    """``"--cv_folds 2 (now 4)"`` for every setting that a rerun may not change."""
    out = []
    for key in ("folds", "epochs", "metric", "seed", "prune", "startup_trials", "main_argv", *EXTENDABLE):
        if key not in old or old[key] == new[key]:
            continue
        if key in EXTENDABLE and extend and new[key] > old[key]:
            continue
        shown = (lambda v: " ".join(map(str, v))) if key == "main_argv" else str
        out.append(f"{_flag(key)} {shown(old[key])} (now {shown(new[key])})")
    for method, space in new["methods"].items():
        before = old.get("methods", {}).get(method)
        if before is not None and ({"fixed": before.get("fixed"), "search": before.get("search")} != space):
            out.append(f"the search space of '{method}'")
    return out


def check_rerun(study_dir: str, settings: Settings, epochs: int, extend: bool) -> None:
    """Refuse (:class:`StudyError`, one line) a rerun whose protocol differs from the folder's."""
    old = recorded(study_dir)
    if old is None:
        return
    diffs = differences(old, protocol(settings, epochs), extend)
    if diffs:
        hint = "" if extend else "; --extend may raise only --trials and --reproductions"
        raise StudyError(f"--study {study_dir} was run with another protocol: {'; '.join(diffs)}. Name a new "
                         f"--study folder to run this one{hint}")
