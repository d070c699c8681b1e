"""Without torchrun, ``utilities.distributed`` changes nothing: the single-process path is as before."""
from __future__ import annotations

import numpy as np
import torch

from utilities import atomic, distributed
from utilities.checkpoint import unwrap


def test_single_process_helpers_are_identities():
    assert not distributed.launched() and not distributed.enabled()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    x = torch.randn(3, 2, requires_grad=True)
    assert distributed.all_gather(x) is x
    rows = np.arange(6).reshape(3, 2)
    assert distributed.gather_rows(rows) is rows
    assert distributed.broadcast_object({"a": 1}) == {"a": 1}
    assert distributed.on_main(lambda v: v + 1, 1) == 2
    dataset = list(range(5))
    assert distributed.shard(dataset) is dataset
    distributed.barrier()
    distributed.cleanup()


def test_wrap_leaves_a_single_process_run_alone(tiny_opt, monkeypatch):
    import criteria
    model, loss = torch.nn.Linear(4, 2), criteria.select(tiny_opt)
    wrapped, step_loss = distributed.wrap(model, loss, None, tiny_opt)
    assert wrapped is model and step_loss is loss
    # --compile hands the model to torch.compile (a real compile takes minutes on this CPU;
    # the README's multi-GPU section reports a manual run), and checkpoints still see the plain model.
    class Compiled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self._orig_mod = inner
    monkeypatch.setattr(torch, "compile", Compiled)
    tiny_opt.compile = True
    compiled, _ = distributed.wrap(model, loss, None, tiny_opt)
    assert isinstance(compiled, Compiled) and unwrap(compiled) is model


def test_sharded_embedding_is_the_plain_call_in_one_process():
    calls = []

    @distributed.sharded
    def embed(model, dataset, batch_size=2):
        calls.append((model, dataset, batch_size))
        return np.zeros((len(dataset), 2)), np.arange(len(dataset))

    emb, labels = embed("m", [1, 2, 3], batch_size=7)
    assert calls == [("m", [1, 2, 3], 7)] and emb.shape == (3, 2) and labels.tolist() == [0, 1, 2]


def test_only_rank_zero_writes(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    monkeypatch.setattr(atomic, "is_main", lambda: False)
    atomic.write_json(str(path), {"status": "running"})
    assert not path.exists() and list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    atomic.write_json(str(path), {"status": "running"})
    assert path.exists()


def test_batch_sizes_that_ranks_cannot_share_are_named():
    assert distributed.batch_problem(112, 2, 4, global_batch=True) is None
    assert "--bs 112 (the global batch) is not divisible by the 3 ranks" in distributed.batch_problem(112, 2, 3, True)
    assert distributed.batch_problem(24, 4, 2, global_batch=False) is None
    assert "--samples_per_class 4" in distributed.batch_problem(24, 4, 4, global_batch=False)
    assert distributed.batch_problem(24, 4, 4, global_batch=True) is None  # classes may straddle ranks
