"""Embedding-storage samplers: one pool for selection and index mapping, storage refresh, cost."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import datasampler

LABELS = np.repeat(np.arange(20), 3)
STORAGE_NAMES = ("greedy_coreset", "d2_coreset", "disthist_batchmatch", "fid_batchmatch")


def build(name, **kw):
    return datasampler.SAMPLERS.get(name)(LABELS, batch_size=8, samples_per_class=2, pool_size=24, seed=1, **kw)


@pytest.mark.parametrize("name", STORAGE_NAMES)
def test_selection_and_index_mapping_use_the_same_pool(name, monkeypatch):
    """The embeddings the rule chose from are exactly the stored embeddings of the batch's items."""
    sampler = build(name)
    storage = np.random.default_rng(0).normal(size=(len(LABELS), 3))
    sampler.set_storage(storage)
    seen = []
    choose = type(sampler).choose

    def recording_choose(self, pool_emb, pool_classes, rng):
        positions = choose(self, pool_emb, pool_classes, rng)
        seen.append(pool_emb[positions])
        return positions
    monkeypatch.setattr(type(sampler), "choose", recording_choose)
    batches = [list(b) for b in sampler]
    assert len(batches) == len(seen) == len(sampler)
    for batch, chosen in zip(batches, seen):
        if name.endswith("coreset"):                                    # anchors first, one per class
            anchors = np.asarray(batch).reshape(-1, 2)[:len(chosen), 0]
        else:
            anchors = np.asarray(batch)
        np.testing.assert_allclose(storage[anchors], chosen)


def test_greedy_coreset_picks_the_far_outliers():
    storage = np.zeros((len(LABELS), 2))
    storage += np.random.default_rng(0).normal(scale=0.01, size=storage.shape)
    outliers = {0: (50, 0), 3: (-50, 0), 6: (0, 50)}                   # items of classes 0, 1, 2
    for item, point in outliers.items():
        storage[item] = point
    sampler = build("greedy_coreset")
    sampler.pool_size = len(LABELS)                                    # the pool is the whole set
    sampler.set_storage(storage)
    for batch in sampler:
        assert set(outliers) <= set(batch)


def test_storage_is_refreshed_from_training_batches_unless_disabled():
    for refresh in (True, False):
        sampler = build("fid_batchmatch", refresh_storage=refresh)
        sampler.set_storage(np.zeros((len(LABELS), 3)))
        for batch in sampler:
            sampler.update_storage(torch.ones(len(batch), 3))
            assert bool((sampler.storage[batch] == 1).all()) is refresh
        assert set(sampler.stats) == {"sampler_select_s", "sampler_storage_update_s"}


def test_storage_travels_in_the_state_dict_and_is_required():
    sampler = build("d2_coreset")
    with pytest.raises(RuntimeError, match="needs set_storage"):
        list(sampler)
    sampler.set_storage(np.random.default_rng(1).normal(size=(len(LABELS), 3)))
    sampler.set_epoch(2)
    state = sampler.state_dict()
    expected = [list(b) for b in sampler]
    fresh = build("d2_coreset")
    fresh.load_state_dict(state)
    assert [list(b) for b in fresh] == expected


def test_training_loop_feeds_the_storage_hook_of_the_sampler_it_is_given():
    """The loop is handed the sampler; it does not dig it out of the loader (here a plain list)."""
    from training.loop import train_epoch
    from training.objective import Objective
    sampler = build("greedy_coreset")
    sampler.set_storage(np.zeros((len(LABELS), 4)))
    features, labels = torch.randn(len(LABELS), 4), torch.as_tensor(LABELS)
    loader = [(features[batch], labels[batch]) for batch in map(list, sampler)]
    model = torch.nn.Linear(4, 4)
    loss = criteria_square()
    row = train_epoch(model, Objective(loss), loader, torch.optim.SGD(model.parameters(), lr=0.1),
                      torch.device("cpu"), 1, sampler=sampler)
    assert "sampler_select_s" in row and not sampler.pending
    assert float(sampler.storage.abs().sum()) > 0


def test_main_run_fills_storage_and_logs_sampler_cost(tiny_argv):
    import csv
    import os

    import main
    assert main.main(tiny_argv + ["--data_sampler", "greedy_coreset", "--n_epochs", "1",
                                  "--data_batchmatch_bigbs", "32", "--no_train_metrics"]) == 0
    save_path = tiny_argv[tiny_argv.index("--save_path") + 1]
    with open(os.path.join(save_path, "glyphs", "tiny", "train.csv")) as fh:
        row = next(csv.DictReader(fh))
    assert float(row["sampler_select_s"]) >= 0 and float(row["sampler_storage_update_s"]) >= 0


def criteria_square():
    """A loss ``mean(e^2)`` that takes no tuples (the storage hook does not depend on the loss)."""
    from criteria.base import BaseLoss
    from criteria.terms import LossTerm

    class SquareLoss(BaseLoss):
        takes = ()

        def compute_loss(self, embeddings, labels, indices_tuple):
            return {"square": LossTerm(embeddings.pow(2).mean(), "reduced")}
    return SquareLoss()
