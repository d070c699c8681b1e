"""Reducers against their definitions."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import criteria
from criteria.reducers import REDUCERS
from criteria.terms import LossTerm

VALUES = torch.tensor([0.0, 0.5, 2.0, 0.0, 1.5, 3.0, 0.25], dtype=torch.float64)
ANCHORS = torch.tensor([0, 0, 1, 2, 2, 2, 4])
LABELS = torch.tensor([0, 0, 1, 1, 1])
TERM = LossTerm(VALUES, "triplet", ANCHORS)


def reduce(name: str, **kwargs) -> float:
    return float(REDUCERS.get(name)(**kwargs)(TERM, LABELS))


def test_basic_reducers():
    v = VALUES.tolist()
    assert reduce("mean") == pytest.approx(sum(v) / len(v))
    assert reduce("sum") == pytest.approx(sum(v))
    assert reduce("avg_nonzero") == pytest.approx(sum(v) / sum(1 for x in v if x > 0))
    assert reduce("divisor", divisor=4.0) == pytest.approx(sum(v) / 4)


def test_threshold():
    v = VALUES.tolist()
    kept = [x for x in v if 0.3 < x < 2.5]
    assert reduce("threshold", low=0.3, high=2.5) == pytest.approx(sum(kept) / len(kept))
    assert reduce("threshold", low=1.0) == pytest.approx(sum(x for x in v if x > 1) / 3)
    assert reduce("threshold", low=10.0) == 0.0
    with pytest.raises(ValueError):
        REDUCERS.get("threshold")(low=2.0, high=1.0)


def test_per_anchor():
    per = {}
    for v, a in zip(VALUES.tolist(), ANCHORS.tolist()):
        per.setdefault(a, []).append(v)
    want = sum(sum(vs) / len(vs) for vs in per.values()) / len(per)
    assert reduce("per_anchor") == pytest.approx(want)


def test_class_weighted_from_batch_and_file(tmp_path):
    counts = {0: 2, 1: 3}
    w = [1 / counts[int(LABELS[a])] for a in ANCHORS.tolist()]
    want = sum(wi * v for wi, v in zip(w, VALUES.tolist())) / sum(w)
    assert reduce("class_weighted") == pytest.approx(want)
    path = tmp_path / "w.txt"
    np.savetxt(path, [2.0, 0.5])
    w = [[2.0, 0.5][int(LABELS[a])] for a in ANCHORS.tolist()]
    want = sum(wi * v for wi, v in zip(w, VALUES.tolist())) / sum(w)
    assert reduce("class_weighted", class_weights=str(path)) == pytest.approx(want)
    with pytest.raises(ValueError, match="--reducer_class_weights"):
        REDUCERS.get("class_weighted")(class_weights=str(tmp_path / "missing.npy"))


def test_empty_and_reduced_terms():
    empty = LossTerm(torch.zeros(0, requires_grad=True), "triplet", torch.zeros(0, dtype=torch.long))
    for name in REDUCERS.names():
        out = REDUCERS.get(name)()(empty, LABELS)
        assert float(out.detach()) == 0.0 and out.requires_grad
        assert float(REDUCERS.get(name)()(LossTerm(torch.tensor(3.0), "reduced"), LABELS)) == 3.0


def test_per_term_reducers():
    spec = criteria.parse_reducer_spec("pos_loss:sum,neg_loss:avg_nonzero", "mean")
    assert spec == {"*": "mean", "pos_loss": "sum", "neg_loss": "avg_nonzero"}
    loss = criteria.LOSSES.get("contrastive")(reducer=criteria.build_reducer("pos_loss:sum", "mean"))
    x = torch.randn(6, 4, dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    terms = loss.compute_loss(x, labels, None)
    assert float(loss(x, labels)) == pytest.approx(float(terms["pos_loss"].values.sum() + terms["neg_loss"].values.mean()))


def test_reducer_flags_are_checked(tiny_argv, capsys):
    import parameters
    with pytest.raises(SystemExit):
        parameters.parse_args(tiny_argv + ["--loss", "contrastive", "--loss_reducer", "pos_los:sum"])
    assert "pos_loss" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parameters.parse_args(tiny_argv + ["--loss", "triplet", "--loss_reducer", "meen"])
    assert "mean" in capsys.readouterr().err
