"""Smoke test of bench/startup.py (no timing assertions): one round of every command."""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_startup_bench_runs_and_prints_a_ratio_per_command():
    proc = subprocess.run([sys.executable, "bench/startup.py", "--repeats", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split("  ")[0].strip(): line.split() for line in proc.stdout.splitlines()[1:-1]}
    assert len(rows) == 4
    assert rows['python -c "import torch"'][-2:] == ["1.00", "0"]
    assert rows["python main.py --help"][-1] == "0" and rows["python main.py --list"][-1] == "0"
    assert rows["python main.py --n_epoch 3 (error)"][-1] == "2"          # an error, not a 3-epoch run
