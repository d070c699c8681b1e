"""The run folder of CONTRACT §3: ``<save_path>/<dataset>/<savename>/``.

Files: ``config.json``, ``train.csv``, ``metrics.csv``, ``summary.json``, ``checkpoint_last.pt``
and ``checkpoint_best.pt``. Every write is atomic (:mod:`utilities.atomic`), so a killed run
leaves readable files with ``status: running``.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from typing import Any

from utilities.atomic import write_csv, write_json
from utilities.csv_rows import read_csv_rows

TRAIN_COLUMNS = ["epoch", "loss", "lr", "time_s"]
SECRET_KEYS = ("wandb_key", "comet_api_key")  # flags whose values are never written or printed
REDACTED = "<redacted>"
RESUMABLE_KEYS = {  # flags that may change when a run is resumed
    "resume", "n_epochs", "eval_every", "kernels", "device", "gpu", "log_online", "wandb_key",
    "argv", "savename", "save_path", "source_path", "evaluate_on_gpu", "no_train_metrics",
    "plot_embeddings", "plot_retrievals", "list", "config", "project", "amp", "compile",
}


def package_versions() -> dict[str, str]:
    import faiss
    import numpy
    import sklearn
    import torch
    import torchvision
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "numpy": numpy.__version__,
            "faiss": getattr(faiss, "__version__", "?"), "scikit-learn": sklearn.__version__}


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
        f"--{key}".startswith(token) for key in SECRET_KEYS)


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
    config = {k: (REDACTED if k in SECRET_KEYS else v) for k, v in vars(opt).items()}
    if isinstance(config.get("argv"), list):
        config["argv"] = redact_argv(config["argv"])
    return config


class RunFolder:
    """Writer for one run's folder. Rows are kept in memory and each file is rewritten atomically."""

    def __init__(self, path: str):
        self.path = path
        self.train_rows: list[dict[str, Any]] = []
        self.metric_rows: list[dict[str, Any]] = []
        self.metric_columns: list[str] = []
        self.started = time.time()
        self.elapsed_before = 0.0

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
        """Make the folder ``path`` and write ``config.json`` (the flags of ``opt``)."""
        run = cls(path)
        if os.path.exists(run.file("summary.json")) and not opt.resume:
            raise FileExistsError(f"run folder {run.path} already holds a run: pass --resume "
                                  f"{run.path} to continue it, or choose another --savename")
        probe = run.file(".write_probe")
        try:
            os.makedirs(run.path, exist_ok=True)
            with open(probe, "w") as fh:
                fh.write("ok")
            os.unlink(probe)
        except OSError as err:
            raise PermissionError(f"--save_path: cannot write in {run.path}: {err.strerror}") from None
        config = {"flags": public_config(opt), "versions": package_versions(), "git_commit": git_commit()}
        write_json(run.file("config.json"), config)
        return run

    @staticmethod
    def config_conflicts(path: str, opt: Any) -> list[str]:
        """Flags of ``opt`` that differ from the run's saved ``config.json`` (resume check)."""
        with open(os.path.join(path, "config.json")) as fh:
            saved = json.load(fh)["flags"]
        diffs = []
        for key, value in public_config(opt).items():
            if key in RESUMABLE_KEYS or key not in saved:
                continue
            if json.loads(json.dumps(value, default=str)) != saved[key]:
                diffs.append(f"--{key} {saved[key]!r} -> {value!r}")
        return diffs

    def restore_logs(self, up_to_epoch: int, elapsed: float) -> None:
        """Reload the CSV rows of epochs ``<= up_to_epoch`` (later rows belong to lost work)."""
        self.train_rows = [r for r in read_csv_rows(self.file("train.csv")) if int(r["epoch"]) <= up_to_epoch]
        self.metric_rows = [r for r in read_csv_rows(self.file("metrics.csv")) if int(r["epoch"]) <= up_to_epoch]
        for row in self.metric_rows:
            for key in row:
                if key not in ("epoch", "split") and key not in self.metric_columns:
                    self.metric_columns.append(key)
        self.elapsed_before = elapsed
        for name in os.listdir(self.path):      # temporary files of writes cut short by a kill
            if name.startswith(".tmp_"):
                os.unlink(self.file(name))

    # ---- logging -------------------------------------------------------------------------
    def log_train(self, row: dict[str, Any]) -> None:
        self.train_rows.append(row)
        extra = sorted({k for r in self.train_rows for k in r} - set(TRAIN_COLUMNS))
        write_csv(self.file("train.csv"), self.train_rows, TRAIN_COLUMNS + extra)

    def log_metrics(self, epoch: int, results: dict[str, dict[str, float]]) -> None:
        for split, values in results.items():
            self.metric_rows.append({"epoch": epoch, "split": split, **values})
            for key in values:
                if key not in self.metric_columns:
                    self.metric_columns.append(key)
        write_csv(self.file("metrics.csv"), self.metric_rows, ["epoch", "split"] + self.metric_columns)

    def wall_time(self) -> float:
        return self.elapsed_before + time.time() - self.started

    def write_summary(self, status: str, epochs_done: int, selection: str, best_epoch: int | None,
                      test_metrics: dict[str, float], error: str | None = None) -> None:
        summary = {"status": status, "epochs_done": epochs_done, "selection": selection,
                   "best_epoch": best_epoch, "metrics": test_metrics,
                   "wall_time_s": round(self.wall_time(), 3)}
        if error is not None:
            summary["error"] = error
        write_json(self.file("summary.json"), summary)
