"""Seeded fuzz over the registries: 50 random (loss, miner, sampler, distance, reducer,
regularizer) combinations. Each must either be rejected when the flags are parsed (exit 2) or
train two steps on tiny glyphs with a finite loss. Nothing else is allowed."""
from __future__ import annotations

import itertools
import random

import pytest
import torch

import architectures
import batch_mining
import criteria
import datasampler
import datasets
import distances
import main
import parameters
from conftest import TINY_GLYPHS
from criteria.regularizers import EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS
from evaluation import embed
import training.objective
from training import optim
from training.loop import train_epoch

N_COMBINATIONS = 50


def draw_combinations(seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    maybe = lambda names: rng.choice([None] + list(names))  # noqa: E731
    combos = []
    for _ in range(N_COMBINATIONS):
        loss = rng.choice(criteria.LOSSES.names())
        if rng.random() < 0.15:
            loss = f"{loss}+{rng.choice(criteria.LOSSES.names())}"
        argv = ["--loss", loss, "--batch_mining", rng.choice(batch_mining.MINERS.names()),
                "--data_sampler", rng.choice(datasampler.SAMPLERS.names())]
        for flag, choice in (("--loss_distance", maybe(distances.DISTANCES.names())),
                             ("--loss_reducer", maybe(criteria.REDUCERS.names())),
                             ("--embedding_regularizer", maybe(EMBEDDING_REGULARIZERS.names())),
                             ("--weight_regularizer", maybe(WEIGHT_REGULARIZERS.names()))):
            if choice is not None:
                argv += [flag, choice]
        if "--loss_distance" in argv and rng.random() < 0.5:   # the miner measures like the loss
            argv += ["--miner_distance_fn", argv[argv.index("--loss_distance") + 1]]
        argv += ["--embedding_reg_weight", "0.1", "--weight_reg_weight", "0.1"]
        combos.append(argv)
    return combos


def one_epoch(argv: list[str], tmp_path) -> float | None:
    """Parse ``argv``; return None if it is rejected at parse time, else the epoch's mean loss."""
    try:
        opt = parameters.parse_args(TINY_GLYPHS + argv + ["--save_path", str(tmp_path)])
    except SystemExit as exc:
        assert exc.code == 2
        return None
    torch.manual_seed(0)
    data = datasets.select(opt)
    model = architectures.select(opt, in_channels=datasets.channels(data["train"]))
    objective = training.objective.select(opt, n_classes=datasets.n_classes(data["train"]))
    sampler = datasampler.select(opt, data["train"].labels)
    if getattr(sampler, "requires_storage", False):
        sampler.set_storage(embed(model, data["train"])[0])
    sampler.set_epoch(1)
    optimizer, _ = optim.select(opt, model, objective)
    row = train_epoch(model, objective, FirstBatches(main.make_loader(data["train"], sampler, opt)),
                      optimizer, torch.device("cpu"), epoch=1, sampler=sampler)
    return row["loss"]


class FirstBatches:
    """The first ``n`` batches of a loader (some samplers define very long epochs)."""

    def __init__(self, loader, n: int = 2):
        self.loader, self.n, self.batch_sampler = loader, n, loader.batch_sampler

    def __iter__(self):
        return itertools.islice(iter(self.loader), self.n)


@pytest.mark.parametrize("argv", draw_combinations(), ids=lambda a: " ".join(a[1:6:2]))
def test_combination_runs_or_is_rejected_at_parse_time(argv, tmp_path):
    try:
        loss = one_epoch(argv, tmp_path)
    except Exception as err:  # any failure after parsing is a bug: name the combination
        pytest.fail(f"combination {' '.join(argv)} failed after parsing: {type(err).__name__}: {err}")
    assert loss is None or torch.isfinite(torch.tensor(loss)), f"non-finite loss for {' '.join(argv)}"
