"""The reader of a run folder: every tool that reads a run asks a :class:`RunRecord`.

:class:`training.run_folder.RunFolder` writes ``<save_path>/<dataset>/<savename>/``; a
``RunRecord`` reads it, and never writes (a run on a read-only file system can be read whole):

* ``config.json``: :attr:`RunRecord.config`, :attr:`~RunRecord.flags`, :attr:`~RunRecord.data`
  (the data identity), :attr:`~RunRecord.world_size`;
* ``summary.json``: :attr:`~RunRecord.summary`, :attr:`~RunRecord.status`,
  :attr:`~RunRecord.epochs_done`, :attr:`~RunRecord.best_epoch`;
* ``metrics.csv`` / ``train.csv``: :meth:`~RunRecord.metric_rows`, :meth:`~RunRecord.train_rows`;
* the checkpoints: :meth:`~RunRecord.checkpoint`, :meth:`~RunRecord.restore_model`.

The identity of a run is decided here too. Two runs are *the same configuration* when their
result-relevant flags (every flag except :data:`RESULT_NEUTRAL_KEYS`: where the run was saved,
how it was launched, logging, plotting, the seed and group) are equal, their world sizes are
equal, and they trained on the same data (the data fingerprint of ``config.json``): runs on
different data are never the same configuration. Two runs of one configuration with one seed are
*the same run* (copies of one folder, or a repeat).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
from typing import Any

from training.checkpoint import CheckpointError, load_checkpoint
from utilities.csv_rows import as_float, read_csv_rows

# Flags that never change a run's results (besides the seed and group, which identify it anyway).
RESULT_NEUTRAL_KEYS = frozenset({
    "seed", "savename", "save_path", "source_path", "argv", "resume", "kernels", "device", "gpu",
    "log_online", "wandb_key", "comet_api_key", "project", "group", "config", "evaluate_on_gpu", "list",
    "plot_embeddings", "plot_retrievals", "print_config",
})
STATUSES = ("completed", "running", "failed")


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (locked, not a run, damaged); one line."""


def result_neutral(key: str) -> bool:
    """Whether the flag ``key`` may differ between copies or seeds of one configuration."""
    return key in RESULT_NEUTRAL_KEYS or key.startswith("plot_")


def configuration_key(flags: dict[str, Any], data_fingerprint: str | None = None) -> str:
    """SHA-1 (12 hex digits) of the result-relevant flags and the data fingerprint: equal for two
    runs exactly when they are the same configuration (seed apart)."""
    kept = {k: v for k, v in flags.items() if not result_neutral(k)}
    if data_fingerprint:
        kept = {**kept, "\0data": data_fingerprint}     # "\0": never a flag name
    return hashlib.sha1(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:12]


