"""One fold run of a study: its deterministic folder, reuse or resume, its validation value.

A fold run is an ordinary ``main.py`` run folder (``--cv_folds K --cv_fold i --selection val``),
named by a hash of what defines it (method, flags, fold, seed), so that a re-queued trial finds
the fold runs it already finished (reused) or began (``--resume``d) instead of training again.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from typing import Any

from training.run_record import RunRecord


class FoldRunError(RuntimeError):
    """A fold run ended without completing (its exit code and folder are in the message)."""


def config_hash(*parts: Any) -> str:
    """A short SHA-256 of JSON-serialisable parts (sorted keys): the identity of a configuration."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_path(save_path: str, dataset: str, savename: str) -> str:
    """Where ``main.py`` puts a run: ``<save_path>/<dataset>/<savename>``."""
    return os.path.join(save_path, dataset, savename)


def run_main(argv: list[str], log: str) -> int:
    """``main.main(argv)`` in this process, its output appended to ``log``; its exit code
    (``SystemExit`` included)."""
    import contextlib

    import main
    with open(log, "a", encoding="utf-8") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        try:
            return int(main.main(argv) or 0)
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1


def last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = [line.strip() for line in fh if line.strip()]
        return lines[-1] if lines else ""
    except OSError:
        return ""


def ensure_run(argv: list[str], folder: str) -> bool:
    """Make the run of ``argv`` (whose folder is ``folder``) complete; returns ``True`` if it was
    already complete (reused, nothing trained). A folder with ``config.json`` but no completed
    summary is resumed; one without ``config.json`` (killed while it was created) is removed.
    A ``<folder>.claim`` lock serialises two workers that meet the same fold run: the second
    waits, then reuses it. Raises :class:`FoldRunError` if the run does not complete."""
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    fd = os.open(folder + ".claim", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)            # released when the process dies
        if RunRecord(folder).completed:
            return True
        log = folder + ".log"
        if RunRecord(folder).readable():
            code = run_main(["--resume", folder], log)
        else:
            if os.path.isdir(folder):
                shutil.rmtree(folder)
            code = run_main(argv, log)
        if code != 0 or not RunRecord(folder).completed:
            raise FoldRunError(f"fold run {folder} exited with code {code}: {last_line(log)}")
        return False
    finally:
        os.close(fd)


def selected_value(folder: str, metric: str, split: str = "val") -> float:
    """``metric`` on ``split`` at the epoch ``--selection`` picked (the run's ``best_epoch``);
    NaN if absent."""
    return RunRecord(folder).selected_value(metric, split)
