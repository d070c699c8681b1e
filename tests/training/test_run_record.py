"""The run record: the one reader of a run folder, the identity of a run, and one best-epoch rule
shared by training and aggregation."""
from __future__ import annotations

import json
import math
import random

import pytest
import torch

from aggregation.selection import select
from training.checkpoint import CheckpointError
from training.run_record import RunFolderError, RunRecord
from training.selection import EpochSelector


def write_run(folder, flags, data=None, summary=None):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"flags": flags, **({"data": data} if data else {})}))
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary))
    return RunRecord(str(folder))


def test_identity_is_flags_and_data_not_where_or_how(tmp_path):
    flags = {"dataset": "omniglot", "lr": 1e-3, "seed": 0, "source_path": "/data/a", "kernels": 2}
    data = {"source": "/data/a", "fingerprint": "f" * 64}
    run = write_run(tmp_path / "a", flags, data)
    copy = write_run(tmp_path / "b", {**flags, "source_path": "/mnt/a", "kernels": 8}, data)
    seed1 = write_run(tmp_path / "c", {**flags, "seed": 1}, data)
    other_data = write_run(tmp_path / "d", flags, {"source": "/data/b", "fingerprint": "e" * 64})
    other_lr = write_run(tmp_path / "e", {**flags, "lr": 0.5}, data)
    assert run.same_run(copy) and run.same_configuration(seed1) and not run.same_run(seed1)
    assert not run.same_configuration(other_data) and not run.same_configuration(other_lr)


def test_a_folder_that_is_not_a_run_is_one_line(tmp_path):
    record = RunRecord(str(tmp_path))
    assert not record.readable() and record.summary == {} and record.status is None
    with pytest.raises(RunFolderError, match="is not a run folder"):
        record.config
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="is not valid JSON"):
        RunRecord(str(tmp_path)).flags


def test_restore_model_raises_instead_of_exiting(tmp_path):
    """It used to be evaluation.cli.restore_run, which exits (SystemExit 2): studies and bench
    called it with forged argparse namespaces."""
    record = write_run(tmp_path / "run", {"dataset": "glyphs"})
    (tmp_path / "run" / "checkpoint_best.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable torch checkpoint"):
        record.restore_model("checkpoint_best.pt")
    torch.save({"config": {"dataset": "glyphs"}}, tmp_path / "run" / "checkpoint_last.pt")
    with pytest.raises(CheckpointError, match="missing model"):
        record.restore_model("checkpoint_last.pt")


@pytest.mark.parametrize("mode", ["last", "val", "test_max"])
@pytest.mark.parametrize("higher", [True, False])
def test_training_and_aggregation_select_the_same_epoch(mode, higher):
    metric = "e_recall@1" if higher else "dists@intra"
    rng = random.Random(f"{mode}{higher}")
    for _ in range(50):
        rows, selector = [], EpochSelector(mode, metric, higher)
        for epoch in range(1, rng.randint(1, 8) + 1):
            results = {split: {metric: rng.choice([0.1, 0.2, 0.3, math.nan])} for split in ("val", "test")}
            rows += [{"epoch": epoch, "split": split, **values} for split, values in results.items()]
            selector.update(epoch, results)
        try:
            _, epoch = select(rows, mode, metric)
        except ValueError:      # nothing to select (every value NaN)
            epoch = None
        assert epoch == selector.best_epoch, rows
