"""Smoke test of bench/losses.py (no timing assertions)."""
from __future__ import annotations

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_runs_and_prints_a_row_per_config(capsys):
    spec = importlib.util.spec_from_file_location("bench_losses", os.path.join(ROOT, "bench", "losses.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--losses", "triplet", "margin", "--batch_sizes", "8", "16", "--samples_per_class", "2",
                "--n_classes", "4", "--repeats", "1", "--dim", "8", "--no_memory"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(("triplet", "margin"))]
    assert len(rows) == 4
    assert any("skip" in line for line in out.splitlines() if line.startswith("margin"))   # 8 classes > C = 4
    assert all(float(r[4]) >= 0 for r in rows if "skip:" not in r)
    emb, labels = bench.make_batch(16, 2, 8, 32)
    assert bench.peak_mib(bench.build_loss("triplet", 8, 32), emb, labels) > 0
