"""The run folder: ``<save_path>/<dataset>/<savename>/``.

Files: ``config.json``, ``train.csv``, ``metrics.csv``, ``summary.json``, ``checkpoint_last.pt``
and ``checkpoint_best.pt``. Every write is atomic (:mod:`utilities.atomic`), so a killed run
leaves readable files with ``status: running``. Under torchrun every rank keeps the rows, and
only rank 0 writes the files. A process holds an exclusive lock on the
folder's ``.lock`` file for the whole run (:meth:`RunFolder.lock`), so two processes can never
write one run, and a resume touches no file before it has checked everything it needs.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import platform
import shutil
import subprocess
import time
from typing import Any

from training.run_record import RunFolderError, RunRecord
from utilities.atomic import write_csv, write_json
from utilities.comm import is_main, world_size_from_env
from utilities.flags import midrun_flags, secret_flags

TRAIN_COLUMNS = ["epoch", "loss", "lr", "time_s"]
REDACTED = "<redacted>"   # the value of every secret flag (utilities.flags.secret_flags) in files


def package_versions() -> dict[str, str]:
    import faiss
    import numpy
    import sklearn
    import torch
    import torchvision
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:          # the image decoders, read without importing them
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "numpy": numpy.__version__,
            "faiss": getattr(faiss, "__version__", "?"), "scikit-learn": sklearn.__version__,
            "pillow": installed("pillow"), "torchcodec": installed("torchcodec")}


def git_commit() -> str | None:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _names_secret(token: str) -> bool:
    """``--wandb_key`` or an abbreviation argparse accepts for it (``--wandb``): a prefix of a secret
    flag. A prefix shared with another flag is ambiguous, so argparse never lets it through."""
    return token.startswith("--") and len(token) > 2 and any(
        f"--{key}".startswith(token) for key in secret_flags())


def redact_argv(argv: list[str]) -> list[str]:
    """``argv`` with the value of every secret flag replaced, in both ``--flag VALUE`` and
    ``--flag=VALUE`` forms."""
    out: list[str] = []
    hide_next = False
    for token in argv:
        name, eq, _ = token.partition("=")
        if hide_next:
            out.append(REDACTED)
            hide_next = False
        elif _names_secret(name):
            out.append(f"{name}={REDACTED}" if eq else token)
            hide_next = not eq
        else:
            out.append(token)
    return out


def public_config(opt: Any) -> dict[str, Any]:
    """Every resolved flag, with secrets removed: from the flags and from the saved ``argv``."""
    secret = secret_flags()
    config = {k: (REDACTED if k in secret else v) for k, v in vars(opt).items()}
    if isinstance(config.get("argv"), list):
        config["argv"] = redact_argv(config["argv"])
    return config


_HELD_LOCKS: set[int] = set()      # descriptors of the run-folder locks this process took


def _drop_inherited_locks() -> None:
    """In a forked child (a DataLoader worker), close its copies of the run-folder locks. An
    ``flock`` lasts while any copy of its descriptor is open, so without this the workers of a
    run killed with SIGKILL would keep its folder locked until they notice and exit."""
    for fd in list(_HELD_LOCKS):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


class RunFolder:
    """Writer for one run's folder. Rows are kept in memory and each file is rewritten atomically."""

    def __init__(self, path: str):
        self.path = path
        self.train_rows: list[dict[str, Any]] = []
        self.metric_rows: list[dict[str, Any]] = []
        self.metric_columns: list[str] = []
        self.started = time.time()
        self.elapsed_before = 0.0
        self.created = False          # made by this process (removed again if nothing began)
        self.began = False            # training began: from now on failures are recorded
        self._lock_fd: int | None = None

    def lock(self) -> None:
        """Hold an exclusive ``flock`` on ``<run>/.lock`` until the process ends (or :meth:`unlock`).

        :class:`RunFolderError` if another process holds it: that process is writing this run."""
        try:
            fd = os.open(self.file(".lock"), os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:        # a read-only run folder: lock it for reading, if it can be
            if not os.path.isfile(self.file(".lock")):
                raise RunFolderError(f"cannot write in run folder {self.path}: {err.strerror}") from None
            fd = os.open(self.file(".lock"), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise RunFolderError(f"run folder {self.path} is in use by another process "
                                     f"(a run or resume of it is still going)") from None
            raise
        if os.access(self.file(".lock"), os.W_OK):
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        _HELD_LOCKS.add(fd)

    def unlock(self) -> None:
        if self._lock_fd is not None:
            _HELD_LOCKS.discard(self._lock_fd)
            os.close(self._lock_fd)      # closing the descriptor releases the flock
            self._lock_fd = None

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    # ---- creation and resume -------------------------------------------------------------
    @staticmethod
    def location(opt: Any, savename: str | None = None) -> str:
        """The run folder: the ``--resume`` folder, or ``<save_path>/<dataset>/<savename>``
        (``savename`` defaults to ``opt.savename``; under torchrun it is rank 0's)."""
        if opt.resume:
            return opt.resume if os.path.isdir(opt.resume) else os.path.dirname(opt.resume)
        return os.path.join(opt.save_path, opt.dataset, savename or opt.savename)

    @classmethod
    def create(cls, path: str, opt: Any) -> "RunFolder":
        """Make the folder ``path``, lock it, and write ``config.json`` (the flags of ``opt``).

        The check that the folder holds no run is made under the lock, so two processes started
        with one name cannot both pass it."""
        run = cls(path)
        existed = os.path.isdir(path)
        try:
            os.makedirs(run.path, exist_ok=True)
            run.lock()
        except OSError as err:
            raise PermissionError(f"--save_path: cannot write in {run.path}: {err.strerror}") from None
        if RunRecord.holds_run(run.path):
            run.unlock()
            raise FileExistsError(f"run folder {run.path} already holds a run: pass --resume "
                                  f"{run.path} to continue it, or choose another --savename")
        run.created = not existed
        config = {"flags": public_config(opt), "versions": package_versions(), "git_commit": git_commit(),
                  "world_size": world_size_from_env()}  # torchrun processes: aggregation pools runs by it
        write_json(run.file("config.json"), config)
        return run

    @classmethod
    def open_existing(cls, path: str) -> "RunFolder":
        """Lock the run folder of a resume; :class:`RunFolderError` if it is not a run or in use.
        Nothing is written."""
        RunRecord(path).config
        run = cls(path)
        run.lock()
        return run

    def record_resume(self, opt: Any, from_epoch: int) -> None:
        """Write into ``config.json`` the flags that this resume changed (a longer ``--n_epochs``,
        ...) and a ``resumes`` entry, so the folder says what the run became. Rank 0 only."""
        if not is_main():
            return
        config = RunRecord(self.path).config
        midrun = midrun_flags()
        changed = {k: v for k, v in public_config(opt).items() if k in midrun and config["flags"].get(k) != v}
        config["flags"].update(changed)
        config.setdefault("resumes", []).append({"after_epoch": from_epoch, "changed": sorted(changed)})
        write_json(self.file("config.json"), config)

    def record_data(self, identity: dict[str, Any]) -> None:
        """Save the data identity (source and split fingerprint) in ``config.json``. Rank 0 only
        (the other ranks may get here before rank 0 has written the file)."""
        if not is_main():
            return
        config = RunRecord(self.path).config
        config["data"] = identity
        write_json(self.file("config.json"), config)

    def data_conflict(self, identity: dict[str, Any]) -> str | None:
        """Why the data of this resume are not the run's (``None`` if they are, or were never
        saved). The file-content fingerprint is compared when the run saved one (runs saved
        before it existed are checked on their split tables only)."""
        saved = RunRecord(self.path).data
        if saved is None:
            return None
        for key, what in (("fingerprint", "split tables"), ("content", "file contents")):
            if key in saved and saved[key] != identity[key]:
                return (f"the data differ from the run's ({what} fingerprint {identity[key][:12]} from "
                        f"{identity['source']!r}, saved {saved[key][:12]} from {saved['source']!r})")
        return None

    def remove_if_unused(self) -> None:
        """Delete a folder this process created when nothing was trained in it."""
        if self.created and not RunRecord(self.path).has_checkpoint("checkpoint_last.pt"):
            self.unlock()
            shutil.rmtree(self.path)      # with what a logger may have begun there (wandb/)

    def restore_logs(self, up_to_epoch: int, elapsed: float,
                     logs: dict[str, list[dict[str, Any]]] | None = None) -> None:
        """The rows of epochs ``<= up_to_epoch`` (later rows belong to lost work): from the
        checkpoint's copy ``logs`` (so a deleted or damaged CSV file is rebuilt), else from the CSV
        files. The files themselves are rewritten with the next epoch's rows."""
        if logs is None:
            record = RunRecord(self.path)
            logs = {"train": record.train_rows(), "metrics": record.metric_rows(typed=False)}
        self.train_rows = [r for r in logs["train"] if int(r["epoch"]) <= up_to_epoch]
        self.metric_rows = [r for r in logs["metrics"] if int(r["epoch"]) <= up_to_epoch]
        for row in self.metric_rows:
            for key in row:
                if key not in ("epoch", "split") and key not in self.metric_columns:
                    self.metric_columns.append(key)
        self.elapsed_before = elapsed
        if not is_main():        # only rank 0 writes; another rank here could remove its live temporary files
            return
        for name in os.listdir(self.path):      # temporary files of writes cut short by a kill
            if name.startswith(".tmp_"):
                os.unlink(self.file(name))

    # ---- logging -------------------------------------------------------------------------
    def log_train(self, row: dict[str, Any]) -> None:
        self.train_rows.append(row)
        if not is_main():
            return
        extra = sorted({k for r in self.train_rows for k in r} - set(TRAIN_COLUMNS))
        write_csv(self.file("train.csv"), self.train_rows, TRAIN_COLUMNS + extra)

    def log_metrics(self, epoch: int, results: dict[str, dict[str, float]]) -> None:
        for split, values in results.items():
            self.metric_rows.append({"epoch": epoch, "split": split, **values})
            for key in values:
                if key not in self.metric_columns:
                    self.metric_columns.append(key)
        if is_main():
            write_csv(self.file("metrics.csv"), self.metric_rows, ["epoch", "split"] + self.metric_columns)

    def wall_time(self) -> float:
        return self.elapsed_before + time.time() - self.started

    def logs(self) -> dict[str, list[dict[str, Any]]]:
        """The rows so far, as a checkpoint keeps them."""
        return {"train": list(self.train_rows), "metrics": list(self.metric_rows)}

    def write_summary(self, status: str, epochs_done: int, selection: str, best_epoch: int | None,
                      test_metrics: dict[str, float], error: str | None = None,
                      interrupted: str | None = None, stopped_early: bool = False) -> None:
        """``summary.json``; ``interrupted`` (``"SIGINT"``, ``"SIGTERM"``) marks a run stopped by a
        signal (its status is ``failed``; ``--resume`` continues it). Rank 0 only."""
        if not is_main():
            return
        summary = {"status": status, "epochs_done": epochs_done, "selection": selection,
                   "best_epoch": best_epoch, "metrics": test_metrics,
                   "wall_time_s": round(self.wall_time(), 3)}
        if error is not None:
            summary["error"] = error
        if interrupted is not None:
            summary["interrupted"] = interrupted
        if stopped_early:           # --patience: completed before --n_epochs, on purpose
            summary["stopped_early"] = True
        write_json(self.file("summary.json"), summary)
