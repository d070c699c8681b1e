"""``--skip_nonfinite``: a skipped batch changes nothing, and an epoch that skipped every batch
fails the run instead of ending ``completed`` with a made-up loss."""
from __future__ import annotations

import json
import os

import pytest
import torch
from torch import nn

import criteria
import main
from criteria.margin import MarginLoss
from training.loop import NonFiniteLossError, train_epoch


class NaNOn(nn.Module):
    """An objective whose loss is NaN on the batches whose first label is in ``bad`` (test only)."""

    def __init__(self, bad):
        super().__init__()
        self.bad = set(bad)
        self.stats = {}

    def forward(self, embeddings, labels):
        loss = embeddings.pow(2).mean()
        return loss * float("nan") if int(labels[0]) in self.bad else loss


def model_and_batches():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    batches = [(torch.randn(6, 4) * (i + 1), torch.full((6,), i)) for i in range(3)]
    return model, batches


def state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def run_epoch(model, batches, bad, budget):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return train_epoch(model, NaNOn(bad), batches, optimizer, torch.device("cpu"), 1, skip_budget=budget)


def test_a_skipped_batch_changes_nothing():
    """Batch 1 is skipped: weights and BatchNorm statistics (running mean, variance and
    num_batches_tracked) equal those of an epoch that never saw it."""
    model, batches = model_and_batches()
    row = run_epoch(model, batches, bad={1}, budget=5)
    reference, _ = model_and_batches()
    run_epoch(reference, [batches[0], batches[2]], bad=set(), budget=5)
    assert row["skipped_nonfinite"] == 1
    for key, value in state(reference).items():
        assert torch.equal(state(model)[key], value), key


def test_an_epoch_that_skipped_every_batch_fails_and_changes_nothing():
    model, batches = model_and_batches()
    before = state(model)
    with pytest.raises(NonFiniteLossError, match="every batch of epoch 1 .*3 skipped"):
        run_epoch(model, batches, bad={0, 1, 2}, budget=10)
    for key, value in before.items():
        assert torch.equal(state(model)[key], value), key


class AlwaysNaN(MarginLoss):
    """Margin loss that is NaN on every batch (test only)."""

    def forward(self, embeddings, labels, indices_tuple=None):
        return super().forward(embeddings, labels, indices_tuple) * float("nan")


@pytest.mark.slow
def test_run_whose_epochs_skip_every_batch_ends_failed(tiny_argv, capsys):
    """It used to end ``completed``, exit 0, with loss 0.0 in ``train.csv``."""
    criteria.LOSSES.register("test_always_nan")(AlwaysNaN)
    try:
        code = main.main(tiny_argv + ["--loss", "test_always_nan", "--n_epochs", "2", "--skip_nonfinite", "100"])
    finally:
        del criteria.LOSSES._entries["test_always_nan"]
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "every batch of epoch 1" in err
    folder = os.path.join(tiny_argv[tiny_argv.index("--save_path") + 1], "glyphs", "tiny")
    summary = json.load(open(os.path.join(folder, "summary.json")))
    assert summary["status"] == "failed" and "nothing was trained" in summary["error"]
