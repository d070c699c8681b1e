"""Every flag's domain is checked while parsing: one line naming the flag, the value and what is
expected, exit code 2, before any run folder exists (issue "Reliability, second pass", items 9-10)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import datasets
import parameters
from conftest import ROOT, TINY_GLYPHS, one_line_error


BAD_VALUES = [
    ("--embed_dim", "0"), ("--embed_dim", "-5"),
    ("--lr", "0"), ("--lr", "-0.001"), ("--lr", "nan"), ("--lr", "inf"),
    ("--fc_lr", "0"), ("--fc_lr", "-2"), ("--fc_lr", "nan"),
    ("--gamma", "-0.3"), ("--gamma", "0"), ("--tau", "-1"), ("--tau", "5", "-2"),
    ("--decay", "-0.1"), ("--decay", "nan"),
    ("--train_eval_subset", "-1"), ("--eval_bs", "-1"), ("--plot_retrievals", "-1"), ("--skip_nonfinite", "-1"),
    ("--cache_resized", "-1"),
    ("--tv_split_perc", "0"), ("--tv_split_perc", "1"), ("--tv_split_perc", "1.5"), ("--tv_split_perc", "nan"),
    ("--glyphs_n_classes", "2"), ("--glyphs_samples", "1"), ("--glyphs_image_size", "4"),
    ("--kernels", "-1"), ("--seed", "-1"), ("--seed", str(2**32)),
    ("--bs", "0"), ("--bs", "-16"), ("--samples_per_class", "0"),
    ("--n_epochs", "0"), ("--eval_every", "0"), ("--gpu", "-1"),
    ("--xbm_memory_size", "-1"), ("--loss_weight_decay", "-1"), ("--embedding_reg_weight", "inf"),
    ("--data_batchmatch_ncomps", "0"), ("--data_sampler_lowproj_dim", "0"),
    ("--loss_margin_beta", "nan"), ("--loss_margin_margin", "inf"), ("--miner_distance_lower_cutoff=-inf",),
    ("--miner_parametric_support_lim", "0.1", "nan"), ("--data_mb_mom", "nan"),
    ("--arch_convnet_width", "0"), ("--folder_train_frac", "1.5"), ("--cub200_image_size", "-1"),
]


@pytest.mark.parametrize("argv", BAD_VALUES, ids=lambda a: " ".join(a))
def test_a_value_outside_the_flag_domain_is_refused_in_one_line(capsys, argv):
    flag, values = argv[0].split("=")[0], argv[1:] or argv[0].split("=")[1:]
    err = one_line_error(capsys, list(argv))
    assert err.startswith(f"main.py: error: {flag} "), err
    assert "expected" in err, err
    assert any(v.lstrip("-") in err for v in values), err


def float_flags() -> list[str]:
    return sorted(a.option_strings[0] for a in parameters.build_parser()._actions
                  if a.type is float and a.option_strings)


@pytest.mark.parametrize("flag", float_flags())
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_every_float_flag_refuses_nan_and_infinity(capsys, flag, value):
    err = one_line_error(capsys, [f"{flag}={value}"])   # '=' lets argparse take '-inf' as a value
    assert err.startswith(f"main.py: error: {flag} ") and "finite" in err, err


def test_float_flags_include_generated_component_flags():
    flags = float_flags()
    assert "--loss_margin_beta" in flags and "--miner_distance_upper_cutoff" in flags and "--lr" in flags


@pytest.mark.parametrize("argv", [
    ["--fc_lr", "-1"], ["--fc_lr", "0.01"], ["--tv_split_perc", "0.5", "--use_tv_split"], ["--seed", "0"],
    ["--kernels", "0"], ["--cache_resized", "0"], ["--skip_nonfinite", "3"], ["--gamma", "1"],
    ["--glyphs_n_classes", "4", "--glyphs_samples", "2", "--glyphs_image_size", "8"],
    ["--data_sampler_lowproj_dim", "-1"], ["--loss_margin_nu", "0"],
])
def test_values_inside_the_domain_are_accepted(argv):
    parameters.parse_args(argv)


@pytest.mark.parametrize("dataset", datasets.names())
def test_every_dataset_preset_lies_inside_the_flag_domains(dataset):
    parser = parameters.build_parser()
    parser.set_defaults(**datasets.DATASETS.get(dataset).preset)
    parameters.check_domains(parser, parser.parse_args(["--dataset", dataset]))


@pytest.mark.parametrize("argv,flag", [
    (["--savename", ""], "--savename"), (["--savename", "."], "--savename"), (["--savename", ".."], "--savename"),
    (["--savename", "a/b"], "--savename"), (["--savename", "../escape"], "--savename"),
    (["--savename", "x" * 256], "--savename"), (["--savename", "é" * 128], "--savename"),
    (["--group", "g" * 260], "--group"), (["--group", "a/b"], "--group"),
])
def test_a_savename_that_is_not_one_file_name_is_refused(capsys, argv, flag):
    err = one_line_error(capsys, argv)
    assert err.startswith(f"main.py: error: {flag} "), err


def test_the_longest_savename_is_accepted():
    assert parameters.parse_args(["--savename", "x" * 255]).savename == "x" * 255


def test_eval_splits_val_needs_a_validation_split(capsys):
    err = one_line_error(capsys, ["--eval_splits", "test", "val"])
    assert err.startswith("main.py: error: --eval_splits test val:") and "--use_tv_split" in err
    assert parameters.parse_args(["--eval_splits", "test", "val", "--use_tv_split"]).eval_splits == ["test", "val"]


def test_selection_needs_its_split_among_eval_splits(capsys):
    err = one_line_error(capsys, ["--eval_splits", "test", "--use_tv_split", "--selection", "val"])
    assert "--selection val" in err


def test_argparse_errors_are_one_line_too(capsys):
    assert "--lr" in one_line_error(capsys, ["--lr", "abc"])
    assert "--no_such_flag" in one_line_error(capsys, ["--no_such_flag"])


@pytest.mark.slow
def test_main_refuses_embed_dim_0_before_creating_the_run_folder(tmp_path):
    argv = [a for a in TINY_GLYPHS]
    argv[argv.index("--embed_dim") + 1] = "0"
    save = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "main.py", *argv, "--save_path", str(save), "--savename", "e0",
                           "--n_epochs", "1"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, CUDA_VISIBLE_DEVICES="", WANDB_MODE="disabled"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "main.py: error: --embed_dim 0: expected in [1, 65536]"
    assert not save.exists()


def test_rho_spectrum_beyond_embed_dim_is_refused_at_parse_time(capsys):
    """The data can never give more singular values than the embedding has dimensions."""
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--embed_dim", "8", "--evaluation_metrics", "e_recall@1", "rho_spectrum@10"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and "rho_spectrum@10" in err and "--embed_dim 8" in err
    assert parameters.parse_args(["--embed_dim", "8", "--evaluation_metrics", "e_recall@1", "rho_spectrum@-8"]).embed_dim == 8
