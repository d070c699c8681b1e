"""End-to-end main.py runs: the run folder (docs/run_folder.md), resume, selection, W&B offline."""
from __future__ import annotations

import csv
import json
import os

import pytest
import torch

import main
from utilities.atomic import write_json


def run_dir(argv):
    save = argv[argv.index("--save_path") + 1]
    name = argv[argv.index("--savename") + 1]
    return os.path.join(save, "glyphs", name)


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_two_epoch_run_writes_every_contract_file(tiny_argv, capsys):
    assert main.main(tiny_argv + ["--n_epochs", "2"]) == 0
    out = capsys.readouterr().out
    folder = run_dir(tiny_argv)
    assert f"run folder: {folder}" in out and "e_recall@1" in out
    for name in ("config.json", "train.csv", "metrics.csv", "summary.json", "checkpoint_last.pt", "checkpoint_best.pt"):
        assert os.path.isfile(os.path.join(folder, name)), name
    config = json.load(open(os.path.join(folder, "config.json")))
    assert config["flags"]["lr"] == 1e-3 and "torch" in config["versions"] and "git_commit" in config
    assert config["world_size"] == 1   # torchrun runs record theirs; aggregation never pools across it
    train = read_csv(os.path.join(folder, "train.csv"))
    assert [r["epoch"] for r in train] == ["1", "2"]
    assert list(train[0])[:4] == ["epoch", "loss", "lr", "time_s"] and "miner_n_tuples" in train[0]
    rows = read_csv(os.path.join(folder, "metrics.csv"))
    assert list(rows[0])[:2] == ["epoch", "split"]
    assert {(r["epoch"], r["split"]) for r in rows} == {(e, s) for e in "12" for s in ("test", "train")}
    assert {"e_recall@1", "e_recall@2", "nmi"} <= set(rows[0])
    summary = json.load(open(os.path.join(folder, "summary.json")))
    assert summary["status"] == "completed" and summary["epochs_done"] == 2
    assert summary["selection"] == "last" and summary["best_epoch"] == 2
    test_last = [r for r in rows if r["split"] == "test" and r["epoch"] == "2"][0]
    assert summary["metrics"]["e_recall@1"] == pytest.approx(float(test_last["e_recall@1"]))
    assert summary["wall_time_s"] > 0
    state = torch.load(os.path.join(folder, "checkpoint_last.pt"), weights_only=False)
    assert {"model", "loss", "optimizer", "scheduler", "sampler", "rng", "epoch"} <= set(state)
    assert not [f for f in os.listdir(folder) if f.startswith(".tmp_")]


def test_no_train_metrics_and_eval_every(tiny_argv):
    main.main(tiny_argv + ["--n_epochs", "3", "--no_train_metrics", "--eval_every", "2"])
    rows = read_csv(os.path.join(run_dir(tiny_argv), "metrics.csv"))
    assert [(r["epoch"], r["split"]) for r in rows] == [("2", "test"), ("3", "test")]


def test_resume_gives_the_same_metrics_as_a_straight_run(tmp_path):
    from conftest import TINY_GLYPHS
    straight = TINY_GLYPHS + ["--save_path", str(tmp_path / "a"), "--savename", "r", "--no_train_metrics"]
    split = TINY_GLYPHS + ["--save_path", str(tmp_path / "b"), "--savename", "r", "--no_train_metrics"]
    main.main(straight + ["--n_epochs", "3"])
    main.main(split + ["--n_epochs", "2"])
    main.main(split + ["--n_epochs", "3", "--resume", run_dir(split)])
    a = read_csv(os.path.join(run_dir(straight), "metrics.csv"))
    b = read_csv(os.path.join(run_dir(split), "metrics.csv"))
    assert a == b
    ta = [{k: v for k, v in r.items() if k != "time_s"} for r in read_csv(os.path.join(run_dir(straight), "train.csv"))]
    tb = [{k: v for k, v in r.items() if k != "time_s"} for r in read_csv(os.path.join(run_dir(split), "train.csv"))]
    assert ta == tb
    summary = json.load(open(os.path.join(run_dir(split), "summary.json")))
    assert summary["status"] == "completed" and summary["epochs_done"] == 3


