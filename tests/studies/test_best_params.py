"""best_params.yaml is self-contained: `python main.py --config best_params.yaml` trains the best
configuration (base flags, fixed flags, best searched flags) on all the training classes."""
from __future__ import annotations

import os

import pytest
import yaml

from conftest import TINY_GLYPHS
from studies.outputs import argv_flags, write_best
from studies.settings import Settings
from studies.spaces import Space

SPACE = Space("triplet", {"loss": "triplet", "batch_mining": "none"},
              {"loss_triplet_margin": {"type": "float", "low": 0.0, "high": 1.0}}, "triplet.yaml")
BASE = TINY_GLYPHS + ["--n_epochs", "1", "--use_tv_split", "--tau", "3", "5"]


def best_file(tmp_path) -> str:
    settings = Settings(study_dir=str(tmp_path), spaces={"triplet": SPACE}, trials=3, folds=2, base_argv=BASE)
    os.makedirs(settings.method_dir("triplet"))
    return write_best(settings, SPACE, {"loss_triplet_margin": 0.3}, 0.5)


def test_argv_flags_reads_values_lists_switches_and_equals():
    flags = argv_flags(["--dataset", "digits", "--tau", "3", "5", "--use_tv_split", "--lr=0.5",
                        "--lr", "0.25", "--wandb_key", "SECRET"])
    assert flags == {"dataset": "digits", "tau": ["3", "5"], "use_tv_split": True, "lr": "0.25"}


def test_best_params_parse_as_the_study_ran_them(tmp_path):
    import parameters
    path = best_file(tmp_path)
    text = open(path).read()
    assert "python main.py --config best_params.yaml" in text
    saved = yaml.safe_load(text)
    assert saved["loss"] == "triplet" and saved["loss_triplet_margin"] == 0.3 and saved["dataset"] == "glyphs"
    from_file = parameters.parse_args(["--config", path])
    typed = parameters.parse_args(BASE + ["--loss", "triplet", "--batch_mining", "none",
                                          "--loss_triplet_margin", "0.3"])
    for key in saved:
        assert getattr(from_file, key) == getattr(typed, key), key


@pytest.mark.slow
def test_main_trains_the_best_configuration_from_the_file(tmp_path):
    import json
    import main
    path = best_file(tmp_path)
    assert main.main(["--config", path, "--save_path", str(tmp_path / "runs"), "--savename", "best"]) == 0
    with open(tmp_path / "runs" / "glyphs" / "best" / "config.json") as fh:
        flags = json.load(fh)["flags"]
    assert flags["loss_triplet_margin"] == 0.3 and flags["loss"] == "triplet" and flags.get("cv_folds") in (None, 0)
