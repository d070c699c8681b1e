"""Reality_Check_Studies.py --launcher slurm on a real single-node SLURM 22.05 cluster (no GPUs,
no job accounting) with its trials in a real PostgreSQL server; tiny glyphs fold runs."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT
from servers import postgres_server, slurm, slurm_server  # noqa: F401  (fixtures)

sys.path.insert(0, os.path.join(ROOT, "tests", "studies"))
from test_study_driver import study_argv, trials_of  # noqa: E402

SLURM_FLAGS = ["--launcher", "slurm", "--slurm_gpus", "0", "--slurm_cpus", "1", "--slurm_time", "30"]


def queue() -> list[tuple[str, str, str]]:
    """(job id, name, state) of this user's jobs."""
    out = subprocess.run(["squeue", "--me", "-h", "-o", "%i %j %T"], capture_output=True, text=True, timeout=60)
    return [tuple(line.split()) for line in out.stdout.splitlines() if line.strip()]


def wait_for(check, timeout_s: float = 240.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("the condition was not met in time")


@pytest.fixture
def fast_poll(monkeypatch):
    import studies.launch
    monkeypatch.setattr(studies.launch, "POLL_S", 0.5, raising=False)


def with_flags(study, *flags, trials="1"):
    argv = study_argv(study, trials=trials)
    i = argv.index("--")
    return argv[:i] + list(flags) + argv[i:]


@pytest.mark.slow
@pytest.mark.parametrize("flags, message", [
    (["--slurm_gpus", "1"], "sbatch: error: Invalid generic resource (gres) specification"),
    (["--slurm_gpus", "0", "--slurm_partition", "nosuchpartition"], "invalid partition"),
])
def test_a_job_sbatch_refuses_is_one_line_exit_2_nothing_submitted(slurm, tmp_path, capsys, flags, message):
    from studies.cli import main
    code = main(with_flags(tmp_path / "s", "--launcher", "slurm", *flags))
    err = capsys.readouterr().err.strip()
    assert code == 2 and message.lower() in err.lower(), err
    assert "\n" not in err and "SLURM refuses the worker job" in err
    assert not os.path.exists(tmp_path / "s") and queue() == []


@pytest.mark.slow
def test_study_on_slurm_and_postgres_in_a_path_with_a_space(slurm, postgres_server, tmp_path, capfd, fast_poll,
                                                            monkeypatch):
    """The job script quotes the checkout and study paths (the checkout seen through a link whose
    name has a space); no job accounting: no sacct warnings; the study's name in the shared
    database names its folder and method."""
    import optuna
    import studies.launch
    from studies.cli import main
    checkout = tmp_path / "check out"
    checkout.symlink_to(ROOT)
    monkeypatch.setattr(studies.launch, "ROOT", str(checkout))
    study = tmp_path / "with space" / "s"
    assert main(with_flags(study, *SLURM_FLAGS, "--storage", postgres_server.url)) == 0
    out, err = capfd.readouterr()
    assert "sacct" not in out + err, err        # no "Bypassing sacct error" warnings
    assert [r["state"] for r in trials_of(study)] == ["COMPLETE"]
    names = [s.study_name for s in optuna.get_all_study_summaries(postgres_server.url)]
    assert f"triplet@{study}" in names


def cancel_when(condition, blocker: str | None = None) -> threading.Thread:
    """In the background: once ``condition()`` names a job, scancel it (then the blocker job)."""
    def act():
        job = wait_for(condition)
        subprocess.run(["scancel", job], check=True, timeout=60)
        if blocker:
            subprocess.run(["scancel", blocker], check=True, timeout=60)
    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def worker_job(state: str):
    return lambda: next((i for i, name, s in queue() if name == "dmlbench-study" and s == state), None)


@pytest.mark.slow
def test_a_worker_cancelled_while_pending_is_submitted_again(slurm, tmp_path, capfd, fast_poll):
    from studies.cli import main
    blocker = subprocess.run(["sbatch", "--parsable", "-J", "blocker", "-c", str(os.cpu_count()), "-o", os.devnull,
                              "--wrap", "sleep 600"], capture_output=True, text=True, check=True).stdout.strip()
    wait_for(lambda: ("blocker", "RUNNING") in [(n, s) for _, n, s in queue()])
    thread = cancel_when(worker_job("PENDING"), blocker)
    study = tmp_path / "s"
    assert main(with_flags(study, *SLURM_FLAGS)) == 0
    thread.join(timeout=5)
    assert "ended without a result" in capfd.readouterr().err
    assert [r["state"] for r in trials_of(study)] == ["COMPLETE"]


@pytest.mark.slow
def test_a_worker_cancelled_while_running_is_submitted_again_and_the_budget_is_met(slurm, tmp_path, capfd,
                                                                                   fast_poll):
    from studies.cli import main
    study = tmp_path / "s"
    # cancelled as soon as SLURM says it runs; 4-epoch fold runs keep the job busy long enough for the
    # cancel to land before its trial ends, even on a loaded machine (1-epoch runs sometimes finished first)
    thread = cancel_when(worker_job("RUNNING"))
    assert main(with_flags(study, *SLURM_FLAGS) + ["--n_epochs", "4"]) == 0
    thread.join(timeout=5)
    assert "ended without a result" in capfd.readouterr().err
    states = [r["state"] for r in trials_of(study)]
    assert states.count("COMPLETE") == 1
