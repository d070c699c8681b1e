"""Concatenated (fold-ensemble) evaluation, the SLURM submission, and the Reality Check table."""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from studies.reproductions import concatenated_metrics

NAMES = ["precision_at_1", "r_precision", "map_at_r"]


def test_concatenated_equals_metrics_of_concatenated_normalised_embeddings():
    import metrics
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 5)
    a, b = rng.normal(size=(30, 4)) * 3, rng.normal(size=(30, 4)) + labels[:, None]
    by_hand = np.concatenate([a / np.linalg.norm(a, axis=1, keepdims=True),
                              b / np.linalg.norm(b, axis=1, keepdims=True)], axis=1)
    expected = metrics.compute(by_hand, labels, NAMES)
    got = concatenated_metrics([a, b], labels, NAMES)
    assert got == pytest.approx({k: float(expected[k]) for k in NAMES})


def test_slurm_submission_carries_partition_gpus_time_and_extra(tmp_path, monkeypatch):
    import submitit
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 1))   # no cluster here
    from studies.launch import SlurmOptions, make_executor
    options = SlurmOptions(partition="gpu-long", gpus=2, cpus=12, time_min=90, mem="64G",
                           extra=["account=dml", "--qos=high"])
    executor = make_executor("slurm", str(tmp_path), options)
    text = executor._make_submission_file_text("python -m worker", "uid")
    for line in ("#SBATCH --partition=gpu-long", "#SBATCH --gpus-per-node=2", "#SBATCH --cpus-per-task=12",
                 "#SBATCH --time=90", "#SBATCH --mem=64G", "#SBATCH --account=dml", "#SBATCH --qos=high"):
        assert line in text, line
    assert "export PYTHONPATH=" in text


def fake_study(folder, methods):
    os.makedirs(folder)
    with open(os.path.join(folder, "study.json"), "w") as fh:
        json.dump({"methods": {m: {} for m in methods}, "trials": 8, "folds": 2, "epochs": 3}, fh)
    for i, m in enumerate(methods):
        os.makedirs(os.path.join(folder, m))
        cell = {k: {"mean": 0.1 * (i + 1), "ci95": 0.01, "std": 0.0, "n": 2} for k in NAMES}
        test = {kind: {mode: cell for mode in ("separated", "concatenated")} for kind in ("trained", "untrained")}
        with open(os.path.join(folder, m, "test.json"), "w") as fh:
            json.dump(test, fh)


def test_latex_layout_and_budget_column(tmp_path):
    from aggregation import reality_check as rc
    fake_study(str(tmp_path / "s"), ["triplet", "ms_miner"])
    rows = rc.load_studies([str(tmp_path / "s")])
    assert [r["method"] for r in rows] == ["untrained", "triplet", "ms_miner"]
    tex = rc.latex_table(rows)
    assert r"\multicolumn{3}{c}{Concatenated} & \multicolumn{3}{c}{Separated}" in tex
    assert r"Method & P@1 & RP & MAP@R & P@1 & RP & MAP@R & Budget \\" in tex
    assert r"ms\_miner & 20.00 $\pm$ 1.00" in tex and tex.count("8x2x3") == 2
    out = io.StringIO()
    rc.write_csv(rows, out)
    header = out.getvalue().splitlines()[0]
    assert header.startswith("method,budget,concatenated/precision_at_1,concatenated/precision_at_1_ci95")


def test_result_evaluations_reality_check(tmp_path, capsys):
    import Result_Evaluations
    fake_study(str(tmp_path / "s"), ["triplet"])
    assert Result_Evaluations.main(["--reality_check", str(tmp_path / "s"), "--latex", str(tmp_path / "t.tex"),
                                    "--csv", str(tmp_path / "t.csv")]) == 0
    assert os.path.exists(tmp_path / "t.tex") and "| triplet |" in capsys.readouterr().out
    assert Result_Evaluations.main(["--reality_check", str(tmp_path)]) == 2
