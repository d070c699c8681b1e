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