def test_resume_rejects_changed_flags(tiny_argv, capsys):
    main.main(tiny_argv + ["--n_epochs", "1", "--no_train_metrics"])
    with pytest.raises(SystemExit) as exc:
        main.main(tiny_argv + ["--n_epochs", "2", "--lr", "0.5", "--resume", run_dir(tiny_argv)])
    assert exc.value.code == 2
    assert "--lr saved 0.001, typed 0.5" in capsys.readouterr().err


def test_existing_run_folder_is_not_overwritten(tiny_argv, capsys):
    main.main(tiny_argv + ["--n_epochs", "1", "--no_train_metrics"])
    with pytest.raises(SystemExit) as exc:
        main.main(tiny_argv + ["--n_epochs", "1"])
    assert exc.value.code == 2 and "--resume" in capsys.readouterr().err


@pytest.mark.parametrize("selection", ["val", "test_max"])
def test_selection_modes_pick_the_best_epoch(tiny_argv, selection):
    main.main(tiny_argv + ["--n_epochs", "3", "--use_tv_split", "--selection", selection,
                           "--no_train_metrics", "--glyphs_n_classes", "20"])
    folder = run_dir(tiny_argv)
    rows = read_csv(os.path.join(folder, "metrics.csv"))
    split = "val" if selection == "val" else "test"
    scores = {int(r["epoch"]): float(r["e_recall@1"]) for r in rows if r["split"] == split}
    best = max(scores, key=lambda e: (scores[e], -e))
    summary = json.load(open(os.path.join(folder, "summary.json")))
    assert summary["best_epoch"] == best
    best_state = torch.load(os.path.join(folder, "checkpoint_best.pt"), weights_only=False)
    assert best_state["epoch"] == best


@pytest.mark.slow
def test_wandb_offline_logging(tiny_argv, monkeypatch):
    import wandb  # noqa: F401  (in requirements.txt: a missing install is a failure, not a skip)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    assert main.main(tiny_argv + ["--n_epochs", "1", "--log_online", "--no_train_metrics"]) == 0
    folder = run_dir(tiny_argv)
    assert os.path.isdir(os.path.join(folder, "wandb"))
    config = json.load(open(os.path.join(folder, "config.json")))
    assert config["flags"]["wandb_key"] == "<redacted>"


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = str(tmp_path / "summary.json")
    write_json(path, {"status": "running"})

    class Boom:
        def __str__(self):
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        write_json(path, {"status": Boom()})
    assert json.load(open(path)) == {"status": "running"}
    assert os.listdir(tmp_path) == ["summary.json"]


def test_selection_direction_follows_the_metric():
    import metrics
    from training.selection import EpochSelector
    assert metrics.parse("e_recall@1").higher_is_better and metrics.parse("dists@inter").higher_is_better
    assert not metrics.parse("dists@intra").higher_is_better
    assert not metrics.parse("rho_spectrum@2").higher_is_better
    sel = EpochSelector("test_max", "dists@intra", higher_is_better=False)
    for epoch, value in ((1, 0.5), (2, 0.3), (3, 0.4)):
        sel.update(epoch, {"test": {"dists@intra": value}})
    assert sel.best_epoch == 2


def test_only_rank_0_removes_leftover_temporary_files_on_resume(tmp_path, monkeypatch):
    """Under torchrun every rank restores the logs, but only rank 0 writes: another rank removing
    the ``.tmp_*`` files would delete rank 0's write in progress (a resume then failed at random)."""
    import training.run_folder as run_folder
    leftover = tmp_path / ".tmp_abc_config.json"
    leftover.write_text("{}")
    monkeypatch.setattr(run_folder, "is_main", lambda: False)
    run_folder.RunFolder(str(tmp_path)).restore_logs(0, 0.0, {"train": [], "metrics": []})
    assert leftover.exists()
    monkeypatch.setattr(run_folder, "is_main", lambda: True)
    run_folder.RunFolder(str(tmp_path)).restore_logs(0, 0.0, {"train": [], "metrics": []})
    assert not leftover.exists()
