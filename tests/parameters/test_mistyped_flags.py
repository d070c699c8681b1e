"""A mistyped flag or value as a user types it: one line naming the flag (the closest valid ones,
or the type expected), exit code 2, no usage text; flags are never matched by prefix."""
from __future__ import annotations

import pytest

import main
import parameters


def error_of(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "usage" not in err, err
    return err.strip()


@pytest.mark.parametrize("argv", [["--n_epoch", "3"], ["--n_epoch=3"]])
def test_a_prefix_of_a_flag_is_an_unknown_flag_with_the_closest_ones(capsys, argv):
    assert error_of(capsys, argv) == "main.py: error: unknown flag --n_epoch (closest: --n_epochs; every flag: --help)"


def test_a_misspelt_component_flag_suggests_the_real_one(capsys):
    assert "(closest: --loss_margin_beta," in error_of(capsys, ["--loss_margin_bta", "0.5"])


@pytest.mark.parametrize("typed,ours", [("--batch_size", "--bs"), ("--learning_rate", "--lr"), ("--epochs", "--n_epochs"),
                                        ("--miner", "--batch_mining"), ("--weight_decay", "--decay")])
def test_other_tools_names_of_a_flag_suggest_ours_first(capsys, typed, ours):
    assert f"unknown flag {typed} (closest: {ours}" in error_of(capsys, [typed, "1"])


def test_a_prefix_of_dataset_or_config_is_refused_too(capsys):
    """The pre-parse that picks the preset must not take ``--dat`` for ``--dataset`` either."""
    assert error_of(capsys, ["--dat", "cub200"]).startswith("main.py: error: unknown flag --dat (closest: --dataset")


@pytest.mark.parametrize("argv,message", [
    (["--lr", "abc"], "--lr 'abc': expected a number"),
    (["--n_epochs", "2.5"], "--n_epochs '2.5': expected an integer"),
    (["--optim", "adm"], "--optim 'adm': expected one of adam, adamw, sgd, rmsprop"),
    (["--lr"], "--lr: expected a number after it"),
    (["--tau"], "--tau: expected an integer (one or more) after it"),
    (["--amp=1"], "--amp is a switch and takes no value (ignored explicit argument '1')"),
    (["--dist_global_batch", "maybe"], "--dist_global_batch: expected true/false, got 'maybe'"),
    (["--lr", "0.1", "0.2"], "unexpected value '0.2' (not after a flag that takes it)"),
])
def test_a_bad_value_names_the_flag_and_the_type_expected(capsys, argv, message):
    assert error_of(capsys, argv) == f"main.py: error: {message}"


def test_errors_come_before_any_output_of_main(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main.main(["--n_epoch", "3", "--save_path", str(tmp_path / "runs")])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_full_flag_names_and_legacy_flags_still_parse():
    opt = parameters.parse_args(["--n_epochs", "3", "--source", "/data", "--mixup_alpha", "2.0",
                                 "--online_backend", "wandb", "--loss_mixupmargin_beta", "1.2"])
    assert (opt.n_epochs, opt.source_path) == (3, "/data")


def test_help_still_prints_the_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python main.py")
