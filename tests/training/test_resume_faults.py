"""Every kill resumable, a refused resume damages nothing, schedules and data survive a resume,
one process per run folder, and signals recorded as interruptions."""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

import main
from conftest import ROOT, TINY_GLYPHS
from tests.training.test_faults import KILLABLE, folder_of, read_rows, spawn
from training.interrupts import RunInterrupted
from training.run_folder import RunFolder


def argv_of(tmp_path, name: str, epochs: int = 2, *extra: str) -> list[str]:
    return TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", name, "--n_epochs", str(epochs),
                          "--no_train_metrics", *extra]


def snapshot(folder: str) -> dict[str, bytes]:
    """Every file of a run folder (the lock file aside), by content."""
    return {name: open(os.path.join(folder, name), "rb").read() for name in sorted(os.listdir(folder))
            if name != ".lock"}


def without_time(path: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "time_s"} for row in read_rows(path)]


def summary(folder: str) -> dict:
    return json.load(open(os.path.join(folder, "summary.json")))


def test_run_stopped_in_epoch_1_resumes_from_scratch(tmp_path, monkeypatch, capsys):
    """Item 1: no checkpoint yet. --resume starts again from epoch 0; a plain re-run names --resume."""
    assert main.main(argv_of(tmp_path / "s", "r")) == 0

    def stop(*args, **kwargs):
        raise RunInterrupted(signal.SIGINT)
    cut = argv_of(tmp_path / "k", "r")
    folder = folder_of(cut)
    real = main.train_epoch
    monkeypatch.setattr(main, "train_epoch", stop)
    assert main.main(cut) == 130
    state = summary(folder)
    assert state["status"] == "failed" and state["interrupted"] == "SIGINT" and state["epochs_done"] == 0
    assert "--resume" in state["error"] and not os.path.exists(os.path.join(folder, "checkpoint_last.pt"))
    monkeypatch.setattr(main, "train_epoch", real)
    with pytest.raises(SystemExit) as exc:
        main.main(cut)
    assert exc.value.code == 2 and "--resume" in capsys.readouterr().err
    assert main.main(cut + ["--resume", folder]) == 0
    assert read_rows(os.path.join(folder, "metrics.csv")) == read_rows(os.path.join(folder_of(argv_of(tmp_path / "s", "r")), "metrics.csv"))
    assert summary(folder)["status"] == "completed"


