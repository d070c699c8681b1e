"""Without torchrun, ``utilities.comm`` and ``training.distributed`` change nothing: the single-process path is as before."""
from __future__ import annotations

import json

import numpy as np
import torch

from training import distributed
from training.objective import Objective
from utilities import atomic, comm
from utilities.comm import unwrap


def test_single_process_helpers_are_identities():
    assert not comm.launched() and not comm.enabled()
    assert (comm.rank(), comm.world_size(), comm.is_main()) == (0, 1, True)
    x = torch.randn(3, 2, requires_grad=True)
    assert comm.all_gather(x) is x
    rows = np.arange(6).reshape(3, 2)
    assert comm.gather_rows(rows) is rows
    assert comm.broadcast_object({"a": 1}) == {"a": 1}
    assert comm.on_main(lambda v: v + 1, 1) == 2
    dataset = list(range(5))
    assert comm.shard(dataset) is dataset
    comm.barrier()
    distributed.cleanup()


def test_wrap_leaves_a_single_process_run_alone(tiny_opt, monkeypatch):
    import criteria
    model, objective = torch.nn.Linear(4, 2), Objective(criteria.select(tiny_opt, n_classes=8))
    wrapped, step = distributed.wrap(model, objective, device="cpu", global_batch=True, compile=False)
    assert wrapped is model and step is objective
    # --compile hands the model to torch.compile (a real compile takes minutes on this CPU;
    # the README's multi-GPU section reports a manual run), and checkpoints still see the plain model.
    class Compiled(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self._orig_mod = inner
    monkeypatch.setattr(torch, "compile", Compiled)
    compiled, _ = distributed.wrap(model, objective, device="cpu", global_batch=True, compile=True)
    assert isinstance(compiled, Compiled) and unwrap(compiled) is model


def test_sharded_embedding_is_the_plain_call_in_one_process():
    calls = []

    @comm.sharded
    def embed(model, dataset, batch_size=2):
        calls.append((model, dataset, batch_size))
        return np.zeros((len(dataset), 2)), np.arange(len(dataset))

    emb, labels = embed("m", [1, 2, 3], batch_size=7)
    assert calls == [("m", [1, 2, 3], 7)] and emb.shape == (3, 2) and labels.tolist() == [0, 1, 2]


def test_the_atomic_writer_writes_on_every_rank(tmp_path, monkeypatch):
    """The ground-floor writer knows nothing of ranks; deciding who writes is the caller's."""
    monkeypatch.setattr(comm, "rank", lambda: 1)
    atomic.write_json(str(tmp_path / "a.json"), {"status": "running"})
    assert json.loads((tmp_path / "a.json").read_text()) == {"status": "running"}


def test_only_rank_zero_writes_the_run_folder(tmp_path, monkeypatch):
    from training.run_folder import RunFolder
    run = RunFolder(str(tmp_path))
    monkeypatch.setattr(comm, "rank", lambda: 1)
    run.log_train({"epoch": 1, "loss": 0.5, "lr": 0.1, "time_s": 1.0})
    run.log_metrics(1, {"test": {"e_recall@1": 0.5}})
    run.write_summary("running", 1, "last", 1, {"e_recall@1": 0.5})
    assert list(tmp_path.iterdir()) == [] and len(run.train_rows) == len(run.metric_rows) == 1
    monkeypatch.undo()
    run.write_summary("running", 1, "last", 1, {"e_recall@1": 0.5})
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_batch_sizes_that_ranks_cannot_share_are_named():
    assert comm.batch_problem(112, 2, 4, global_batch=True) is None
    assert "--bs 112 (the global batch) is not divisible by the 3 ranks" in comm.batch_problem(112, 2, 3, True)
    assert comm.batch_problem(24, 4, 2, global_batch=False) is None
    assert "--samples_per_class 4" in comm.batch_problem(24, 4, 4, global_batch=False)
    assert comm.batch_problem(24, 4, 4, global_batch=True) is None  # classes may straddle ranks
