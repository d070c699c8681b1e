"""Optuna storage of a study, and the trials whose worker died.

By default a journal file in the study folder (``optuna.storages.JournalStorage`` over a
``JournalFileBackend``: safe for several processes, and over NFS for SLURM jobs); ``--storage URL``
uses any database Optuna's ``RDBStorage`` accepts. Optuna 5.0's journal storage keeps no heartbeat,
so a trial records its worker (``host:pid``) and the worker touches a heartbeat file while it runs;
a RUNNING trial whose worker process is gone (same host) or whose heartbeat is older than three
periods is marked FAIL and its parameters are enqueued again (once: the first worker to mark it).
"""
from __future__ import annotations

import os
import re
import socket
import time
from typing import Any

from studies import StudyError
from studies.settings import method_of

#: The database password of ``--storage``: workers read it from here, so that it is in no file
#: (``study.json``, the pickled jobs of submitit) and no message.
PASSWORD_ENV = "DMLBENCH_STORAGE_PASSWORD"
HIDDEN = "***"
_PASSWORD = re.compile(r"^([a-zA-Z][\w+.-]*://[^:/@]*):([^@]*)@")


def without_password(url: str) -> tuple[str, str | None]:
    """``driver://user:PASSWORD@host/db`` as ``(driver://user:***@host/db, PASSWORD)``; other URLs
    and paths as ``(url, None)``."""
    match = _PASSWORD.match(url)
    if match is None or match.group(2) == HIDDEN:
        return url, None
    return f"{match.group(1)}:{HIDDEN}@{url[match.end():]}", match.group(2)


def with_password(url: str) -> str:
    """The URL :func:`without_password` hid the password of, with it back from :data:`PASSWORD_ENV`."""
    match = _PASSWORD.match(url)
    if match is None or match.group(2) != HIDDEN or PASSWORD_ENV not in os.environ:
        return url
    return f"{match.group(1)}:{os.environ[PASSWORD_ENV]}@{url[match.end():]}"


#: How to install the database drivers (``requirements-cluster.txt``).
DRIVER_HINT = "pip install -r requirements-cluster.txt"


def open_storage(url: str) -> Any:
    """The Optuna storage of ``url`` (a database URL, or a journal file path; a hidden password is
    taken from :data:`PASSWORD_ENV`); a :class:`StudyError` if it cannot be opened, whose message
    holds no password."""
    import optuna
    shown, _ = without_password(url)
    full = with_password(url)
    try:
        if "://" in url:
            return optuna.storages.RDBStorage(full)
        os.makedirs(os.path.dirname(os.path.abspath(url)), exist_ok=True)
        from optuna.storages.journal import JournalFileBackend
        return optuna.storages.JournalStorage(JournalFileBackend(url))
    except ImportError as err:        # Optuna wraps the driver's ModuleNotFoundError
        cause = err if isinstance(err, ModuleNotFoundError) else (err.__cause__ or err.__context__)
        name = getattr(cause, "name", None) or "?"
        raise StudyError(f"--storage {shown}: its database driver '{name}' is not installed ({DRIVER_HINT})") \
            from None
    except Exception as err:          # drivers raise many types; one line for all
        _, password = without_password(full)
        message = " ".join(str(err).split())
        if password:
            message = message.replace(password, HIDDEN)
        raise StudyError(f"--storage {shown}: cannot open it ({type(err).__name__}: {message[:160]})") from None


def repair_journal(path: str) -> str | None:
    """Cut a journal file back to its last whole record when its end is damaged (a write cut off
    mid-line, a garbage line appended); the cut bytes are kept in ``PATH.damaged``. Returns the
    line to print, or ``None`` when the file is whole. A damaged record followed by whole ones is
    refused (a :class:`StudyError`): that is not a cut-off write and needs a person."""
    import json
    if not os.path.exists(path):
        return None
    with open(path, "rb") as fh:
        data = fh.read()
    good, bad_at = 0, None
    for line in data.splitlines(keepends=True):
        try:
            whole = line.endswith(b"\n") and isinstance(json.loads(line), dict)
        except ValueError:
            whole = False
        if whole and bad_at is None:
            good += len(line)
        elif whole:
            raise StudyError(f"{path}: the record at byte {bad_at} is damaged and whole records follow it; "
                             "restore the file from a backup or delete that line by hand, then rerun")
        elif bad_at is None:
            bad_at = good
    if good == len(data):
        return None
    with open(path + ".damaged", "wb") as fh:
        fh.write(data[good:])
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        fh.write(data[:good])
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return (f"{path}: cut a damaged end ({len(data) - good} bytes, kept in {path}.damaged) back to its "
            "last whole record")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_file(study_dir: str, method: str, number: int) -> str:
    return os.path.join(study_dir, "heartbeats", f"{method}-{number}")


def is_stale(trial: Any, study_dir: str, method: str, heartbeat_s: float) -> bool:
    """A RUNNING trial whose worker is dead: same host and no such process, or no heartbeat
    for three periods (a trial without a worker record yet gets the same grace)."""
    worker = str(trial.user_attrs.get("worker", ""))
    host, _, pid = worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    path = heartbeat_file(study_dir, method, trial.number)
    last = os.path.getmtime(path) if os.path.exists(path) else (
        trial.datetime_start.timestamp() if trial.datetime_start else time.time())
    return time.time() - last > 3 * heartbeat_s


def requeue_stale(study: Any, study_dir: str, heartbeat_s: float) -> list[int]:
    """Mark the stale RUNNING trials FAIL and enqueue their parameters again; the numbers done."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState
    done = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not is_stale(trial, study_dir, method_of(study.study_name), heartbeat_s):
            continue
        try:                                  # the note first: a finished trial takes no attributes
            study._storage.set_trial_user_attr(trial._trial_id, "failed_because", "worker died")
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:      # another worker got there first
            continue
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=False)
        done.append(trial.number)
    return done
