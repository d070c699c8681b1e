"""Faults a user meets: kill -9 mid-epoch and mid-checkpoint, a full disk, a non-finite loss,
and bit-identical reruns on the CPU."""
from __future__ import annotations

import csv
import errno
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import criteria
import main
from criteria.margin import MarginLoss
from conftest import ROOT, TINY_GLYPHS

# Slower epochs than TINY_GLYPHS (more batches) so a kill can land inside one.
KILLABLE = TINY_GLYPHS + ["--glyphs_n_classes", "40", "--glyphs_samples", "16", "--no_train_metrics"]


def folder_of(argv):
    return os.path.join(argv[argv.index("--save_path") + 1], "glyphs", argv[argv.index("--savename") + 1])


def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def assert_readable(folder):
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.endswith(".csv"):
            read_rows(path)
        elif name.endswith(".json"):
            json.load(open(path))
        elif name.endswith(".pt"):
            torch.load(path, weights_only=False)


def spawn(argv, prelude=""):
    # Same thread count as this process, so float reductions match the in-process reference run.
    code = (f"import sys, torch; sys.path.insert(0, {ROOT!r}); torch.set_num_threads({torch.get_num_threads()})\n"
            f"{prelude}\nimport main; sys.exit(main.main({argv!r}))")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_kill_9_mid_epoch_then_resume_matches_uninterrupted(tmp_path):
    killed = KILLABLE + ["--save_path", str(tmp_path / "k"), "--savename", "r", "--n_epochs", "4"]
    proc = spawn(killed)
    folder = folder_of(killed)
    deadline = time.time() + 60
    summary_path = os.path.join(folder, "summary.json")
    while time.time() < deadline:      # wait until epoch 2 is done, then kill inside epoch 3
        if os.path.exists(summary_path) and json.load(open(summary_path))["epochs_done"] >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert_readable(folder)
    summary = json.load(open(os.path.join(folder, "summary.json")))
    assert summary["status"] == "running" and summary["epochs_done"] in (2, 3)
    assert main.main(killed + ["--resume", folder]) == 0
    straight = KILLABLE + ["--save_path", str(tmp_path / "s"), "--savename", "r", "--n_epochs", "4"]
    main.main(straight)
    assert read_rows(os.path.join(folder, "metrics.csv")) == read_rows(os.path.join(folder_of(straight), "metrics.csv"))
    assert json.load(open(os.path.join(folder, "summary.json")))["status"] == "completed"


@pytest.mark.slow
def test_kill_9_during_checkpoint_write_keeps_previous_checkpoint(tmp_path):
    argv = TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", "c", "--n_epochs", "3", "--no_train_metrics"]
    # On the second write of checkpoint_last.pt: write half of the bytes, then die.
    prelude = (
        "import os, signal, utilities.atomic as A\n"
        "orig = A.atomic_write; seen = []\n"
        "def dying(path, write, binary=False):\n"
        "    if path.endswith('checkpoint_last.pt'):\n"
        "        seen.append(path)\n"
        "        if len(seen) == 2:\n"
        "            import io; buf = io.BytesIO(); write(buf); data = buf.getvalue()\n"
        "            with open(os.path.join(os.path.dirname(path), '.tmp_ckpt'), 'wb') as fh: fh.write(data[: len(data) // 2])\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return orig(path, write, binary)\n"
        "A.atomic_write = dying\n")
    proc = spawn(argv, prelude)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    folder = folder_of(argv)
    state = torch.load(os.path.join(folder, "checkpoint_last.pt"), weights_only=False)
    assert state["epoch"] == 1
    assert main.main(argv + ["--resume", folder]) == 0
    assert not [f for f in os.listdir(folder) if f.startswith(".tmp_")]
    assert json.load(open(os.path.join(folder, "summary.json")))["epochs_done"] == 3


def test_full_disk_gives_a_clear_error_and_no_completed_summary(tiny_argv, monkeypatch, capsys):
    import utilities.atomic as atomic
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > 6:               # the first epoch's files succeed, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    assert main.main(tiny_argv + ["--n_epochs", "3", "--no_train_metrics"]) == 1
    err = capsys.readouterr().err
    assert "cannot write the run folder" in err and "No space left" in err
    folder = folder_of(tiny_argv)
    assert_readable(folder)
    assert json.load(open(os.path.join(folder, "summary.json")))["status"] == "running"
    assert not [f for f in os.listdir(folder) if f.startswith(".tmp_")]


class NaNAfter(MarginLoss):
    """Margin loss that returns NaN on every 3rd call (test only)."""

    calls = 0

    def forward(self, embeddings, labels, indices_tuple=None):
        NaNAfter.calls += 1
        loss = super().forward(embeddings, labels, indices_tuple)
        return loss * float("nan") if NaNAfter.calls % 3 == 0 else loss


@pytest.fixture
def nan_loss():
    NaNAfter.calls = 0
    criteria.LOSSES.register("test_nan_every_3rd")(NaNAfter)
    yield "test_nan_every_3rd"
    del criteria.LOSSES._entries["test_nan_every_3rd"]


def test_nonfinite_loss_stops_the_run_and_keeps_the_checkpoint(tiny_argv, nan_loss, capsys):
    # 4 batches per epoch: calls 1, 2 fine, call 3 (epoch 1, iteration 2) is NaN
    assert main.main(tiny_argv + ["--loss", nan_loss, "--n_epochs", "2"]) == 1
    assert "epoch 1, iteration 2" in capsys.readouterr().err
    summary = json.load(open(os.path.join(folder_of(tiny_argv), "summary.json")))
    assert summary["status"] == "failed" and "epoch 1, iteration 2" in summary["error"]


def test_skip_nonfinite_skips_and_counts(tiny_argv, nan_loss):
    assert main.main(tiny_argv + ["--loss", nan_loss, "--n_epochs", "2", "--skip_nonfinite", "10"]) == 0
    rows = read_rows(os.path.join(folder_of(tiny_argv), "train.csv"))
    assert [int(r["skipped_nonfinite"]) for r in rows] == [1, 1]


def test_same_seed_gives_bit_identical_metrics(tmp_path):
    runs = []
    for name in ("a", "b"):
        argv = TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", name, "--n_epochs", "2"]
        main.main(argv)
        with open(os.path.join(folder_of(argv), "metrics.csv"), "rb") as fh:
            runs.append(fh.read())
    assert runs[0] == runs[1]


def test_deterministic_flag_runs(tiny_argv):
    try:
        assert main.main(tiny_argv + ["--n_epochs", "1", "--deterministic", "--no_train_metrics"]) == 0
    finally:
        torch.use_deterministic_algorithms(False)


def test_samples_per_class_larger_than_smallest_class(tiny_argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main.main(tiny_argv + ["--glyphs_samples", "3", "--samples_per_class", "4", "--bs", "16"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == "main.py: error: --samples_per_class 4 is larger than the smallest training class (class 0 has 3 images)"


def test_samplers_without_k_accept_small_classes(tiny_argv):
    assert main.main(tiny_argv + ["--glyphs_samples", "3", "--samples_per_class", "4", "--bs", "16",
                                  "--data_sampler", "full_random", "--n_epochs", "1", "--no_train_metrics"]) == 0
