"""The W&B API key never reaches a file that dmlbench or wandb writes, nor any printed output."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import parameters
from conftest import ROOT, TINY_GLYPHS
from training.run_folder import public_config, redact_argv

KEY = "SECRETKEY123abc"


@pytest.mark.parametrize("form", [["--wandb_key", KEY], [f"--wandb_key={KEY}"], ["--comet_api_key", KEY]])
def test_public_config_redacts_the_key_in_every_argv_form(form, tmp_path):
    opt = parameters.parse_args(TINY_GLYPHS + ["--save_path", str(tmp_path)] + form + ["--n_epochs", "1"])
    config = public_config(opt)
    assert KEY not in json.dumps(config)
    assert config["argv"][-2:] == ["--n_epochs", "1"]  # the other flags are kept as given
    assert "<redacted>" in config["argv"][-3]


@pytest.mark.parametrize("form", [["--wandb_k", KEY], [f"--wandb_k={KEY}"]])
def test_an_abbreviated_key_flag_is_refused_without_echoing_the_key(form, capsys):
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(form)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("main.py: error: unknown flag --wandb_k (closest: --wandb_key") and KEY not in err


def test_redact_argv_hides_only_secret_values():
    argv = ["--project", "P", "--wandb", "K1", "--group", "g", "--come=K2", "--weight_reg_p", "2"]
    assert redact_argv(argv) == ["--project", "P", "--wandb", "<redacted>", "--group", "g",
                                 "--come=<redacted>", "--weight_reg_p", "2"]


def files_holding(folder: str, secret: bytes) -> list[str]:
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    if secret in fh.read():
                        found.append(os.path.relpath(path, folder))
    return found


@pytest.mark.slow
def test_wandb_key_flag_reaches_no_file_and_no_output(tmp_path):
    """``main.py --log_online --wandb_key KEY`` offline: config.json, the checkpoints, wandb's debug
    logs, metadata (its copy of sys.argv) and .wandb run file, ~/.netrc: none holds the key."""
    home = tmp_path / "home"
    dirs = {"HOME": home, "WANDB_DIR": tmp_path / "wandb_dir", "WANDB_CACHE_DIR": tmp_path / "wandb_cache",
            "WANDB_CONFIG_DIR": tmp_path / "wandb_config", "WANDB_DATA_DIR": tmp_path / "wandb_data",
            "TMPDIR": tmp_path / "tmp"}
    for path in dirs.values():
        path.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env.update({k: str(v) for k, v in dirs.items()}, WANDB_MODE="offline", PYTHONUNBUFFERED="1")
    argv = TINY_GLYPHS + ["--save_path", str(tmp_path / "runs"), "--savename", "tiny", "--n_epochs", "1",
                          "--no_train_metrics", "--log_online", "--wandb_key", KEY]
    out = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *argv], cwd=ROOT, env=env,
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    run = tmp_path / "runs" / "glyphs" / "tiny"
    assert os.path.isdir(run / "wandb") and os.path.isfile(run / "checkpoint_last.pt")
    assert files_holding(str(tmp_path), KEY.encode()) == []
    assert KEY.encode() not in out.stdout + out.stderr
