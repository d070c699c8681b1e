"""bench/pixel_baseline.py reports, for the learned embeddings, exactly the run's own last test row
(it re-clustered with another k-means seed: NMI 0.7136 against the run's 0.7244), and names the run
in full."""
from __future__ import annotations

import csv
import importlib.util
import os

import pytest

from conftest import ROOT, TINY_GLYPHS


@pytest.mark.slow
def test_learned_row_is_the_runs_own_test_row(tmp_path, capsys):
    import main
    name = "a_rather_long_run_name_for_the_pixel_baseline"
    assert main.main(TINY_GLYPHS + ["--n_epochs", "1", "--seed", "3", "--save_path", str(tmp_path),
                                    "--savename", name]) == 0
    folder = os.path.join(str(tmp_path), "glyphs", name)
    spec = importlib.util.spec_from_file_location("pixel_baseline", os.path.join(ROOT, "bench", "pixel_baseline.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    capsys.readouterr()
    bench.run(folder)
    out = capsys.readouterr().out
    assert f"run: {folder}" in out
    learned = next(line for line in out.splitlines() if line.startswith("learned")).split()
    with open(os.path.join(folder, "metrics.csv")) as fh:
        test = [r for r in csv.DictReader(fh) if r["split"] == "test"][-1]
    assert float(learned[1]) == pytest.approx(float(test["e_recall@1"]), abs=5e-5)
    assert float(learned[2]) == pytest.approx(float(test["nmi"]), abs=5e-5)