def configuration_differences(saved: dict[str, Any], wanted: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Result-relevant flags whose values differ: ``key -> (saved, wanted)`` (compared as JSON)."""
    def plain(value: Any) -> Any:
        return json.loads(json.dumps(value, default=str))
    keys = sorted(k for k in set(saved) | set(wanted) if not result_neutral(k))
    return {k: (saved.get(k, "<missing>"), wanted.get(k, "<missing>")) for k in keys
            if plain(saved.get(k, "<missing>")) != plain(wanted.get(k, "<missing>"))}


#: What a checkpoint's config must name to rebuild its network.
REQUIRED_CONFIG = ("dataset", "arch", "embed_dim")


class RunRecord:
    """One run folder, read (lazily; each file once). Nothing is written.

    ``RunRecord(path)`` never fails; :attr:`config` raises :class:`RunFolderError` (one line)
    when the folder holds no readable ``config.json``, and :meth:`readable` says whether it does."""

    def __init__(self, path: str):
        self.path = path
        self._config: dict[str, Any] | None = None
        self._summary: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"RunRecord({self.path!r})"

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    @staticmethod
    def holds_run(path: str) -> bool:
        """Whether ``path`` looks like a run folder (it holds ``config.json`` or ``summary.json``)."""
        return os.path.isfile(os.path.join(path, "config.json")) or os.path.isfile(os.path.join(path, "summary.json"))

    # ---- config.json ---------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """``config.json``; :class:`RunFolderError` if missing, damaged or not a run config."""
        if self._config is None:
            file = self.file("config.json")
            if not os.path.isfile(file):
                raise RunFolderError(f"{self.path} is not a run folder (no config.json)")
            try:
                with open(file, encoding="utf-8") as fh:
                    config = json.load(fh)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise RunFolderError(f"{file} is not valid JSON ({' '.join(str(err).split())})") from None
            except OSError as err:
                raise RunFolderError(f"cannot read {file}: {err.strerror}") from None
            if not isinstance(config, dict) or not isinstance(config.get("flags"), dict):
                raise RunFolderError(f'{file} has no "flags" mapping (not a dmlbench run config)')
            for key, kind, words in (("resumes", list, "a list"), ("data", dict, "a mapping")):
                if key in config and not isinstance(config[key], kind):
                    raise RunFolderError(f'{file}: "{key}" must be {words}, got {type(config[key]).__name__}')
            self._config = config
        return self._config

    def readable(self) -> bool:
        try:
            self.config
        except RunFolderError:
            return False
        return True

    @property
    def flags(self) -> dict[str, Any]:
        """Every resolved flag; a run of several torchrun processes also carries ``world_size``
        (its results depend on it: each rank mines its own slice of the batch)."""
        flags = dict(self.config["flags"])
        if self.world_size > 1:
            flags["world_size"] = self.world_size
        return flags

    @property
    def world_size(self) -> int:
        world = self.config.get("world_size")
        return world if isinstance(world, int) and not isinstance(world, bool) and world > 0 else 1

    @property
    def data(self) -> dict[str, Any] | None:
        """The data identity ``{"source", "fingerprint"}`` (``None`` for a run that never saved it)."""
        data = self.config.get("data")
        return data if isinstance(data, dict) else None

    @property
    def data_fingerprint(self) -> str | None:
        return str(self.data["fingerprint"]) if self.data and self.data.get("fingerprint") else None

    @property
    def seed(self) -> int | None:
        seed = self.config["flags"].get("seed")
        return int(seed) if isinstance(seed, (int, float)) and not isinstance(seed, bool) else None

    # ---- identity --------------------------------------------------------------------------
    def configuration(self) -> str:
        """The configuration key (:func:`configuration_key`): equal for the seeds of one configuration."""
        return configuration_key(self.flags, self.data_fingerprint)

    def same_configuration(self, other: "RunRecord") -> bool:
        return self.configuration() == other.configuration()

    def same_run(self, other: "RunRecord") -> bool:
        """The same configuration and the same seed: copies (or repeats) of one run."""
        return self.same_configuration(other) and self.seed == other.seed

    # ---- summary.json ----------------------------------------------------------------------
    @property
    def summary(self) -> dict[str, Any]:
        """``summary.json`` (``{}`` when missing or unreadable)."""
        if self._summary is None:
            try:
                with open(self.file("summary.json"), encoding="utf-8") as fh:
                    summary = json.load(fh)
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                summary = {}
            self._summary = summary if isinstance(summary, dict) else {}
        return self._summary

    def read_summary(self) -> dict[str, Any]:
        """``summary.json``; ``ValueError`` / ``OSError`` if it is missing or damaged (for callers
        that must tell a damaged run from one that never wrote its summary)."""
        with open(self.file("summary.json"), encoding="utf-8") as fh:
            summary = json.load(fh)
        if not isinstance(summary, dict):
            raise ValueError("not a JSON object")
        self._summary = summary
        return summary

    @property
    def status(self) -> str | None:
        """``running``, ``completed``, ``failed``, or ``None`` (no readable summary)."""
        status = self.summary.get("status")
        return status if status in STATUSES else None

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    @property
    def stopped_early(self) -> bool:
        """Completed by ``--patience`` before its ``--n_epochs``."""
        return bool(self.summary.get("stopped_early"))

    @property
    def resumable(self) -> bool:
        """Killed (``running``, or no summary yet) or stopped by a signal: ``--resume`` continues it."""
        return self.status in ("running", None) or bool(self.summary.get("interrupted"))

    @property
    def best_epoch(self) -> int | None:
        return self.summary.get("best_epoch")

    @property
    def epochs_done(self) -> int | None:
        """``epochs_done`` of ``summary.json``; without it, the last epoch of ``train.csv``."""
        done = self.summary.get("epochs_done")
        if isinstance(done, int) and not isinstance(done, bool):
            return done
        try:
            return max((int(float(row["epoch"])) for row in self.train_rows()), default=None)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # ---- the CSV files ---------------------------------------------------------------------
    def train_rows(self) -> list[dict[str, Any]]:
        """``train.csv`` as rows of strings (``[]`` when missing)."""
        return read_csv_rows(self.file("train.csv"))

    def metric_rows(self, typed: bool = True) -> list[dict[str, Any]]:
        """``metrics.csv`` as rows of ``{"epoch": int, "split": str, <metric>: float}`` (with
        ``typed=False``, every cell as the file holds it); ``[]`` when missing."""
        if not typed:
            return read_csv_rows(self.file("metrics.csv"))
        rows = []
        for raw in read_csv_rows(self.file("metrics.csv")):
            row: dict[str, Any] = {"epoch": int(float(raw["epoch"])), "split": raw["split"]}
            row.update({k: as_float(v) for k, v in raw.items() if k not in ("epoch", "split") and k})
            rows.append(row)
        return rows

    def selected_value(self, metric: str, split: str = "val") -> float:
        """``metric`` on ``split`` at the epoch the run's ``--selection`` picked (NaN if absent)."""
        for row in self.metric_rows():
            if row["split"] == split and row["epoch"] == self.best_epoch:
                return row.get(metric, float("nan"))
        return float("nan")

    # ---- checkpoints -----------------------------------------------------------------------
    def checkpoint(self, name: str = "checkpoint_best.pt") -> str:
        return self.file(name)

    def has_checkpoint(self, name: str = "checkpoint_last.pt") -> bool:
        return os.path.isfile(self.checkpoint(name))

    def restore_model(self, checkpoint: str = "checkpoint_best.pt", *, dataset: str | None = None,
                      source_path: str | None = None, split: str = "test",
                      device: str = "cpu", defaults: dict[str, Any] | None = None,
                      parser: argparse.ArgumentParser | None = None,
                      ) -> tuple[Any, Any, argparse.Namespace]:
        """The model of ``checkpoint`` (a file of this folder), weights loaded and on
        ``device``, the ``split`` dataset it is evaluated on, and its flags (the checkpoint's
        ``config``, with ``dataset`` / ``source_path`` overridden when given; ``defaults`` fill in
        flags that a checkpoint of an older version lacks). With ``parser``, the saved flags are
        checked as strictly as typed ones (:func:`utilities.config_file.check_saved_flags`).

        Raises :class:`CheckpointError` (an unreadable checkpoint, weights that do not fit) or
        :class:`RunFolderError` (data that cannot be read); both one line naming the file."""
        import architectures
        import datasets
        path = self.checkpoint(checkpoint)
        state = load_checkpoint(path, required=("config", "model"))
        if not isinstance(state["config"], dict) or not isinstance(state["model"], dict):
            raise CheckpointError(f"{path}: not a dmlbench checkpoint (needs 'config' and 'model')")
        config = state["config"]
        if parser is not None:
            from utilities.config_file import check_saved_flags
            try:
                config = check_saved_flags(config, parser, f"{path}: config")
            except ValueError as err:
                raise CheckpointError(str(err)) from None
        missing = [key for key in REQUIRED_CONFIG if key not in config]
        if missing:     # the defaults would build some other network
            raise CheckpointError(f"{path}: its config lacks {', '.join(missing)} (not a dmlbench run's checkpoint)")
        flags = {**(defaults or {}), **config}
        if dataset:
            if dataset != flags["dataset"]:
                flags.update(datasets.DATASETS.get(dataset).preset)
            flags["dataset"] = dataset
        if source_path:
            flags["source_path"] = source_path
        flags.update(not_pretrained=True, device=device)
        opt = argparse.Namespace(**flags)
        source_cls = datasets.DATASETS.get(opt.dataset)
        problem = source_cls.needs_source and source_cls.check_source(opt.source_path)
        if problem:
            raise RunFolderError(f"--source: {problem}")
        data = datasets.select(opt)
        if split not in data:
            raise RunFolderError(f"--split {split}: the dataset has only {', '.join(sorted(data))}")
        model = architectures.select(opt, in_channels=datasets.channels(data[split]))
        try:
            model.load_state_dict(state["model"])
        except RuntimeError as err:
            first = (str(err).strip().splitlines() or ["no message"])[0]
            raise CheckpointError(f"{path}: its weights do not fit the architecture ({first})") from None
        return model.to(device), data[split], opt
