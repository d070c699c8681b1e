"""Bad input as a user types it: the exact one-line message and exit code 2, before any work."""
from __future__ import annotations

import os

import pytest

import main
import parameters


def error_of(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize("flag,value,kind,closest", [
    ("--loss", "triplett", "loss", "triplet"),
    ("--batch_mining", "semihrd", "miner", "semihard"),
    ("--data_sampler", "class_randm", "sampler", "class_random"),
    ("--dataset", "glyph", "dataset", "glyphs"),
    ("--loss_distance", "cosin", "distance", "cosine"),
    ("--loss_reducer", "mean_nonzero", "reducer", None),
    ("--evaluation_metrics", "e_recal@1", "metric", None),
])
def test_unknown_names_show_the_closest_few_and_point_to_the_list(capsys, flag, value, kind, closest):
    err = error_of(capsys, [flag, value])
    assert err.startswith(f"main.py: error: {flag}: unknown {kind} '{value}'. Closest: "), err
    if closest:
        assert err.split("Closest: ")[1].startswith(closest + ",")
    assert len(err) < 200, err                                   # never every valid name on one line
    assert "python main.py --list" in err or kind == "reducer"   # few reducers: all of them shown


def test_unknown_architecture_and_suffix(capsys):
    err = error_of(capsys, ["--arch", "resnet5_normalize"])
    assert err.startswith("main.py: error: --arch: unknown architecture 'resnet5_normalize'")
    err = error_of(capsys, ["--arch", "resnet50_normalise"])
    assert err.startswith("main.py: error: --arch: unknown architecture suffix 'normalise'")
    assert "normalize" in err


def test_incompatible_loss_and_miner_names_both(capsys):
    err = error_of(capsys, ["--loss", "contrastive", "--batch_mining", "npair"])
    assert "--loss contrastive" in err and "--batch_mining npair" in err


def test_missing_dataset_folder_names_the_expected_layout(capsys, tmp_path):
    err = error_of(capsys, ["--dataset", "cub200", "--source", str(tmp_path)])
    assert err.startswith("main.py: error: --source:") and "cub200" in err


def test_config_with_wrongly_typed_value(capsys, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("n_epochs: 2.5\n")
    assert "key 'n_epochs'" in error_of(capsys, ["--config", str(cfg)])
    cfg.write_text("use_tv_split: sometimes\n")
    assert "key 'use_tv_split'" in error_of(capsys, ["--config", str(cfg)])


def test_unwritable_save_path(tiny_argv, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    argv = tiny_argv + ["--save_path", str(blocker / "runs")]
    with pytest.raises(SystemExit) as exc:
        main.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("main.py: error: --save_path: cannot write in ") and "a_file" in err
    assert not os.path.exists(blocker / "runs")


def test_several_gpu_indices_point_at_torchrun(capsys):
    err = error_of(capsys, ["--gpu", "0", "1"])
    assert err == ("main.py: error: --gpu 0 1: one index per process; for several GPUs launch with "
                   "torchrun --nproc_per_node=N (see the README's multi-GPU section)")


def test_unknown_evaltype(capsys):
    err = error_of(capsys, ["--evaltypes", "discriminative", "selfsim"])
    assert err.startswith("main.py: error: --evaltypes discriminative selfsim: dmlbench networks have one")
