"""One fold run of a study: its deterministic folder, reuse or resume, its validation value.

A fold run is an ordinary ``main.py`` run folder (``--cv_folds K --cv_fold i --selection val``),
named by a hash of what defines it (method, flags, fold, seed), so that a re-queued trial finds
the fold runs it already finished (reused) or began (``--resume``d) instead of training again.
"""
from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import math
import os
import shutil
from typing import Any


class FoldRunError(RuntimeError):
    """A fold run ended without completing (its exit code and folder are in the message)."""


def config_hash(*parts: Any) -> str:
    """A short SHA-256 of JSON-serialisable parts (sorted keys): the identity of a configuration."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_path(save_path: str, dataset: str, savename: str) -> str:
    """Where ``main.py`` puts a run: ``<save_path>/<dataset>/<savename>``."""
    return os.path.join(save_path, dataset, savename)


def read_summary(folder: str) -> dict[str, Any]:
    try:
        with open(os.path.join(folder, "summary.json"), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def is_complete(folder: str) -> bool:
    return read_summary(folder).get("status") == "completed"


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
        if is_complete(folder):
            return True
        log = folder + ".log"
        if os.path.isfile(os.path.join(folder, "config.json")):
            code = run_main(["--resume", folder], log)
        else:
            if os.path.isdir(folder):
                shutil.rmtree(folder)
            code = run_main(argv, log)
        if code != 0 or not is_complete(folder):
            raise FoldRunError(f"fold run {folder} exited with code {code}: {last_line(log)}")
        return False
    finally:
        os.close(fd)


def selected_value(folder: str, metric: str, split: str = "val") -> float:
    """``metric`` on ``split`` at the epoch ``--selection`` picked (``summary.json``'s
    ``best_epoch``), read from ``metrics.csv``; NaN if absent."""
    best = read_summary(folder).get("best_epoch")
    try:
        with open(os.path.join(folder, "metrics.csv"), encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("split") == split and str(row.get("epoch")) == str(best):
                    return float(row.get(metric, "nan") or "nan")
    except OSError:
        pass
    return math.nan
