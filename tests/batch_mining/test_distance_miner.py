"""The distance-weighted miner: validity of its triplets and its upper cutoff."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from batch_mining.distance import DistanceWeightedMiner


@pytest.mark.parametrize("seed", range(5))
def test_distance_miner_yields_only_valid_triplets(seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 5, (40,), generator=g)
    emb = F.normalize(torch.randn(40, 16, generator=g), dim=1)
    miner = DistanceWeightedMiner(lower_cutoff=0.5, upper_cutoff=1.4)
    a, p, n = miner(emb, labels)
    assert a.dtype == p.dtype == n.dtype == torch.int64 and len(a) > 0
    assert (labels[a] == labels[p]).all() and (a != p).all() and (labels[a] != labels[n]).all()
    assert {"miner_n_tuples", "miner_mean_pos_dist", "miner_mean_neg_dist", "miner_active_anchor_frac"} <= set(miner.stats)


def test_upper_cutoff_excludes_far_negatives_when_closer_ones_exist():
    torch.manual_seed(0)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    # anchor 0 at e1; class 1 far away (distance ~2), class 2 close (distance ~0.8)
    e = torch.tensor([[1.0, 0, 0], [0.9, 0.1, 0], [-1, 0, 0], [-0.9, -0.1, 0], [0.6, 0.8, 0], [0.5, 0.85, 0]])
    emb = F.normalize(e, dim=1)
    miner = DistanceWeightedMiner(lower_cutoff=0.5, upper_cutoff=1.4)
    for _ in range(50):
        a, p, n = miner(emb, labels)
        assert (labels[n[a == 0]] == 2).all()
