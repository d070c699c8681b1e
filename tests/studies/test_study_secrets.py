"""No secret of a study (the W&B key typed after ``--``, a database password in ``--storage``) reaches a
file the study writes (binary ones included: submitit's pickled jobs) or a line it prints."""
from __future__ import annotations

import os
import pickle

import pytest

from tests.studies.test_study_driver import study_argv
from tests.training.test_wandb_key_secrecy import files_holding

KEY = "STUDYSECRETKEY987"
PASSWORD = "DBPASSWORD654"


@pytest.fixture
def clean_environment(monkeypatch):
    """The study puts secrets into this process's environment; undo that after the test."""
    for name in ("WANDB_API_KEY", "DMLBENCH_STORAGE_PASSWORD"):
        monkeypatch.setenv(name, "x")      # recorded, so the teardown removes what the study sets
        monkeypatch.delenv(name)


@pytest.mark.parametrize("form", [["--wandb_key", KEY], [f"--wandb_key={KEY}"]])
def test_study_hands_the_wandb_key_to_its_runs_through_the_environment(clean_environment, form):
    from studies.cli import secrets_to_environment
    argv = ["--n_epochs", "1", *form, "--comet_api_key", "C0MET", "--log_online"]
    assert secrets_to_environment(argv) == ["--n_epochs", "1", "--log_online"]
    assert os.environ["WANDB_API_KEY"] == KEY


@pytest.mark.slow
def test_wandb_key_of_a_study_reaches_no_file_and_no_output(tmp_path, capfd, clean_environment):
    """``Reality_Check_Studies.py --workers 2 ... -- --log_online --wandb_key KEY``: study.json, the
    journal, submitit's pickles and logs, every fold run: none holds the key; the runs get it as
    ``WANDB_API_KEY``."""
    from studies.cli import main
    study = tmp_path / "s"
    assert main(study_argv(study, "--workers", "2", trials="1") + ["--log_online", "--wandb_key", KEY]) == 0
    assert os.path.isfile(study / "study.json") and list((study / "logs").glob("*_submitted.pkl"))
    assert files_holding(str(tmp_path), KEY.encode()) == []
    out = capfd.readouterr()
    assert KEY not in out.out + out.err
    assert os.environ["WANDB_API_KEY"] == KEY


def test_storage_password_is_in_no_message_and_no_pickled_job(tmp_path, capsys, clean_environment):
    """The error line of an unreachable database hides the password; the settings every worker
    job is pickled with hold the URL without it, and the workers get it from the environment."""
    from studies.cli import build_parser, main, settings_from
    from studies.storage import with_password
    url = f"postgresql://bob:{PASSWORD}@127.0.0.1:1/none"
    argv = study_argv(tmp_path / "s", "--storage", url)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--storage postgresql://bob:***@127.0.0.1:1/none" in err and PASSWORD not in err, err
    own = argv[:argv.index("--")]
    settings = settings_from(build_parser().parse_args(own), [])
    assert PASSWORD.encode() not in pickle.dumps(settings)
    assert with_password(settings.storage_url) == url
