"""bench/gpu_check.py runs its whole logic on the CPU (tiny sizes, DDP on gloo) and prints its table."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
def test_gpu_check_on_the_cpu_passes_and_prints_the_table():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gpu_check.py"), "--device", "cpu"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for line in ("train ", "knn+kmeans cpu == cpu", "ddp 1 process (gloo)", "training step + data loader",
                 "all checks passed"):
        assert line in proc.stdout
    assert "SKIP" in proc.stdout and "CUDA-only" in proc.stdout     # --amp skipped, with its reason
