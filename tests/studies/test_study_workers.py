"""Local workers of a study (``--workers 2``): one killed with SIGKILL, and Ctrl-C on the study."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from test_study_driver import study_argv, trials_of


def worker_pids(study) -> list[int]:
    """The submitit worker processes (``submitit.core._submit``) of this study."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"submitit.core._submit" in cmd and any(str(study).encode() in part for part in cmd):
            pids.append(int(pid))
    return pids


def start(study, trials="3", **popen):
    cmd = [sys.executable, os.path.join(ROOT, "Reality_Check_Studies.py")] + study_argv(study, "--workers", "2",
                                                                                      trials=trials)
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def wait_for_trials(study, proc, timeout_s=300.0) -> list[int]:
    """Both workers alive and a fold run begun."""
    runs = study / "triplet" / "runs" / "glyphs"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        pids = worker_pids(study)
        if len(pids) == 2 and runs.exists() and os.listdir(runs):
            return pids
        time.sleep(0.2)
    raise AssertionError("the workers did not start")


@pytest.mark.slow
def test_a_killed_local_worker_is_started_again_and_the_budget_is_met(tmp_path):
    study = tmp_path / "s"
    proc = start(study)
    os.kill(wait_for_trials(study, proc)[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    assert "ended without a result" in err
    assert [r["state"] for r in trials_of(study)].count("COMPLETE") == 3


@pytest.mark.slow
def test_ctrl_c_on_a_two_worker_study_stops_the_workers_without_a_traceback(tmp_path):
    study = tmp_path / "s"
    proc = start(study, start_new_session=True)
    wait_for_trials(study, proc)
    os.killpg(proc.pid, signal.SIGINT)                # what Ctrl-C in a terminal does
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and "Traceback" not in err, err[-2000:]
    assert err.strip().splitlines()[-1].endswith("Rerun the same command to go on with the study.")
    deadline = time.monotonic() + 60
    while worker_pids(study) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker_pids(study) == []
