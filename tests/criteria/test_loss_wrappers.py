"""Cross-batch memory, loss sums, flag checks and end-to-end runs of the losses."""
from __future__ import annotations

import json
import os

import pytest
import torch

import criteria
import parameters
from criteria.combined import WeightedLossSum
from criteria.xbm import CrossBatchMemory
from tests.criteria import revisiting_loop_refs as refs
from training.objective import default_miner
from utilities.tuples import all_triplets, label_masks, tuple_kind


def test_xbm_adds_batch_to_memory_term():
    inner = criteria.LOSSES.get("contrastive")()
    xbm = CrossBatchMemory(inner, memory_size=6, start_iteration=1).train()
    x1, l1 = refs.batch(0)
    x2, l2 = refs.batch(1)
    first = xbm(x1[:8], l1[:8])
    assert float(first) == pytest.approx(float(inner(x1[:8], l1[:8])))   # memory not used yet
    assert xbm.filled == 6                                               # only the last 6 kept
    mem, mem_l = x1[2:8], l1[2:8]
    second = xbm(x2[:8], l2[:8])
    # reference: the batch loss plus every (batch anchor, memory item) pair, by loops
    d = lambda a, b: refs.norm(a - b)  # noqa: E731
    pos = [d(x2[i], mem[j]) for i in range(8) for j in range(6) if l2[i] == mem_l[j]]
    neg = [max(0.0, 1.0 - d(x2[i], mem[j])) for i in range(8) for j in range(6) if l2[i] != mem_l[j]]
    want = float(inner(x2[:8], l2[:8])) + refs.mean(pos) + refs.mean(neg)
    assert float(second) == pytest.approx(want, rel=1e-9)


def test_xbm_state_survives_a_checkpoint():
    xbm = CrossBatchMemory(criteria.LOSSES.get("triplet")(), memory_size=16, start_iteration=2).train()
    x, labels = refs.batch(0)
    xbm(x, labels)
    copy = CrossBatchMemory(criteria.LOSSES.get("triplet")(), memory_size=16, start_iteration=2).train()
    copy.load_state_dict(xbm.state_dict())
    assert copy.iteration == 1 and copy.filled == xbm.filled and torch.equal(copy.memory, xbm.memory)
    x2, labels2 = refs.batch(1)
    assert float(copy(x2, labels2)) == pytest.approx(float(xbm(x2, labels2)))


def test_xbm_triplet_memory_gradient_only_through_batch():
    xbm = CrossBatchMemory(criteria.LOSSES.get("triplet")(), memory_size=16).train()
    for seed in range(3):
        x, labels = refs.batch(seed)
        x = x.requires_grad_(True)
        out = xbm(x, labels)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(x.grad).all()
    assert not xbm.memory.requires_grad
    pos, neg = label_masks(labels, xbm.memory_labels[:xbm.filled], exclude_self=False)
    a, p, n = xbm.cross_tuples(labels, xbm.memory_labels[:xbm.filled])
    assert a.numel() == int((pos.sum(1) * neg.sum(1)).sum()) and int(p.min()) >= labels.numel()


def test_weighted_sum():
    x, labels = refs.batch(2)
    a, b = criteria.LOSSES.get("triplet")(), criteria.LOSSES.get("lifted")()
    total = WeightedLossSum({"triplet": a, "lifted": b}, [1.0, 0.5])
    assert float(total(x, labels)) == pytest.approx(float(a(x, labels)) + 0.5 * float(b(x, labels)))
    assert total.takes == ("triplets", "pairs", "sets") and default_miner("triplet+lifted") == "distance"
    converted = total.convert(all_triplets(labels), len(labels))      # each part gets its own kind
    assert tuple_kind(converted["triplet"]) == "triplets" and tuple_kind(converted["lifted"]) == "triplets"
    with pytest.raises(ValueError):
        WeightedLossSum({"triplet": a}, [1.0, 2.0])


def test_select_builds_wrappers(tiny_opt):
    tiny_opt.loss, tiny_opt.loss_weights, tiny_opt.xbm_memory_size = "triplet+multisimilarity", "1,0.5", 32
    loss = criteria.select(tiny_opt, n_classes=8)
    assert isinstance(loss, WeightedLossSum) and loss.weights == [1.0, 0.5]
    assert all(isinstance(c, CrossBatchMemory) for c in loss.components.values())
    tiny_opt.xbm_memory_size, tiny_opt.embedding_regularizer, tiny_opt.embedding_reg_weight = 0, "lp", 0.1
    loss = criteria.select(tiny_opt, n_classes=8)
    assert [c.embedding_regularizer is not None for c in loss.components.values()] == [True, False]


@pytest.mark.parametrize("flags,message", [
    (["--loss", "triplet+npair", "--loss_weights", "1"], "--loss_weights"),
    (["--loss", "histogram", "--loss_distance", "euclidean"], "similarities in [-1, 1]"),
    (["--loss", "npair", "--loss_distance", "snr"], "inner products"),
    (["--loss", "triplet", "--xbm_memory_size", "-1"], "--xbm_memory_size"),
    (["--loss", "triplet", "--embedding_regularizer", "l2"], "lp"),
    (["--loss", "triplet", "--loss_reducer", "threshold", "--reducer_low", "2", "--reducer_high", "1"], "--reducer_low"),
])
def test_bad_composition_rejected_at_parse_time(tiny_argv, capsys, flags, message):
    with pytest.raises(SystemExit) as err:
        parameters.parse_args(tiny_argv + flags)
    assert err.value.code == 2 and message in capsys.readouterr().err


def run(tiny_argv, *flags: str) -> dict:
    import main
    assert main.main(tiny_argv + ["--n_epochs", "1", "--no_train_metrics", *flags]) == 0
    folder = os.path.join(tiny_argv[tiny_argv.index("--save_path") + 1], "glyphs", "tiny")
    with open(os.path.join(folder, "summary.json")) as fh:
        return json.load(fh)


def test_every_old_loss_end_to_end(tiny_argv):
    names = "+".join(["triplet", "contrastive", "snr", "quadruplet", "npair", "angular", "lifted",
                      "multisimilarity", "histogram", "margin"])
    summary = run(tiny_argv, "--loss", names, "--loss_reducer", "per_anchor",
                  "--embedding_regularizer", "zero_mean", "--embedding_reg_weight", "0.01")
    assert summary["status"] == "completed"


def test_xbm_end_to_end(tiny_argv):
    summary = run(tiny_argv, "--loss", "contrastive", "--xbm_memory_size", "48", "--xbm_start_iteration", "1",
                  "--loss_reducer", "pos_loss:mean,neg_loss:avg_nonzero")
    assert summary["status"] == "completed"
