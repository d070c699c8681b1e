"""Bad --config files and --resume folders: one line naming the file and the problem, exit code 2,
never a traceback (issue "Reliability, second pass", item 9)."""
from __future__ import annotations

import json

import pytest

import parameters
from conftest import one_line_error


@pytest.mark.parametrize("content,problem", [
    (b"lr: [0.1\nbs: :\n", "not valid YAML at line"),
    (b"lr: null\n", "null"),
    (b"tau: [5, null]\n", "key 'tau'"),
    (b"project: caf\xe9\n", "not UTF-8"),
    (b"eval_splits: [trian]\n", "'trian' is not one of"),
    (b"eval_splits: trian\n", "'trian' is not one of"),
    (b"lr: {a: 1}\n", "mapping"),
    (b"savename: [a, b]\n", "list"),
    (b"tau: []\n", "at least one value"),
    (b"lr: 1e400\n", "finite"),
])
def test_a_bad_config_file_is_one_line_naming_it(capsys, tmp_path, content, problem):
    cfg = tmp_path / "bad.yaml"
    cfg.write_bytes(content)
    err = one_line_error(capsys, ["--config", str(cfg)])
    assert problem in err, err
    if problem != "finite":       # a value read but out of its domain is named by its flag
        assert str(cfg) in err, err


def test_a_null_config_value_for_a_flag_without_default_means_unset(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("batch_mining: null\ngroup: null\n")
    opt = parameters.parse_args(["--config", str(cfg)])
    assert opt.batch_mining == "distance" and opt.group is None


def write_run(folder, config: bytes | None):
    folder.mkdir()
    if config is not None:
        (folder / "config.json").write_bytes(config)
    return str(folder)


@pytest.mark.parametrize("config,problem", [
    (None, "not a run folder (no config.json"),
    (b"{not json", "is not valid JSON"),
    (b"\xff\xfe garbage", "is not valid JSON"),
    (b'{"versions": {}}', 'no "flags" mapping'),
    (b"[1, 2]", 'no "flags" mapping'),
])
def test_resume_of_a_folder_that_is_not_a_readable_run_is_one_line(capsys, tmp_path, config, problem):
    folder = write_run(tmp_path / "run", config)
    err = one_line_error(capsys, ["--resume", folder])
    assert err.startswith("main.py: error: --resume") and problem in err and folder in err, err


def test_resume_of_a_checkpoint_file_checks_its_folder(capsys, tmp_path):
    folder = write_run(tmp_path / "run", None)
    (tmp_path / "run" / "checkpoint_last.pt").write_bytes(b"x")
    err = one_line_error(capsys, ["--resume", folder + "/checkpoint_last.pt"])
    assert "no config.json" in err


def test_resume_of_a_run_folder_with_a_config_parses(tmp_path):
    folder = write_run(tmp_path / "run", json.dumps({"flags": {"lr": 0.001}}).encode())
    assert parameters.parse_args(["--resume", folder]).resume == folder


@pytest.mark.parametrize("flags,key,problem", [
    ({"lr": 0.001, "scheduler": "bogus"}, "scheduler", "'bogus' is not one of ['step', 'cosine', 'none']"),
    ({"lr": -1.0}, "lr", "--lr -1.0: expected"),
    ({"n_epochs": "many"}, "n_epochs", "cannot read 'many' as int"),
    ({"tau": None}, "tau", "null is not a value"),
])
def test_a_hand_edited_saved_config_is_checked_like_typed_flags(capsys, tmp_path, flags, key, problem):
    """A resumed run's config.json rebuilds the run: a value a typed flag could not have is one
    line naming the file and the key, exit 2 (it used to be taken, the schedule silently dropped)."""
    folder = write_run(tmp_path / "run", json.dumps({"flags": flags}).encode())
    err = one_line_error(capsys, ["--resume", folder])
    assert f"{folder}/config.json: key '{key}'" in err and problem in err, err


def test_a_checkpoint_config_with_a_bad_value_is_refused_by_evaluation(capsys, tmp_path):
    import torch
    from evaluation_cli import main as evaluate_main
    path = tmp_path / "checkpoint_best.pt"
    torch.save({"config": {"dataset": "glyphs", "scheduler": "bogus"}, "model": {}}, path)
    with pytest.raises(SystemExit) as exc:
        evaluate_main(["--checkpoint", str(path), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and str(path) in err and "key 'scheduler'" in err, err


def test_resume_named_in_a_config_file_restores_the_run_and_refuses_changes(capsys, tmp_path):
    """``resume: RUN`` in a --config file is --resume RUN: the saved flags come back and a typed
    flag that changes results is refused (it used to train at the typed --lr while config.json
    kept the saved one)."""
    folder = write_run(tmp_path / "run", json.dumps({"flags": {"lr": 0.003, "loss": "triplet"}}).encode())
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"resume: {folder}\n")
    opt = parameters.parse_args(["--config", str(cfg)])
    assert opt.resume == folder and opt.lr == 0.003 and opt.loss == "triplet"
    err = one_line_error(capsys, ["--config", str(cfg), "--lr", "0.5"])
    assert "--lr saved 0.003, typed 0.5" in err, err
    assert parameters.parse_args(["--config", str(cfg), "--n_epochs", "9"]).n_epochs == 9
