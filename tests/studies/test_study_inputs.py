"""Inputs a study refuses in one line (exit 2, nothing created) or repairs: metric names, space
bounds, paths the output cannot print, a missing database driver, a damaged journal; and two
studies sharing one storage."""
from __future__ import annotations

import io
import os
import sys

import pytest

from test_study_driver import study_argv, trials_of


def refused(capsys, argv) -> str:
    from studies.cli import main
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err, err
    return err


def with_flags(study, *flags, trials="3"):
    argv = study_argv(study, trials=trials)
    i = argv.index("--")
    return argv[:i] + list(flags) + argv[i:]


def test_an_unknown_metric_is_one_line(tmp_path, capsys):
    err = refused(capsys, with_flags(tmp_path / "s", "--metric", "foo"))
    assert "--metric" in err and "unknown metric 'foo'" in err
    assert not os.path.exists(tmp_path / "s")


def test_a_space_with_an_infinite_bound_is_one_line(tmp_path, capsys):
    space = tmp_path / "triplet.yaml"
    space.write_text("fixed: {loss: triplet, batch_mining: none}\n"
                     "search:\n  loss_triplet_margin: {type: float, low: 0.0, high: .inf}\n")
    err = refused(capsys, with_flags(tmp_path / "s", "--space", str(space)))
    assert "loss_triplet_margin" in err and "finite" in err
    assert not os.path.exists(tmp_path / "s")


def test_a_study_path_the_output_cannot_print_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    err = refused(capsys, with_flags(tmp_path / "\u00e9tude"))
    assert "--study" in err and "(ascii) cannot print the path" in err
    assert not os.path.exists(tmp_path / "\u00e9tude")


def test_a_database_url_without_its_driver_names_the_package(tmp_path, capsys, monkeypatch):
    for name in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, name, None)      # as if not installed
    err = refused(capsys, with_flags(tmp_path / "s", "--storage", "postgresql://u@127.0.0.1:1/db"))
    assert "driver 'psycopg" in err and "requirements-cluster.txt" in err


def write_journal(path, trials=2) -> bytes:
    import optuna
    from optuna.storages.journal import JournalFileBackend
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="m", storage=optuna.storages.JournalStorage(JournalFileBackend(str(path))))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=trials)
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["cut mid-line", "garbage appended"])
def test_a_journal_with_a_damaged_end_is_cut_back_to_its_last_whole_record(tmp_path, damage):
    import optuna
    from optuna.storages.journal import JournalFileBackend
    from studies.storage import repair_journal
    path = tmp_path / "optuna.journal"
    whole = write_journal(path)
    last = whole.rstrip(b"\n").rfind(b"\n") + 1
    path.write_bytes(whole[:-20] if damage == "cut mid-line" else whole + b"garbage\n")
    note = repair_journal(str(path))
    assert "last whole record" in note and os.path.exists(str(path) + ".damaged")
    assert path.read_bytes() == (whole[:last] if damage == "cut mid-line" else whole)
    assert repair_journal(str(path)) is None
    study = optuna.load_study(study_name="m", storage=optuna.storages.JournalStorage(JournalFileBackend(str(path))))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)      # usable again
    assert len(study.trials) == 3 and study.trials[-1].state.name == "COMPLETE"


def test_a_journal_damaged_in_the_middle_is_refused_in_one_line(tmp_path, capsys):
    path = tmp_path / "s" / "optuna.journal"
    path.parent.mkdir()
    whole = write_journal(path)
    cut = whole.find(b"\n") + 1
    path.write_bytes(whole[:cut] + b"garbage\n" + whole[cut:])
    err = refused(capsys, study_argv(tmp_path / "s"))
    assert "is damaged and whole records follow it" in err and "restore" in err
    assert path.read_bytes() == whole[:cut] + b"garbage\n" + whole[cut:]


@pytest.mark.slow
def test_two_studies_sharing_one_storage_keep_their_own_trials(tmp_path, capsys):
    import optuna
    from optuna.storages.journal import JournalFileBackend
    from studies.cli import main
    shared = str(tmp_path / "shared.journal")
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(with_flags(a, "--storage", shared, trials="1")) == 0
    assert main(with_flags(b, "--storage", shared, "--seed", "1", trials="1")) == 0
    storage = optuna.storages.JournalStorage(JournalFileBackend(shared))
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
    assert names == [f"triplet@{a}", f"triplet@{b}"]
    rows_a, rows_b = trials_of(a), trials_of(b)
    assert len(rows_a) == len(rows_b) == 1 and rows_a[0]["objective"] != rows_b[0]["objective"]


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_a_heartbeat_that_is_not_positive_is_one_line(tmp_path, capsys, value):
    argv = with_flags(tmp_path / "s")
    argv[argv.index("--heartbeat") + 1] = value
    err = refused(capsys, argv)
    assert f"--heartbeat {value}" in err and "above 0" in err
    assert not os.path.exists(tmp_path / "s")
