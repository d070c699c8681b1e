"""Aggregation counts each run once: backup copies, resumed-and-extended runs, and a run saved
with ``--savename ""`` (its folder is the dataset folder, which holds the other runs too)."""
from __future__ import annotations

import json
import shutil

import Result_Evaluations
from aggregation.aggregate import summarise
from aggregation.groups import group_runs
from aggregation.identity import deduplicate
from aggregation.runs import load_runs
from test_aggregation import curve, make_run

GROUP = "GLY_Margin_b12_Distance"


def rows_and_duplicates(root):
    runs, duplicates = deduplicate(load_runs(str(root)))
    rows, _ = summarise(group_runs(runs), ["e_recall@1"], "last")
    return {r.group: r for r in rows}, duplicates


def test_backup_copy_is_counted_once_with_a_warning(tmp_path, capsys):
    base = tmp_path / "Training_Results"
    original = make_run(base, GROUP, 0, curve(0.5))
    make_run(base, GROUP, 1, curve(0.7))
    backup = base / "bak" / "glyphs" / original.name   # a shorter path than the original's
    shutil.copytree(original, backup)
    rows, duplicates = rows_and_duplicates(base)
    assert rows[GROUP].seeds == [0, 1] and rows[GROUP].stats["e_recall@1"].mean == 0.6
    assert len(duplicates) == 1
    assert duplicates[0].kept.path == str(original)  # the folder at <dataset>/<savename> is kept
    assert [r.path for r in duplicates[0].ignored] == [str(backup)]
    assert Result_Evaluations.main(["--root", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"| {GROUP} | Margin (D, β=1.2) | 2 |" in out
    assert "Duplicate run folders (1)" in out and str(original) in out and str(backup) in out
    assert "1 duplicate folder ignored" in out


def test_two_seeds_are_two_runs(tmp_path, capsys):
    base = tmp_path / "Training_Results"
    make_run(base, GROUP, 0, curve(0.5))
    make_run(base, GROUP, 1, curve(0.5))   # same values, same flags apart from the seed
    rows, duplicates = rows_and_duplicates(base)
    assert rows[GROUP].seeds == [0, 1] and duplicates == []
    assert Result_Evaluations.main(["--root", str(base)]) == 0
    assert "Duplicate" not in capsys.readouterr().out


def test_same_seed_with_other_flags_is_another_run(tmp_path):
    """Identity includes the config hash: same seed, another lr is not a copy of the run. In one
    --group it is a repeated seed, counted once (the preferred folder) and listed."""
    base = tmp_path / "Training_Results"
    kept = make_run(base, GROUP, 0, curve(0.5))
    other = make_run(base / "other", GROUP, 0, curve(0.6), lr=0.5)
    rows, duplicates = rows_and_duplicates(base)
    assert duplicates == [] and rows[GROUP].n == 1
    assert [(r.kept.path, [i.path for i in r.ignored]) for r in rows[GROUP].repeats] == [(str(kept), [str(other)])]


def test_resumed_and_extended_run_is_flagged(tmp_path, capsys):
    """--resume --n_epochs 4 does not rewrite config.json (n_epochs stays 2): summary.json's
    epochs_done (and train.csv) tell that this run trained longer than its group."""
    base = tmp_path / "Training_Results"
    make_run(base, GROUP, 0, curve(0.5), n_epochs=2)
    make_run(base, GROUP, 1, curve(0.6), n_epochs=2)
    extended = make_run(base, GROUP, 2, curve(0.7), n_epochs=2)
    summary = json.loads((extended / "summary.json").read_text())
    (extended / "summary.json").write_text(json.dumps({**summary, "epochs_done": 4}))
    rows, _ = rows_and_duplicates(base)
    assert rows[GROUP].n == 3
    assert rows[GROUP].config_diffs == {"n_epochs": ["2", "4 trained (config.json: 2)"]}
    assert Result_Evaluations.main(["--root", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"| {GROUP} ⚠ |" in out and f"glyphs/{GROUP}: n_epochs: 2 vs 4 trained (config.json: 2)" in out


def test_extension_is_read_from_train_csv_without_epochs_done(tmp_path):
    base = tmp_path / "Training_Results"
    make_run(base, GROUP, 0, curve(0.5), n_epochs=2)
    extended = make_run(base, GROUP, 1, curve(0.6), n_epochs=2)
    summary = json.loads((extended / "summary.json").read_text())
    del summary["epochs_done"]
    (extended / "summary.json").write_text(json.dumps(summary))
    (extended / "train.csv").write_text("epoch,loss,lr,time_s\n" + "".join(f"{e},1.0,0.1,1.0\n" for e in range(1, 6)))
    rows, _ = rows_and_duplicates(base)
    assert rows[GROUP].config_diffs == {"n_epochs": ["2", "5 trained (config.json: 2)"]}


def test_equal_resumes_are_not_flagged(tmp_path):
    """Every seed extended alike: the group is consistent (crash-and-resume changes nothing)."""
    base = tmp_path / "Training_Results"
    for seed in (0, 1):
        run = make_run(base, GROUP, seed, curve(0.5), n_epochs=2)
        summary = json.loads((run / "summary.json").read_text())
        (run / "summary.json").write_text(json.dumps({**summary, "epochs_done": 4}))
    rows, _ = rows_and_duplicates(base)
    assert rows[GROUP].config_diffs == {}


def test_backup_taken_before_the_extension_keeps_the_longer_run(tmp_path):
    base = tmp_path / "Training_Results"
    run = make_run(base, GROUP, 0, curve(0.5), n_epochs=2)
    backup = base / "_old" / "copy"   # an underscore folder is searched too
    shutil.copytree(run, backup)
    shutil.copytree(run, base / "bak" / "glyphs" / run.name)
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "epochs_done": 4}))
    runs, duplicates = deduplicate(load_runs(str(base)))
    assert [r.path for r in runs] == [str(run)]
    assert sorted(r.path for r in duplicates[0].ignored) == [str(backup), str(base / "bak" / "glyphs" / run.name)]


def test_savename_empty_run_does_not_hide_its_siblings(tmp_path, capsys):
    """--savename "" writes config.json into <save_path>/<dataset>/ itself: that folder is a run
    folder whose subfolders are run folders too. All are counted, and the nesting is reported."""
    base = tmp_path / "Training_Results"
    make_run(base, GROUP, 0, curve(0.5))
    make_run(base, GROUP, 1, curve(0.6))
    inner = make_run(tmp_path / "scratch", GROUP, 2, curve(0.7), savename="")
    for name in ("config.json", "metrics.csv", "summary.json"):
        shutil.copy(inner / name, base / "glyphs" / name)
    rows, duplicates = rows_and_duplicates(base)
    assert rows[GROUP].seeds == [0, 1, 2] and duplicates == []
    assert Result_Evaluations.main(["--root", str(base)]) == 0
    out = capsys.readouterr().out
    assert f"| {GROUP} | Margin (D, β=1.2) | 3 |" in out
    assert "Run folders that hold other run folders (1)" in out and f"`{base / 'glyphs'}`" in out
