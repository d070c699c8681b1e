"""The objective owns the loss-miner pair: the default miner, the pairing check (one function,
at parse time and when the objective is built) and what the miner takes from the loss."""
from __future__ import annotations

import argparse
import ast
import functools
import os

import pytest

import parameters
from conftest import ROOT
from training import objective


def test_parsing_builds_no_miner_and_no_reducer(monkeypatch):
    """Parsing checks the miner's and the reducers' values from the flags, building neither."""
    from batch_mining.base import BaseMiner
    from criteria.reducers.divisor import DivisorReducer

    def refusing(init):
        @functools.wraps(init)              # the same signature: the flags are read from it
        def refuse(self, *args, **kwargs):
            raise AssertionError(f"{type(self).__name__} built while parsing")
        return refuse
    monkeypatch.setattr(BaseMiner, "__init__", refusing(BaseMiner.__init__))
    monkeypatch.setattr(DivisorReducer, "__init__", refusing(DivisorReducer.__init__))
    opt = parameters.parse_args(["--batch_mining", "rho_distance", "--loss_reducer", "divisor"])
    assert opt.batch_mining == "rho_distance"


def test_bad_reducer_value_is_refused_at_parse_time(capsys):
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--loss_reducer", "divisor", "--reducer_divisor", "0"])
    assert exc.value.code == 2 and "--reducer_divisor" in capsys.readouterr().err


def test_batch_mining_does_not_import_criteria():
    folder = os.path.join(ROOT, "batch_mining")
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
            for node in ast.walk(tree):
                modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                           else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                assert not [m for m in modules if m.split(".")[0] == "criteria"], f"batch_mining/{name}"


def test_the_objective_refuses_the_pair_parsing_refuses():
    """Built without parsing (a notebook's namespace), the objective runs the same check."""
    opt = parameters.parse_args(["--loss", "triplet"])
    opt.batch_mining = "npair"                      # sets: a triplet loss cannot take them
    problem = objective.pairing_problem(opt.loss, opt.batch_mining)
    assert problem and "--loss triplet" in problem and "--batch_mining npair" in problem
    with pytest.raises(ValueError, match="--batch_mining npair"):
        objective.select(opt, n_classes=4)


def test_the_miner_follows_the_losses_settings_handed_by_the_objective():
    opt = parameters.parse_args(["--loss", "triplet+margin", "--batch_mining", "semihard",
                                 "--loss_margin_margin", "0.4", "--loss_distance", "cosine"])
    assert objective.loss_settings(opt) == {"distance": "cosine", "margin": 0.2}   # the first loss's margin
    miner = objective.select_miner(opt)
    assert miner.margin == 0.2 and miner.distance.is_similarity
    import batch_mining
    alone = batch_mining.select(argparse.Namespace(**vars(opt)))                    # no loss: its own defaults
    assert alone.margin == 0.2 and not alone.distance.is_similarity
    assert objective.default_miner("proxyanchor+npair") == "npair" and objective.default_miner("softmax") == "none"


def test_criteria_select_reads_the_class_count_from_the_namespace():
    """The documented ``criteria.select(opt)``: a namespace carrying ``n_classes`` builds a proxy loss."""
    import criteria
    opt = parameters.parse_args(["--loss", "proxyanchor", "--embed_dim", "16"])
    opt.n_classes = 7
    loss = criteria.select(opt)
    assert tuple(loss.proxies.shape) == (7, 16)
