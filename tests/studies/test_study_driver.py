"""Reality_Check_Studies.py end to end on tiny glyphs fold runs (1 epoch)."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, TINY_GLYPHS

MAIN_FLAGS = [f for f in TINY_GLYPHS if f not in ("--evaluation_metrics", "e_recall@1", "e_recall@2", "nmi")] \
    + ["--n_epochs", "1"]


def study_argv(study, *extra, trials="3", methods=("triplet",)):
    return ["--study", str(study), "--methods", *methods, "--trials", trials, "--cv_folds", "2",
            "--reproductions", "0", "--heartbeat", "1", *extra, "--", *MAIN_FLAGS]


def trials_of(study, method="triplet"):
    with open(os.path.join(study, method, "trials.csv"), newline="") as fh:
        return list(csv.DictReader(fh))


def fold_runs(study, method="triplet"):
    folder = os.path.join(study, method, "runs", "glyphs")
    return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))


@pytest.mark.parametrize("extra, expected", [
    (["--methods", "tripplet"], "unknown method 'tripplet' (closest: triplet"),
    (["--cv_folds", "1"], "--cv_folds 1"),
    (["--cv_folds", "9"], "--cv_folds 9: the dataset has only 8 training classes"),
    (["--launcher", "slurm"], "no 'sbatch'"),
    (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "--storage postgresql://"),
])
def test_bad_input_is_one_line_exit_2_before_anything_runs(tmp_path, capsys, monkeypatch, extra, expected):
    from studies.cli import main
    no_programs = tmp_path / "empty_bin"
    no_programs.mkdir()
    monkeypatch.setenv("PATH", str(no_programs))     # hermetic: no 'sbatch' even on a SLURM machine
    argv = study_argv(tmp_path / "s")
    i = argv.index("--")
    code = main(argv[:i] + extra + argv[i:])
    err = capsys.readouterr().err.strip()
    assert code == 2 and expected in err and "\n" not in err, err
    assert not os.path.exists(tmp_path / "s" / "triplet")


@pytest.mark.slow
def test_study_completes_and_rerun_does_nothing_new(tmp_path, capsys):
    from studies.cli import main
    study = tmp_path / "s"
    assert main(study_argv(study)) == 0
    rows = trials_of(study)
    assert [r["state"] for r in rows] == ["COMPLETE"] * 3 and all(r["fold0"] and r["fold1"] for r in rows)
    runs = fold_runs(study)
    assert len(runs) == 6
    mtimes = {r: os.path.getmtime(os.path.join(study, "triplet", "runs", "glyphs", r, "summary.json")) for r in runs}
    assert "mean map_at_r over 2 class-disjoint folds" in (study / "triplet" / "best_params.yaml").read_text()
    assert main(study_argv(study)) == 0
    assert len(trials_of(study)) == 3 and fold_runs(study) == runs
    assert all(os.path.getmtime(os.path.join(study, "triplet", "runs", "glyphs", r, "summary.json")) == t
               for r, t in mtimes.items())


@pytest.mark.slow
def test_kill_mid_trial_and_rerun_completes_exactly_the_budget(tmp_path):
    study = tmp_path / "s"
    cmd = [sys.executable, os.path.join(ROOT, "Reality_Check_Studies.py")] + study_argv(study)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    runs_dir = study / "triplet" / "runs" / "glyphs"
    deadline = time.time() + 300
    while time.time() < deadline:        # kill once the second trial's first fold run has begun
        done = [d for d in (os.listdir(runs_dir) if runs_dir.exists() else []) if d.endswith(".log")]
        if len(done) >= 3:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=600).returncode == 0
    rows = trials_of(study)
    assert sum(r["state"] == "COMPLETE" for r in rows) == 3
    for run in fold_runs(study):          # every fold run trained its one epoch exactly once
        with open(runs_dir / run / "train.csv") as fh:
            assert [r["epoch"] for r in csv.DictReader(fh)] == ["1"]


@pytest.mark.slow
def test_two_local_workers_share_one_journal(tmp_path):
    from studies.cli import main
    study = tmp_path / "s"
    assert main(study_argv(study, "--workers", "2", trials="4")) == 0
    rows = trials_of(study)
    assert sum(r["state"] == "COMPLETE" for r in rows) == 4
    params = [r["loss_triplet_margin"] for r in rows if r["state"] == "COMPLETE"]
    assert len(set(params)) == len(params)                     # no trial run twice
    assert len(fold_runs(study)) == 8


@pytest.mark.slow
def test_reproductions_give_separated_and_concatenated_test_metrics(tmp_path):
    """After the search, the best configuration is retrained; each reproduction's K fold models are
    tested separated (mean of their metrics) and concatenated (one K x D embedding), trained and
    untrained, and Result_Evaluations.py --reality_check reads the study."""
    import json
    from studies.cli import main
    study = tmp_path / "s"
    argv = study_argv(study, trials="2")
    argv[argv.index("--reproductions") + 1] = "2"
    assert main(argv) == 0
    reps = sorted(os.listdir(study / "triplet" / "reproductions"))
    assert reps == ["r1.json", "r2.json"]                     # reproductions are numbered from 1
    r0 = json.load(open(study / "triplet" / "reproductions" / "r1.json"))
    r1 = json.load(open(study / "triplet" / "reproductions" / "r2.json"))
    assert len(r0["fold_runs"]) == 2 and len(set(r0["seeds"] + r1["seeds"])) == 4   # a seed per (reproduction, fold)
    # K different random heads: the untrained ensemble is not K copies of one network
    assert r0["untrained"]["concatenated"] != r0["untrained"]["separated"]
    for kind in ("trained", "untrained", "backbone"):
        for how in ("separated", "concatenated"):
            values = r0[kind][how]
            assert {"precision_at_1", "r_precision", "map_at_r"} <= set(values)
            assert all(0.0 <= values[m] <= 1.0 for m in ("precision_at_1", "r_precision", "map_at_r"))
    summary = json.load(open(study / "triplet" / "test.json"))
    assert {"trained", "untrained", "backbone"} <= set(summary)
    table = subprocess.run([sys.executable, os.path.join(ROOT, "Result_Evaluations.py"), "--reality_check", str(study),
                            "--latex", str(tmp_path / "rc.tex"), "--csv", str(tmp_path / "rc.csv")],
                           capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert table.returncode == 0, table.stderr
    assert "triplet" in table.stdout.lower() and os.path.exists(tmp_path / "rc.tex")
    assert "| backbone features |" in table.stdout and "| untrained |" in table.stdout


@pytest.mark.parametrize("method", ["../../../escape", "a/b", "."])
def test_space_method_that_is_a_path_is_refused_and_nothing_is_written(tmp_path, capsys, method):
    """``method: ../../../escape`` would put trials.csv, best_params.yaml, figures and runs outside
    the study folder: a method is a plain name, anything else is one line, exit 2."""
    from studies.cli import main
    space = tmp_path / "space.yaml"
    space.write_text(f"method: '{method}'\nfixed: {{loss: triplet}}\n"
                     "search: {loss_triplet_margin: {type: float, low: 0.1, high: 0.3}}\n")
    study = tmp_path / "a" / "b" / "c" / "s"
    argv = study_argv(study, "--space", str(space), methods=(method,))
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "not a plain name" in err and "\n" not in err, err
    assert sorted(os.listdir(tmp_path)) == ["space.yaml"]
