"""What ``--resume RUN`` restores from the run's ``config.json``, and which typed flags it refuses."""
from __future__ import annotations

import argparse
import json
import os
from typing import Any

from training.run_record import RunFolderError, RunRecord
from utilities.cli import FlagError
from utilities.config_file import check_saved_flags
from utilities.flags import resumable_flags, secret_flags, unrestored_flags


def check_resume(path: str) -> dict[str, Any]:
    """``--resume`` must name a run folder (or a file in one) holding a readable ``config.json``
    (:class:`training.run_record.RunRecord`); returns its saved flags."""
    if not os.path.exists(path):
        raise FlagError(f"--resume: no such run folder or checkpoint: {path}")
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    try:
        return RunRecord(folder).config["flags"]
    except RunFolderError as err:
        raise FlagError(f"--resume {path}: {err}") from None


def resumed_flags(path: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The flags a resume of ``path`` restores (:func:`restorable_flags` of :func:`check_resume`),
    checked as strictly as typed flags: a hand-edited ``config.json`` with a bad value is a
    :class:`FlagError` naming the file and the key."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    return check_saved_flags(restorable_flags(check_resume(path), parser), parser,
                             os.path.join(folder, "config.json"))


def restorable_flags(saved: dict[str, Any], parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The saved flags that ``--resume`` restores: every flag of this parser, except how the run
    was invoked (``argv``, ``resume``, ``config``, ``list``) and the redacted secrets."""
    dests = {action.dest for action in parser._actions}
    skip = unrestored_flags()
    return {key: value for key, value in saved.items() if key in dests - {"help"} and key not in skip}


#: Where a run is written: a resume continues the run in its own folder, whatever is typed.
RUN_LOCATION = ("save_path", "savename")


def typable_on_resume() -> frozenset[str]:
    """The settings a user may type with ``--resume``: every flag that may change mid-run (secrets
    such as ``--wandb_key`` and the data's ``--source`` included), except how the command was
    invoked and where the run is written."""
    return resumable_flags() - (unrestored_flags() - secret_flags()) - set(RUN_LOCATION) - {"resume"}


def check_resume_overrides(opt: argparse.Namespace, saved: dict[str, Any], path: str | None) -> None:
    """Typed with ``--resume``, only flags that may change mid-run (more epochs, evaluation
    cadence, workers, device, logging, plots) may differ from the saved run; any other is
    refused, naming the saved and the typed value."""
    def plain(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str))
    resumable = resumable_flags()
    changed = [f"--{key} saved {value!r}, typed {plain(getattr(opt, key))!r}" for key, value in saved.items()
               if key not in resumable and plain(getattr(opt, key)) != plain(value)]
    if changed:
        raise FlagError(f"--resume {path}: these flags cannot change when a run is resumed: {'; '.join(changed)} "
                        f"(only {', '.join('--' + k for k in sorted(typable_on_resume()))} may)")
    moved = [f"--{key} {getattr(opt, key)}" for key in RUN_LOCATION
             if key in saved and plain(getattr(opt, key)) != plain(saved[key])]
    if moved:
        raise FlagError(f"--resume {path}: a resumed run stays in its own folder, so {' and '.join(moved)} would be "
                        "ignored; copy the folder to move the run, then resume the copy")
    if not path:
        return
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    done = RunRecord(folder).epochs_done
    if done is not None and opt.n_epochs < done:
        raise FlagError(f"--resume {path}: --n_epochs {opt.n_epochs} is below the {done} epochs already trained")
