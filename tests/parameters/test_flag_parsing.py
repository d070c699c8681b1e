"""parameters.py: the documented flag set, layered defaults, and one-line errors with exit code 2."""
from __future__ import annotations

import pytest

import parameters
from revisiting_tool_flags import OLD_BASIC, OLD_COMPONENT, component_registered

CONTRACT_FLAGS = (
    "--dataset --use_tv_split --tv_split_by_samples --tv_split_perc --augmentation --lr --fc_lr --decay "
    "--n_epochs --kernels --bs --seed --scheduler --gamma --tau --optim --loss --batch_mining --embed_dim "
    "--not_pretrained --arch --no_train_metrics --evaluate_on_gpu --evaluation_metrics --storage_metrics "
    "--evaltypes --gpu --savename --source_path --save_path --log_online --wandb_key --project --group "
    "--data_sampler --samples_per_class --data_batchmatch_bigbs --data_batchmatch_ncomps "
    "--data_storage_no_update --data_d2_coreset_lambda --data_sampler_lowproj_dim --data_gc_softened "
    "--loss_distance --loss_reducer --embedding_regularizer --embedding_reg_weight --weight_regularizer "
    "--weight_reg_weight --miner_distance_fn --eval_every --eval_splits --selection --resume --device "
    "--amp --config --source --loss_margin_beta --miner_rho_distance_cp").split()


def option_strings() -> set[str]:
    return {s for a in parameters.build_parser()._actions for s in a.option_strings}


def test_every_contract_flag_exists():
    known = option_strings()
    missing = [f for f in CONTRACT_FLAGS if f not in known]
    assert missing == []


@pytest.mark.parametrize("flag,default", sorted(OLD_BASIC.items()))
def test_old_tool_basic_flags_keep_name_and_default(flag, default):
    parser = parameters.build_parser()
    if flag == "kernels":        # one worker per core this process may use (at most 8), not a fixed 6
        assert parser.get_default(flag) == parameters.default_workers()
        return
    if flag == "batch_mining":   # resolved per loss: the old default for the losses that required a miner
        assert parser.get_default(flag) is None
        assert parameters.parse_args(["--loss", "margin"]).batch_mining == default
        return
    assert parser.get_default(flag) == default


@pytest.mark.parametrize("loss,miner", [("margin", "distance"), ("triplet", "distance"), ("snr", "distance"),
                                        ("npair", "npair"), ("angular", "npair"), ("lifted", "lifted"),
                                        ("ntxent", "none"), ("multisimilarity", "none"), ("arcface", "none"),
                                        ("ntxent+margin", "distance")])
def test_a_miner_runs_only_when_named_or_required_by_the_loss(loss, miner, tmp_path):
    opt = parameters.parse_args(["--loss", loss])
    assert opt.batch_mining == miner
    assert parameters.parse_args(["--loss", loss, "--batch_mining", "none"]).batch_mining == "none"
    assert parameters.parse_args(["--loss", "ntxent", "--batch_mining", "batch_hard"]).batch_mining == "batch_hard"


def test_a_miner_named_for_a_loss_that_takes_no_tuples_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--loss", "arcface", "--batch_mining", "distance"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--batch_mining distance" in err and "--loss arcface" in err


@pytest.mark.parametrize("flag,default", sorted(OLD_COMPONENT.items()))
def test_old_tool_component_flags_keep_name_and_default(flag, default):
    kind, name = ("loss", flag.split("_")[1]) if flag.startswith("loss_") else ("miner", flag.split("_")[1])
    assert component_registered(kind, flag), f"{kind} for --{flag} is not registered"
    assert parameters.build_parser().get_default(flag) == pytest.approx(default)


def test_source_is_the_documented_spelling_of_source_path(tmp_path):
    opt = parameters.parse_args(["--source", str(tmp_path)])
    assert opt.source_path == str(tmp_path)


def test_layers_apply_in_order(tmp_path):
    builtin = parameters.build_parser()
    assert builtin.get_default("lr") == 1e-5                      # 1. built-in (old tool)
    assert parameters.parse_args([]).lr == 1e-3                   # 2. glyphs preset
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lr: 0.02\nbs: 64\ntau: [3, 5]\n")
    opt = parameters.parse_args(["--config", str(cfg)])
    assert (opt.lr, opt.bs, opt.tau) == (0.02, 64, [3, 5])         # 3. config over preset
    opt = parameters.parse_args(["--config", str(cfg), "--lr", "0.5"])
    assert (opt.lr, opt.bs) == (0.5, 64)                          # 4. command line over config


def test_config_can_choose_the_dataset_and_gets_its_preset(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dataset: digits\n")
    opt = parameters.parse_args(["--config", str(cfg)])
    assert opt.dataset == "digits" and opt.bs == 40 and opt.samples_per_class == 10


def expect_error(capsys, argv, *fragments):
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_bs_not_divisible(capsys):
    expect_error(capsys, ["--bs", "30", "--samples_per_class", "4"], "--bs 30", "--samples_per_class 4")


def test_unknown_loss_lists_closest_first(capsys):
    err = expect_error(capsys, ["--loss", "margn"], "--loss", "unknown loss 'margn'")
    assert err.split("Closest: ")[1].startswith("margin")


def test_unknown_metric_and_storage_metric(capsys):
    expect_error(capsys, ["--evaluation_metrics", "e_recal@1"], "unknown metric")
    expect_error(capsys, ["--storage_metrics", "nmi", "--evaluation_metrics", "e_recall@1"], "--storage_metrics")


def test_bad_config_key_and_type(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("lrr: 0.1\n")
    expect_error(capsys, ["--config", str(cfg)], "unknown key 'lrr'", "lr")
    cfg.write_text("bs: many\n")
    expect_error(capsys, ["--config", str(cfg)], "key 'bs'")


def test_missing_resume_folder(tmp_path, capsys):
    expect_error(capsys, ["--resume", str(tmp_path / "nope")], "--resume")


def test_default_savename():
    assert parameters.parse_args(["--group", "Margin_D", "--seed", "3"]).savename == "Margin_D_s3"
    name = parameters.parse_args(["--seed", "3"]).savename
    assert name.startswith("glyphs_margin_distance_s3_")
