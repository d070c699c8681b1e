"""Tuple machinery: chunked triplets, weights from mined tuples, n-pair sets."""
from __future__ import annotations

import pytest
import torch

from tests.criteria import revisiting_loop_refs as refs
from utilities.tuples import (TupleSets, all_pairs, all_triplets, element_weights, label_masks, map_triplets,
                              npair_sets, pair_weights, triplet_chunks, triplets_to_pairs, tuple_kind,
                              tuple_masks)


@pytest.mark.parametrize("budget", [1, 7, 50, 1 << 20])
def test_chunked_triplets_are_exactly_all_triplets(budget):
    _, labels = refs.batch(0)
    got = sorted(zip(*(c.tolist() for c in all_triplets(labels, max_triplets=budget))))
    assert got == sorted(refs.triplets(labels))


def test_chunks_respect_the_budget_at_b512():
    labels = torch.arange(256).repeat_interleave(2)          # B = 512, 2 per class
    pos, neg = label_masks(labels)
    budget = 50_000
    sizes = [c.anchors.numel() for c in triplet_chunks(pos, neg, budget)]
    assert sum(sizes) == 512 * 1 * 510 and max(sizes) <= budget and len(sizes) > 1


def test_self_pairs_are_explicit():
    labels = torch.tensor([0, 0, 1])
    with_self = all_pairs(labels, exclude_self=False)
    without = all_pairs(labels)
    assert (0, 0) in list(zip(with_self.anchors1.tolist(), with_self.positives.tolist()))
    assert (0, 0) not in list(zip(without.anchors1.tolist(), without.positives.tolist()))
    ref = torch.tensor([0, 1])                       # a separate reference set keeps its diagonal
    pos, _ = label_masks(labels, ref, exclude_self=False)
    assert pos[0, 0]


def test_weights_from_mined_tuples():
    t = (torch.tensor([0, 0, 1]), torch.tensor([1, 1, 0]), torch.tensor([2, 3, 2]))
    pos_w, neg_w = pair_weights(t, 4)
    assert pos_w[0, 1] == 2 and pos_w[1, 0] == 1 and neg_w[0, 2] == 1 and neg_w.sum() == 3
    assert element_weights(t, 4).tolist() == [3.0, 3.0, 2.0, 1.0]
    pairs = triplets_to_pairs(t)
    assert pairs.anchors1.numel() == 2 and pairs.anchors2.numel() == 3


def test_npair_sets_from_every_form():
    _, labels = refs.batch(1)
    internal = npair_sets(labels)
    from_triplets = npair_sets(labels, all_triplets(labels))
    from_pairs = npair_sets(labels, all_pairs(labels))
    for other in (from_triplets, from_pairs):
        key = lambda s: sorted(zip(s.anchors.tolist(), s.positives.tolist(), map(tuple, s.negatives.tolist())))  # noqa: E731
        assert key(other) == key(internal)
    lab = labels.tolist()
    for a, p, negs in zip(internal.anchors.tolist(), internal.positives.tolist(), internal.negatives.tolist()):
        assert lab[a] == lab[p] and a != p
        assert [i for i, m in enumerate(negs) if m] == [n for n in range(len(lab)) if lab[n] != lab[a]]


def test_sets_give_masks_weights_and_npair_rows():
    labels = torch.tensor([0, 0, 0, 1, 2])
    b = torch.zeros(3, 5, dtype=torch.bool)
    pos, neg = b.clone(), b.clone()
    pos[0, 1] = pos[1, 0] = pos[2, 0] = pos[2, 1] = True    # rows: anchor 0, anchor 2 (twice)
    neg[0, 3] = neg[1, 4] = neg[2, 3] = True
    sets = TupleSets(torch.tensor([0, 2, 2]), pos, neg)
    assert tuple_kind(sets) == tuple_kind(tuple(sets)) == "sets"
    pos_w, neg_w = pair_weights(sets, 5)
    want_pos = {(0, 1): 1, (2, 0): 2, (2, 1): 1}     # an anchor's sets: the union of its rows
    nonzero = map(tuple, torch.nonzero(pos_w).tolist())
    assert {k: int(v) for k, v in zip(nonzero, pos_w[pos_w > 0].tolist())} == want_pos
    assert set(map(tuple, torch.nonzero(neg_w).tolist())) == {(0, 3), (2, 4), (2, 3)}
    pm, nm = tuple_masks(labels, sets)
    assert torch.equal(pm, pos_w > 0) and torch.equal(nm, neg_w > 0)
    assert element_weights(sets, 5).tolist() == [1 + 2, 2, 2, 2, 1]   # as anchor + as member
    rows = npair_sets(labels, sets)
    got = sorted((a, p, tuple(n)) for a, p, n in zip(rows.anchors.tolist(), rows.positives.tolist(),
                                                      (torch.nonzero(r).flatten().tolist() for r in rows.negatives)))
    assert got == [(0, 1, (3,)), (2, 0, (3,)), (2, 0, (4,)), (2, 1, (3,))]


def test_map_triplets_over_chunks_and_pairs():
    _, labels = refs.batch(2)
    (values,), anchors = map_triplets(labels, None, lambda t: (t.anchors * 100 + t.positives * 10 + t.negatives,), 5)
    assert sorted(values.tolist()) == sorted(a * 100 + p * 10 + n for a, p, n in refs.triplets(labels))
    (count,), _ = map_triplets(labels, all_pairs(labels), lambda t: (t.anchors,))
    assert count.numel() == len(refs.triplets(labels))
    (empty,), _ = map_triplets(torch.tensor([0, 1]), None, lambda t: (t.anchors,))
    assert empty.numel() == 0
