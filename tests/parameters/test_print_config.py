"""``--print_config``: every resolved flag as JSON (as ``config.json`` holds them), exit 0, no run."""
from __future__ import annotations

import json

import pytest

import main
import parameters


def test_print_config_prints_every_resolved_flag_and_starts_no_run(capsys, tiny_argv, tmp_path):
    assert main.main(tiny_argv + ["--loss", "triplet", "--wandb_key", "s3cret", "--print_config"]) == 0
    out = capsys.readouterr().out
    printed = json.loads(out)
    dests = {a.dest for a in parameters.build_parser()._actions if a.dest != "help"}
    assert dests <= set(printed)
    assert printed["loss"] == "triplet" and printed["batch_mining"] == "distance"   # resolved miner
    assert printed["device"] == "cpu"
    assert "s3cret" not in out
    assert not (tmp_path / "runs").exists()


def test_print_config_still_validates(capsys):
    with pytest.raises(SystemExit) as exc:
        main.main(["--print_config", "--bs", "0"])
    assert exc.value.code == 2
