"""Pruned trials are shown as pruned, never with a partial objective, and never pruned on one fold."""
from __future__ import annotations

import optuna
import pytest

from studies.outputs import trial_rows
from studies.settings import Settings
from studies.worker import MIN_FOLDS_TO_PRUNE, load_study, progress_line
from test_study_driver import study_argv

optuna.logging.set_verbosity(optuna.logging.WARNING)


def pruning_study(tmp_path):
    return load_study(Settings(study_dir=str(tmp_path), spaces={}, trials=5, folds=3, prune=True,
                               storage="sqlite:///" + str(tmp_path / "s.db")), "m")


def test_no_trial_is_pruned_on_its_first_fold_alone(tmp_path):
    study = pruning_study(tmp_path)
    for _ in range(2):                                   # two finished trials around 0.8
        t = study.ask()
        t.report(0.8, 0)
        t.report(0.8, 1)
        study.tell(t, 0.8)
    t = study.ask()
    t.report(0.1, 0)
    assert not t.should_prune()                          # one fold of a class-disjoint split says little
    t.report(0.1, 1)
    assert t.should_prune()                              # two folds below the median: stop, save the third


def test_a_pruned_trial_has_no_objective_only_its_fold_values(tmp_path):
    study = pruning_study(tmp_path)
    t = study.ask()
    t.set_user_attr("fold0", 0.2)
    t.set_user_attr("fold1", 0.3)
    t.set_user_attr("pruned_after", 2)
    t.report(0.25, 1)
    study.tell(t, state=optuna.trial.TrialState.PRUNED)
    [row], columns = trial_rows(study, 3)
    assert row["state"] == "PRUNED" and row["objective"] is None
    assert (row["fold0"], row["fold1"], row["fold2"]) == (0.2, 0.3, None)
    assert row["note"] == "pruned after 2 folds (fold values shown)"
    frozen = study.trials[0]
    assert "pruned after 2 folds" in progress_line("m", frozen, study, 5) and "0.25" not in progress_line(
        "m", frozen, study, 5)


def test_prune_needs_three_folds(tmp_path, capsys):
    from studies.cli import main
    argv = study_argv(tmp_path / "s")                    # --cv_folds 2
    i = argv.index("--")
    assert main(argv[:i] + ["--prune"] + argv[i:]) == 2
    err = capsys.readouterr().err.strip()
    assert f"--prune needs --cv_folds {MIN_FOLDS_TO_PRUNE} or more (got 2)" in err and "\n" not in err
