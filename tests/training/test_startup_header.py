"""The start-up header: the run's components, the flags that differ from the defaults (built-in
plus dataset preset) and the run folder, in a few lines; every flag stays in config.json."""
from __future__ import annotations

import pytest

import main
import parameters
from training.report import CHANGED_LINES, changed_flags, format_header


def header(argv: list[str], path: str = "/runs/glyphs/x") -> str:
    opt = parameters.parse_args(argv)
    return format_header(opt, parameters.layered_defaults(opt.dataset), path)


def field(text: str, name: str) -> str:
    return next(line.split(None, 1)[1] for line in text.splitlines() if line.split(None, 1)[0] == name)


def test_header_names_the_components_and_the_run_folder():
    text = header(["--loss", "triplet", "--loss_distance", "cosine", "--n_epochs", "3"])
    assert len(text.splitlines()) <= 15
    assert field(text, "dataset") == "glyphs"
    assert field(text, "model") == "convnet_normalize, embed_dim 64"
    assert field(text, "loss") == "triplet, distance cosine"
    assert field(text, "miner") == "distance"                 # resolved: the loss's own miner
    assert field(text, "sampler").startswith("class_random")
    assert field(text, "changed") == "--n_epochs 3"
    assert field(text, "run") == "/runs/glyphs/x"


def test_no_miner_is_shown_as_none():
    assert field(header(["--loss", "proxyanchor"]), "miner") == "none"


def test_preset_values_are_not_changes_but_typed_and_config_values_are(tmp_path):
    assert field(header([]), "changed") == "none"                 # glyphs preset: lr, n_epochs, ... unchanged
    config = tmp_path / "c.yaml"
    config.write_text("decay: 0.001\n")
    opt = parameters.parse_args(["--config", str(config), "--seed", "3"])
    assert changed_flags(opt, parameters.layered_defaults(opt.dataset)) == [
        f"--config {config}", "--decay 0.001", "--seed 3"]


def test_secrets_never_reach_the_header():
    text = header(["--wandb_key", "s3cret"])
    assert "s3cret" not in text and "--wandb_key <redacted>" in text


def test_many_changed_flags_stay_within_a_few_lines():
    argv = [f"--{flag}" for flag in ("use_tv_split", "tv_split_by_samples", "not_pretrained", "no_train_metrics",
                                     "evaluate_on_gpu", "amp", "deterministic", "skip_bad_images", "plot_embeddings",
                                     "data_storage_no_update", "data_gc_softened", "loss_margin_beta_constant")]
    argv += ["--lr", "0.02", "--decay", "0.1", "--gamma", "0.5", "--tau", "3", "4", "--seed", "7", "--kernels", "2",
             "--project", "a_rather_long_project_name", "--group", "a_rather_long_group_name_for_the_sweep"]
    lines = header(argv).splitlines()
    changed = lines[[line.split()[0] for line in lines].index("changed"):-1]        # up to the run line
    assert len(changed) == CHANGED_LINES and changed[-1].endswith("... (every flag: config.json)")
    assert all(len(line) <= 100 for line in lines[1:-1])


@pytest.mark.slow
def test_a_run_prints_at_most_15_lines_before_training(capsys, tiny_argv):
    assert main.main(tiny_argv + ["--n_epochs", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    before = out[:next(i for i, line in enumerate(out) if line.startswith("epoch 1"))]
    assert 8 <= len(before) <= 15, "\n".join(before)
    assert before[0].startswith("dmlbench configuration")
    assert field("\n".join(before), "run").endswith("glyphs/tiny")
