"""Random triplets inside one class."""
from __future__ import annotations

import torch

from batch_mining import MINERS
from batch_mining.random import RandomTripletMiner
from batch_mining.sampling import uniform_in
from utilities.tuples import Triplets, empty_triplets, label_masks


@MINERS.register("intra_random")
class IntraClassRandomMiner(RandomTripletMiner):
    """Random triplets whose three members share one class (the Revisiting-DML ``intra_random``
    miner, used for intra-class feature learning as in DiVA, Milbich et al., ECCV 2020).

    Each triplet picks a class uniformly among the batch's classes with at least two samples,
    an anchor uniformly in it, and ``p`` and ``n`` independently and uniformly among the other
    members of that class. The "negative" is therefore of the anchor's own class: the loss
    learns to spread a class out. (The old tool also allowed ``p == a``, a triplet with nothing
    to learn; here ``p, n != a``.)

    Parameters
    ----------
    n_triplets : int
        Triplets drawn per batch; 0 means the batch size (the old tool's choice).
    """

    label_consistent = False

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        pos, _ = label_masks(labels)
        n_pos = pos.sum(1)
        if not bool((n_pos > 0).any()):
            return empty_triplets(labels.device)
        # anchor weight 1/|class| (classes with >= 2 members): the class is uniform, then the member
        weights = torch.where(n_pos > 0, 1.0 / (n_pos + 1).float(), torch.zeros_like(n_pos, dtype=torch.float))
        anchors = torch.multinomial(weights, self.draw_count(labels), replacement=True)
        return Triplets(anchors, uniform_in(pos[anchors]), uniform_in(pos[anchors]))
