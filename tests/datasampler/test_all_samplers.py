"""Sampler specifics: epoch lengths, without-replacement draws, super-classes, legacy flags."""
from __future__ import annotations

import numpy as np
import pytest

import datasampler
import parameters
from datasampler.storage import StorageSampler

LABELS = np.repeat(np.arange(12), 6)                  # 12 classes x 6 items = 72 items
CATEGORIES = LABELS // 4                              # 3 super-classes of 4 classes
STORAGE = np.random.default_rng(0).normal(size=(len(LABELS), 4))


def make(name, seed=3, rank=0, world_size=1, bs=8, k=2, extra=()):
    opt = parameters.parse_args(["--bs", str(bs), "--samples_per_class", str(k),
                                 "--seed", str(seed), "--data_batchmatch_bigbs", "24",
                                 "--data_m_per_class_length_before_new_iter", "40", *extra])
    opt.data_sampler = name             # glyphs has no super-classes; parse_args rejects hierarchical there
    sampler = datasampler.select(opt, LABELS, rank=rank, world_size=world_size, categories=CATEGORIES)
    if isinstance(sampler, StorageSampler):
        sampler.set_storage(STORAGE)
    return sampler


def epoch(sampler, e=1):
    sampler.set_epoch(e)
    return [list(b) for b in sampler]


# The checks every sampler must pass (batch size, P x K composition, determinism per seed and
# epoch, rank disjointness, state_dict resume) are its contract: the contracts package (contracts/sampler_checks.py)
# (check_sampler), run over every registered sampler by tests/contracts/test_contracts.py.
# Here: what is particular to one sampler, and the flags-to-arguments path of select().


def test_select_builds_every_sampler_from_flags():
    for name in datasampler.names():
        sampler = make(name)
        assert len(epoch(sampler)) == len(sampler) > 0


def test_hierarchical_batches_span_the_configured_super_classes():
    for batch in epoch(make("hierarchical")):
        assert len(np.unique(CATEGORIES[batch])) == 2


def test_epoch_lengths_follow_their_definitions():
    assert len(make("class_random")) == len(make("full_random")) == 72 // 8
    assert len(make("hierarchical")) == len(make("greedy_coreset")) == 9
    assert len(make("m_per_class")) == 40 // 8                   # length_before_new_iter // bs


def test_full_random_uses_each_item_once():
    batches = epoch(make("full_random"))
    flat = np.concatenate(batches)
    assert len(flat) == 72 and len(set(flat.tolist())) == 72


def test_balance_draws_without_replacement_until_classes_run_out():
    sampler = make("balance", bs=8, k=3, extra=["--bs", "12"])       # P = 4 classes x K = 3
    batches = epoch(sampler)
    flat = np.concatenate(batches)
    assert len(set(flat.tolist())) == len(flat)                        # no item twice in an epoch
    assert len(batches) == 12 * 2 // 4 == len(sampler)                 # every chunk used: 24 chunks / P
    uneven = datasampler.SAMPLERS.get("balance")(np.repeat(np.arange(5), [9, 3, 3, 3, 1]), 4, 2, seed=0)
    for b in uneven:
        assert len(set(b)) == 4 or b.count(18) == 2                  # a 1-item class repeats its item
    assert len(uneven) == len(list(uneven))


def test_hierarchical_needs_categories_and_enough_classes():
    cls = datasampler.SAMPLERS.get("hierarchical")
    with pytest.raises(ValueError, match="needs super-class labels"):
        cls(LABELS, 8, 2, categories=None)
    with pytest.raises(ValueError, match="only 0 super-class"):
        cls(LABELS, 20, 2, super_classes_per_batch=2, categories=CATEGORIES)


def test_legacy_sampler_flags_become_keyword_arguments():
    sampler = make("greedy_coreset", extra=["--data_gc_softened", "--data_storage_no_update",
                                            "--data_sampler_lowproj_dim", "2"])
    assert sampler.softened and not sampler.refresh_storage and sampler.lowproj_dim == 2 and sampler.pool_size == 24
    assert make("d2_coreset", extra=["--data_d2_coreset_lambda", "0.5"]).d2_lambda == 0.5
    assert make("fid_batchmatch", extra=["--data_batchmatch_ncomps", "3"]).n_candidates == 3


def test_hierarchical_on_a_dataset_without_super_classes_fails_at_parse_time(capsys):
    with pytest.raises(SystemExit):
        parameters.parse_args(["--data_sampler", "hierarchical", "--dataset", "glyphs"])
    assert "--data_sampler hierarchical needs super-class labels, which --dataset glyphs lacks" in capsys.readouterr().err
