"""Easy/semi-hard/hard positive and negative strategies per anchor."""
from __future__ import annotations

from typing import Any, Literal

import torch

from batch_mining import MINERS
from batch_mining.base import BaseMiner
from batch_mining.sampling import masked_arg
from distances.base import BaseDistance
from utilities.tuples import Pairs, label_masks

STRATEGIES = ("hard", "semihard", "easy", "all")


@MINERS.register("batch_easy_hard")
class BatchEasyHardMiner(BaseMiner):
    """One positive and one negative per anchor chosen by strategy (Xuan et al., "Improved
    Embeddings with Easy Positive Triplet Mining", WACV 2020; PyTorch Metric Learning's
    ``BatchEasyHardMiner``). Output: pairs ``(a, p)`` and ``(a, n)``.

    With ``d`` closest-first (distances, or negated similarities) and only pairs whose raw value
    lies in the allowed range: positive ``hard`` = farthest, ``easy`` = closest, ``semihard`` =
    farthest with ``d(a, p) < d(a, n*)``; negative ``hard`` = closest, ``easy`` = farthest,
    ``semihard`` = closest with ``d(a, n) > d(a, p*)`` (``p*``, ``n*``: the other side's choice);
    ``all`` = every pair. An anchor is kept only where both sides found a pair (with ``all`` the
    sides are independent).

    Parameters
    ----------
    pos_strategy : str
        How the positive is chosen: hard, semihard, easy or all.
    neg_strategy : str
        How the negative is chosen: hard, semihard, easy or all.
    allowed_pos_range : list[float]
        Only positive pairs whose distance (or similarity) lies in [lo, hi] are considered.
    allowed_neg_range : list[float]
        Only negative pairs whose distance (or similarity) lies in [lo, hi] are considered.
    """

    output = "pairs"

    def __init__(self, pos_strategy: Literal["hard", "semihard", "easy", "all"] = "easy",
                 neg_strategy: Literal["hard", "semihard", "easy", "all"] = "semihard",
                 allowed_pos_range: list[float] | None = None, allowed_neg_range: list[float] | None = None,
                 distance: BaseDistance | None = None):
        self.check_arguments(pos_strategy=pos_strategy, neg_strategy=neg_strategy,
                             allowed_pos_range=allowed_pos_range, allowed_neg_range=allowed_neg_range)
        super().__init__(distance)
        self.pos_strategy, self.neg_strategy = pos_strategy, neg_strategy
        self.allowed_pos_range, self.allowed_neg_range = allowed_pos_range, allowed_neg_range

    @classmethod
    def check_arguments(cls, *, pos_strategy: str, neg_strategy: str, allowed_pos_range: list[float] | None,
                        allowed_neg_range: list[float] | None, **_: Any) -> None:
        for flag, value in (("pos_strategy", pos_strategy), ("neg_strategy", neg_strategy)):
            if value not in STRATEGIES:
                raise ValueError(f"--miner_batch_easy_hard_{flag} must be one of {list(STRATEGIES)}")
        if pos_strategy == neg_strategy == "semihard":
            raise ValueError("--miner_batch_easy_hard_pos_strategy and _neg_strategy cannot both be semihard")
        if "semihard" in (pos_strategy, neg_strategy) and "all" in (pos_strategy, neg_strategy):
            raise ValueError("batch_easy_hard: semihard cannot be combined with all")
        for flag, rng in (("allowed_pos_range", allowed_pos_range), ("allowed_neg_range", allowed_neg_range)):
            if rng is not None and (len(rng) != 2 or rng[0] > rng[1]):
                raise ValueError(f"--miner_batch_easy_hard_{flag} needs two values lo <= hi")

    @staticmethod
    def in_range(raw: torch.Tensor, mask: torch.Tensor, rng: list[float] | None) -> torch.Tensor:
        return mask if rng is None else mask & (raw >= rng[0]) & (raw <= rng[1])

    @staticmethod
    def choose(d: torch.Tensor, mask: torch.Tensor, strategy: str, side: str,
               bound: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per row, the chosen column and whether one exists; ``bound``: the semi-hard limit."""
        if strategy == "semihard":
            mask = mask & ((d < bound.unsqueeze(1)) if side == "pos" else (d > bound.unsqueeze(1)))
        farthest = (strategy in ("hard", "semihard")) == (side == "pos")
        return masked_arg(d, mask, largest=farthest)

    def mine(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        raw = self.raw_distances(embeddings)
        d = self.distance.closest_first(raw)
        pos, neg = label_masks(labels)
        pos, neg = self.in_range(raw, pos, self.allowed_pos_range), self.in_range(raw, neg, self.allowed_neg_range)
        rows = torch.arange(len(labels), device=labels.device)
        p = n = keep_p = keep_n = None
        if self.pos_strategy == "semihard":
            n, keep_n = self.choose(d, neg, self.neg_strategy, "neg")
            p, keep_p = self.choose(d, pos, "semihard", "pos", d[rows, n])
        elif self.neg_strategy == "semihard":
            p, keep_p = self.choose(d, pos, self.pos_strategy, "pos")
            n, keep_n = self.choose(d, neg, "semihard", "neg", d[rows, p])
        else:
            if self.pos_strategy != "all":
                p, keep_p = self.choose(d, pos, self.pos_strategy, "pos")
            if self.neg_strategy != "all":
                n, keep_n = self.choose(d, neg, self.neg_strategy, "neg")
        if p is not None and n is not None:
            keep_p = keep_n = keep_p & keep_n
        a1, p = (rows[keep_p], p[keep_p]) if p is not None else torch.nonzero(pos, as_tuple=True)
        a2, n = (rows[keep_n], n[keep_n]) if n is not None else torch.nonzero(neg, as_tuple=True)
        return Pairs(a1, p, a2, n)