def test_refused_or_failed_resume_leaves_a_completed_run_as_it_was(tmp_path, capsys):
    """Item 3: a bad flag, a corrupt checkpoint, a shorter --n_epochs, or nothing to do."""
    argv = argv_of(tmp_path, "r")
    folder = folder_of(argv)
    assert main.main(argv) == 0
    before = snapshot(folder)
    for extra, code, says in ((["--lr", "0.5"], 2, "cannot change when a run is resumed"), (["--n_epochs", "1"], 2, "below the 2 epochs"),
                              ([], 0, "nothing to do")):
        try:
            got = main.main(argv + ["--resume", folder] + extra)
        except SystemExit as exc:
            got = exc.code
        out = capsys.readouterr()
        assert got == code and says in out.err + out.out, (extra, out.err)
        assert snapshot(folder) == before, extra
    checkpoint = os.path.join(folder, "checkpoint_last.pt")
    with open(checkpoint, "r+b") as fh:
        fh.truncate(100)
    damaged = snapshot(folder)
    with pytest.raises(SystemExit) as exc:
        main.main(argv + ["--resume", folder, "--n_epochs", "3"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and "checkpoint_last.pt" in err
    assert snapshot(folder) == damaged and summary(folder)["status"] == "completed"


def test_resume_of_a_folder_that_is_not_a_run_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{not json")
    for folder, says in ((tmp_path / "empty", "not a run folder"), (tmp_path / "bad", "config.json")):
        with pytest.raises(SystemExit) as exc:
            main.main(argv_of(tmp_path, "x") + ["--resume", str(folder)])
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and err.count("\n") == 0 and says in err


def test_extending_a_cosine_run_follows_the_schedule_of_the_new_length(tmp_path):
    """Item 4: 3 cosine epochs resumed to 6 get the 6-epoch schedule from epoch 4 on."""
    short = argv_of(tmp_path / "x", "r", 3, "--scheduler", "cosine")
    folder = folder_of(short)
    assert main.main(short) == 0
    assert main.main(short + ["--resume", folder, "--n_epochs", "6"]) == 0
    assert main.main(argv_of(tmp_path / "s", "r", 6, "--scheduler", "cosine")) == 0
    straight = read_rows(os.path.join(folder_of(argv_of(tmp_path / "s", "r")), "train.csv"))
    extended = read_rows(os.path.join(folder, "train.csv"))
    assert [r["lr"] for r in extended[3:]] == [r["lr"] for r in straight[3:]]
    assert all(float(r["lr"]) > 0 for r in extended)
    config = json.load(open(os.path.join(folder, "config.json")))
    assert config["flags"]["n_epochs"] == 6 and config["resumes"] == [{"after_epoch": 3, "changed": ["n_epochs"]}]


def test_resume_on_other_data_is_refused(tmp_path, capsys):
    """Item 5: the source and a fingerprint of the split tables are part of what --resume checks."""
    from tests.datasets.fixture_trees import class_tree
    for name, per_class in (("a", 3), ("b", 4)):
        class_tree(str(tmp_path / name), [f"c{i}" for i in range(6)], per_class=per_class)
    common = ["--dataset", "folder", "--arch", "convnet_normalize", "--embed_dim", "8", "--arch_convnet_width", "4",
              "--bs", "4", "--samples_per_class", "2", "--kernels", "0", "--device", "cpu", "--n_epochs", "1",
              "--evaluation_metrics", "e_recall@1", "--no_train_metrics", "--not_pretrained",
              "--save_path", str(tmp_path / "runs"), "--savename", "r"]
    assert main.main(common + ["--source", str(tmp_path / "a")]) == 0
    folder = str(tmp_path / "runs" / "folder" / "r")
    before = snapshot(folder)
    with pytest.raises(SystemExit) as exc:
        main.main(common + ["--source", str(tmp_path / "b"), "--resume", folder, "--n_epochs", "2"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "data differ" in err and snapshot(folder) == before


def test_deleted_log_files_are_rebuilt_on_resume(tmp_path):
    """Item 5: train.csv and metrics.csv lost before a resume come back from the checkpoint."""
    argv = argv_of(tmp_path / "k", "r", 2)
    folder = folder_of(argv)
    assert main.main(argv) == 0
    os.unlink(os.path.join(folder, "train.csv"))
    os.unlink(os.path.join(folder, "metrics.csv"))
    assert main.main(argv + ["--resume", folder, "--n_epochs", "3"]) == 0
    straight = folder_of(argv_of(tmp_path / "s", "r"))
    assert main.main(argv_of(tmp_path / "s", "r", 3)) == 0
    assert read_rows(os.path.join(folder, "metrics.csv")) == read_rows(os.path.join(straight, "metrics.csv"))
    assert without_time(os.path.join(folder, "train.csv")) == without_time(os.path.join(straight, "train.csv"))
    assert summary(folder)["epochs_done"] == 3


def test_a_run_folder_in_use_is_refused(tmp_path, capsys):
    """Item 13: the lock held by one process keeps a second one (resume or new run) out."""
    argv = argv_of(tmp_path, "r", 1)
    folder = folder_of(argv)
    assert main.main(argv) == 0
    holder = RunFolder(folder)
    holder.lock()
    try:
        for attempt in (argv + ["--resume", folder, "--n_epochs", "2"], argv_of(tmp_path, "r", 1)):
            with pytest.raises(SystemExit) as exc:
                main.main(attempt)
            err = capsys.readouterr().err
            assert exc.value.code == 2 and ("in use by another process" in err or "already holds a run" in err)
        fresh = tmp_path / "glyphs" / "fresh"
        fresh.mkdir()
        other = RunFolder(str(fresh))
        other.lock()
        with pytest.raises(SystemExit) as exc:
            main.main(argv_of(tmp_path, "fresh", 1))
        assert exc.value.code == 2 and "in use by another process" in capsys.readouterr().err
        other.unlock()
    finally:
        holder.unlock()


def test_forked_children_do_not_keep_the_lock(tmp_path):
    """A run's DataLoader workers are forked: they must not hold its lock once the run is gone
    (else a run killed with SIGKILL stays locked until its workers notice and exit)."""
    folder = tmp_path / "run"
    folder.mkdir()
    owner = RunFolder(str(folder))
    owner.lock()
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:                      # a stand-in for a worker: lives on after the owner lets go
        os.write(ready_w, b"1")         # (the fork hooks have run once the child's code runs)
        time.sleep(3)
        os._exit(0)
    try:
        os.read(ready_r, 1)
        owner.unlock()
        other = RunFolder(str(folder))
        other.lock()                    # would fail while the child kept a copy of the lock
        other.unlock()
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def test_failure_before_training_removes_the_new_folder(tmp_path, monkeypatch, capsys):
    """A new run that fails while its data are built leaves no folder, so its name can be reused."""
    import datasets

    def broken(opt):
        raise ValueError("--source: something is wrong with the data")
    monkeypatch.setattr(datasets, "select", broken)
    argv = argv_of(tmp_path, "r", 1)
    with pytest.raises(SystemExit) as exc:
        main.main(argv)
    assert exc.value.code == 2 and not os.path.exists(folder_of(argv))
    monkeypatch.undo()
    assert main.main(argv) == 0


@pytest.mark.slow
def test_sigint_with_workers_stops_the_run_and_says_so(tmp_path):
    """Item 14: SIGINT with --kernels 2 is never swallowed; the summary says it was interrupted."""
    argv = KILLABLE + ["--save_path", str(tmp_path), "--savename", "r", "--n_epochs", "40", "--kernels", "2"]
    argv[argv.index("--kernels") + 1] = "2"
    folder = folder_of(argv)
    proc = spawn(argv)
    deadline = time.time() + 90
    while time.time() < deadline and not (os.path.exists(os.path.join(folder, "summary.json"))
                                          and summary(folder)["epochs_done"] >= 1):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=90)
    state = summary(folder)
    assert proc.returncode == 130, err.decode()[-500:]
    assert state["interrupted"] == "SIGINT" and state["status"] == "failed" and state["epochs_done"] >= 1
    assert main.main(argv[:argv.index("--n_epochs")] + ["--n_epochs", str(state["epochs_done"] + 1)]
                     + argv[argv.index("--n_epochs") + 2:] + ["--resume", folder]) == 0
    assert summary(folder)["status"] == "completed"


STUB = """#!/usr/bin/env bash
# Stands in for "python main.py ...": records SIGTERM, else sleeps.
trap 'kill $! 2>/dev/null; echo term >> "$MARKS"; exit 143' TERM
echo started >> "$MARKS"
sleep 60 & wait
"""


@pytest.mark.slow
def test_sigterm_to_revisit_runs_stops_its_runs(tmp_path):
    """Item 13: the sweep driver passes SIGTERM on to every run it started, then exits."""
    stub = tmp_path / "python"
    stub.write_text(STUB)
    stub.chmod(0o755)
    marks = tmp_path / "marks"
    env = dict(os.environ, PYTHON=str(stub), MARKS=str(marks))
    driver = subprocess.Popen(["bash", os.path.join(ROOT, "Revisit_Runs.sh"), "glyphs", "--jobs", "2", "--seeds", "0",
                               "--save_path", str(tmp_path / "runs")], cwd=str(tmp_path), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline and (not marks.exists() or marks.read_text().count("started") < 2):
        time.sleep(0.05)
    driver.send_signal(signal.SIGTERM)
    driver.communicate(timeout=30)
    assert driver.returncode == 143
    assert marks.read_text().count("term") == 2
    listing = subprocess.run(["ps", "-o", "stat=,cmd=", "-g", str(driver.pid)], capture_output=True, text=True).stdout
    alive = [line for line in listing.splitlines() if line.strip() and not line.strip().startswith("Z")]
    assert alive == []            # (killed children may linger as zombies where PID 1 does not reap)


def fault_prelude(event: str, count: int) -> str:
    """Code run in the child before main: SIGKILL itself at the ``count``-th ``event``."""
    return f"""
import os, signal
import main, training.checkpoint as ck, utilities.atomic as atomic
seen = {{"n": 0}}
def hit():
    seen["n"] += 1
    if seen["n"] == {count}:
        os.kill(os.getpid(), signal.SIGKILL)
def wrap(module, name, before=True):
    real = getattr(module, name)
    def patched(*a, **k):
        if before:
            hit()
        return real(*a, **k)
    setattr(module, name, patched)
if {event!r} == "epoch":
    wrap(main, "train_epoch")
elif {event!r} == "evaluation":
    wrap(main, "evaluate_splits")
elif {event!r} == "checkpoint":
    real_write = atomic.atomic_write
    def half_write(path, write, binary=False):
        if path.endswith(".pt"):
            seen["n"] += 1
            if seen["n"] == {count}:
                import io
                buf = io.BytesIO(); write(buf)
                with open(path + ".partial", "wb") as fh:
                    fh.write(buf.getvalue()[: len(buf.getvalue()) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
        return real_write(path, write, binary)
    atomic.atomic_write = half_write
"""


@pytest.mark.slow
@pytest.mark.parametrize("kernels", ["0", "2"])
def test_kills_at_any_moment_resume_to_the_straight_run(tmp_path, kernels):
    """Fault injection: SIGKILL in epoch 1, in an evaluation, during a checkpoint write, and at
    random moments; each killed run is resumed until it completes, and its metrics.csv is the
    straight run's, byte for byte."""
    base = TINY_GLYPHS + ["--n_epochs", "3", "--no_train_metrics"]
    base[base.index("--kernels") + 1] = kernels
    straight = base + ["--save_path", str(tmp_path / "straight"), "--savename", "r"]
    assert spawn(straight).wait() == 0
    expected = open(os.path.join(folder_of(straight), "metrics.csv"), "rb").read()
    rng = random.Random(int(kernels))
    faults = [("epoch", 1), ("epoch", 2), ("evaluation", 1), ("evaluation", 3), ("checkpoint", 1),
              ("checkpoint", 3)] + [("time", rng.uniform(1.0, 6.0)) for _ in range(2)]
    for i, (event, when) in enumerate(faults):
        argv = base + ["--save_path", str(tmp_path / f"k{i}"), "--savename", "r"]
        folder = folder_of(argv)
        if event == "time":
            proc = spawn(argv)
            time.sleep(when)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        else:
            assert spawn(argv, fault_prelude(event, when)).wait() == -signal.SIGKILL, (event, when)
        for _ in range(3):                 # resume until it completes (a resume can be killed too)
            started = os.path.exists(os.path.join(folder, "config.json"))
            code = spawn(argv + ["--resume", folder] if started else argv).wait()
            if code == 0 and summary(folder)["status"] == "completed":
                break
        assert open(os.path.join(folder, "metrics.csv"), "rb").read() == expected, (event, when)


def test_a_resume_that_fails_before_its_first_epoch_leaves_a_completed_run_as_it_was(tmp_path, monkeypatch, capsys):
    """``--resume RUN --n_epochs 3 --log_online`` without a W&B key is refused at parse time (it used
    to mark the run failed and rewrite config.json); a resume whose first epoch dies (workers that
    cannot start, no memory) changes no file of the finished run: it records itself only once
    the extension has trained an epoch."""
    argv = argv_of(tmp_path, "r", 1)
    folder = folder_of(argv)
    assert main.main(argv) == 0
    before = snapshot(folder)
    for name in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(name, raising=False)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main.main(["--resume", folder, "--n_epochs", "3", "--log_online"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and "--log_online: no W&B key" in err, err
    assert snapshot(folder) == before
    monkeypatch.setenv("WANDB_MODE", "disabled")

    def workers_die(*args, **kwargs):
        raise RuntimeError("DataLoader worker (pid 4242) exited unexpectedly")
    monkeypatch.setattr(main, "train_epoch", workers_die)
    with pytest.raises(RuntimeError):
        main.main(["--resume", folder, "--n_epochs", "3", "--eval_every", "2"])
    assert snapshot(folder) == before and summary(folder)["status"] == "completed"


def test_kernels_above_the_cores_are_capped_with_one_line(tmp_path, capsys):
    """``--kernels 1000`` used to start 1000 workers (killed for lack of memory, workers left behind)
    and be saved, so that every later resume died the same way."""
    import parameters
    cores = len(os.sched_getaffinity(0))
    opt = parameters.parse_args(argv_of(tmp_path, "r", 1, "--kernels", "1000"))
    err = capsys.readouterr().err.strip()
    assert opt.kernels == cores and "\n" not in err and f"--kernels 1000 is above the {cores} CPU core(s)" in err


def test_resume_refusals_name_every_allowed_flag_refuse_a_move_and_print_no_header_first(tmp_path, capsys):
    """--wandb_key is accepted with --resume, so the refusal's list names it; --savename and --save_path
    were silently ignored (yet shown under 'changed'); --n_epochs below the epochs trained printed
    the 10-line start-up header before its one-line error."""
    argv = argv_of(tmp_path, "r")
    folder = folder_of(argv)
    assert main.main(argv) == 0
    capsys.readouterr()
    before = snapshot(folder)
    for extra, says in ((["--lr", "0.5"], "--wandb_key"),
                        (["--savename", "elsewhere"], "a resumed run stays in its own folder, so --savename elsewhere"),
                        (["--save_path", str(tmp_path / "x")], "copy the folder to move the run"),
                        (["--n_epochs", "1"], "--n_epochs 1 is below the 2 epochs already trained")):
        with pytest.raises(SystemExit) as exc:
            main.main(["--resume", folder] + extra)
        out = capsys.readouterr()
        assert exc.value.code == 2 and says in out.err and out.err.count("\n") == 1, (extra, out.err)
        assert out.out == "", extra                                 # nothing printed before the error
        assert snapshot(folder) == before
