"""The batch-sampler contract: ``len(sampler)`` batches of ``batch_size`` valid indices (P x K
classes when it takes ``samples_per_class``), a function of (seed, epoch), split across ranks,
and resumable from its ``state_dict``."""
from __future__ import annotations

from typing import Any

import numpy as np

from contracts.base import Subject, check, tagger
from contracts.build import SAMPLER_BS, SAMPLER_K, SAMPLER_LABELS, takes


@tagger("sampler")
def sampler_tags(cls: type) -> set[str]:
    """``pk_batches``: it takes ``samples_per_class`` and draws P classes x K items per batch."""
    return {"pk_batches"} if takes(cls, "samples_per_class") else set()


def epoch_batches(sampler: Any, epoch: int = 1) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return [list(b) for b in sampler]


@check("sampler")
def check_sampler_batches(subject: Subject) -> None:
    """``len(sampler)`` batches of ``batch_size`` valid indices, without repeats (P x K when it takes K)."""
    batches = epoch_batches(subject.build())
    assert len(batches) == len(subject.build()) > 0, f"yielded {len(batches)} batches, len() says otherwise"
    pk = "pk_batches" in subject.tags
    for b in batches:
        assert len(b) == SAMPLER_BS, f"a batch of {len(b)}, not {SAMPLER_BS}"
        assert all(isinstance(i, int) and 0 <= i < len(SAMPLER_LABELS) for i in b), f"bad index in {b}"
        if pk:
            classes, counts = np.unique(SAMPLER_LABELS[b], return_counts=True)
            assert len(classes) == SAMPLER_BS // SAMPLER_K and (counts == SAMPLER_K).all(), (
                f"batch is not P x K = {SAMPLER_BS // SAMPLER_K} x {SAMPLER_K}: {SAMPLER_LABELS[b].tolist()}")
        else:
            assert len(set(b)) == len(b), "repeats an item within a batch"


@check("sampler")
def check_sampler_determinism(subject: Subject) -> None:
    """Batches are a function of (seed, epoch): the same for the same pair, different otherwise."""
    assert epoch_batches(subject.build(), 2) == epoch_batches(subject.build(), 2), "not deterministic"
    assert epoch_batches(subject.build(), 2) != epoch_batches(subject.build(), 3), "epochs repeat"
    assert epoch_batches(subject.build(seed=4), 2) != epoch_batches(subject.build(), 2), "ignores the seed"


@check("sampler")
def check_sampler_ranks(subject: Subject) -> None:
    """Two ranks split each global batch into disjoint halves (by whole classes for P x K)."""
    whole = epoch_batches(subject.build())
    r0 = epoch_batches(subject.build(rank=0, world_size=2))
    r1 = epoch_batches(subject.build(rank=1, world_size=2))
    assert len(r0) == len(r1) == len(whole), "ranks yield different batch counts"
    pk = "pk_batches" in subject.tags
    for b0, b1, b in zip(r0, r1, whole):
        assert len(b0) == len(b1) == SAMPLER_BS // 2 and b0 + b1 == b, "ranks do not split the global batch"
        if pk:
            assert not set(SAMPLER_LABELS[b0]) & set(SAMPLER_LABELS[b1]), "a class is split across ranks"
        else:
            assert not set(b0) & set(b1), "ranks share an item"


@check("sampler")
def check_sampler_state_dict(subject: Subject) -> None:
    """A fresh sampler given the ``state_dict`` of another replays its epoch."""
    sampler = subject.build()
    sampler.set_epoch(5)
    state = sampler.state_dict()
    expected = [list(b) for b in sampler]
    fresh = subject.build()
    fresh.load_state_dict(state)
    assert [list(b) for b in fresh] == expected, "state_dict does not resume the epoch"
