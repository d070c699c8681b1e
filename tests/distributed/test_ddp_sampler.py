"""Under DDP each rank gets a disjoint slice of every global batch; together they make the batch."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import datasampler
import parameters
from conftest import TINY_GLYPHS

LABELS = np.repeat(np.arange(12), 5)  # 12 classes of 5 items


def rank_batches(name: str, world: int, epoch: int, bs: int = 24, k: int = 4) -> list[list[list[int]]]:
    """``out[rank][batch]``: the indices each rank's sampler yields in ``epoch``."""
    opt = parameters.parse_args(TINY_GLYPHS + ["--bs", str(bs), "--samples_per_class", str(k), "--seed", "3"])
    opt.data_sampler = name  # set after parsing: glyphs has no super-classes for `hierarchical`
    out = []
    for rank in range(world):
        sampler = datasampler.select(opt, LABELS, rank, world, categories=LABELS // 3)
        if getattr(sampler, "requires_storage", False):  # the same stored embeddings on every rank
            sampler.set_storage(np.random.default_rng(0).normal(size=(len(LABELS), 8)))
        sampler.set_epoch(epoch)
        out.append(list(sampler))
    return out


@pytest.mark.parametrize("world", [2, 3])
def test_ranks_are_disjoint_and_their_union_is_a_valid_p_by_k_batch(world):
    bs, k = 24, 4
    per_rank = rank_batches("class_random", world, epoch=2, bs=bs, k=k)
    whole = rank_batches("class_random", 1, epoch=2, bs=bs, k=k)[0]
    assert len({len(batches) for batches in per_rank}) == 1  # equal step counts: no rank waits
    for step, parts in enumerate(zip(*per_rank)):
        assert all(len(part) == bs // world for part in parts)
        union = [i for part in parts for i in part]
        assert len(set(union)) == len(union) == bs  # disjoint, and the full global batch
        assert union == whole[step]  # exactly the single-process batch, in rank order
        counts = Counter(LABELS[union].tolist())
        assert len(counts) == bs // k and set(counts.values()) == {k}  # P classes x K items


@pytest.mark.parametrize("name", datasampler.names())
def test_every_sampler_splits_its_global_batch_across_ranks(name):
    # A sampler that cannot draw from labels alone declares ``requires_storage``; rank_batches
    # gives it the same stored embeddings on every rank. Any other error is a failure.
    per_rank = rank_batches(name, 2, epoch=1)
    whole = rank_batches(name, 1, epoch=1)[0]
    for step, (a, b) in enumerate(zip(*per_rank)):
        assert not set(a) & set(b) and a + b == whole[step]


def test_a_global_batch_that_ranks_cannot_share_is_rejected():
    with pytest.raises(ValueError, match="not divisible by the 5 ranks"):
        rank_batches("class_random", 5, epoch=1, bs=24)
