"""Two CPU ranks (gloo) against one process: an end-to-end torchrun run, global-batch losses and
their gradients, checkpoint and resume under DDP.

Process start-up (importing torch) dominates the cost, so there are two launches in all:
``python -m torch.distributed.run --nproc_per_node=2 main.py`` for one epoch, then one
``torch.multiprocessing`` launch of two ranks that runs every loss check and resumes that run
for a second epoch; its rank 0 writes the differences to a JSON file that the tests read.

The gradient convention checked (derived in ``training/distributed.py``): rank r's backward
gives ``g_r``; DistributedDataParallel sums the per-rank contributions ``g_r / W``. That sum,
i.e. the gradient every rank holds after the step's backward, must equal the single-process
gradient on the concatenated batch, for the model and for the loss's own parameters.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import csv
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from conftest import ROOT, TINY_GLYPHS

pytestmark = pytest.mark.slow  # a torchrun launch and a two-rank spawn: ~30 s, most of the suite

# (loss, miner or None): every case is checked; an unregistered loss or miner fails its case.
CASES = [("margin", "distance"), ("margin", "semihard"), ("margin", "multisimilarity"),
         ("contrastive", None), ("contrastive", "distance"), ("triplet", "distance"),
         ("triplet", "batch_hard"), ("multisimilarity", None), ("npair", None), ("lifted", None),
         ("circle", None), ("supcon", None),
         # losses with parameters of their own (proxies, class weights), synchronised across ranks
         ("proxyanchor", None), ("proxynca", None), ("softtriplet", None), ("arcface", None),
         # a sum of losses taking different tuple kinds: each part gets its own conversion
         ("contrastive+triplet", "distance")]
N_CLASSES, EMBED_DIM, IN_DIM, GLOBAL_BS, WORLD = 4, 8, 6, 16, 2
TOL = 1e-5
# Frozen BatchNorm: the CPU has no SyncBatchNorm, and per-rank batch statistics would differ.
RUN_ARGV = TINY_GLYPHS + ["--arch", "convnet_frozen_normalize", "--no_train_metrics", "--n_epochs", "1"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingMiner(torch.nn.Module):
    """Remembers what the wrapped miner returned, so the reference can use rank 0's tuples."""

    def __init__(self, miner: torch.nn.Module):
        super().__init__()
        self.miner, self.last = miner, None

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
        self.last = self.miner(embeddings, labels)
        return self.last


def max_diff(a: torch.Tensor | None, b: torch.Tensor | None) -> float:
    a = torch.zeros_like(b) if a is None else a
    b = torch.zeros_like(a) if b is None else b
    return float((a - b).abs().max()) if a.numel() else 0.0


def check_case(loss_name: str, miner_name: str | None, opt, global_batch: bool) -> dict[str, float]:
    """Differences between the 2-rank step and the single-process reference, on rank 0."""
    import batch_mining
    import criteria
    from training.distributed import DistributedObjective
    from training.objective import Objective
    from utilities import comm
    rank = comm.rank()
    torch.manual_seed(0)  # identical data, model and loss parameters on every rank
    loss_fn = criteria.select(argparse.Namespace(**{**vars(opt), "loss": loss_name}), n_classes=N_CLASSES).double()
    miner = RecordingMiner(batch_mining.build(miner_name, opt)) if miner_name else None
    net = torch.nn.Linear(IN_DIM, EMBED_DIM).double()
    ref_net, ref_loss = copy.deepcopy(net), copy.deepcopy(loss_fn)
    x = torch.randn(GLOBAL_BS, IN_DIM, dtype=torch.float64)
    labels = torch.arange(N_CLASSES).repeat_interleave(GLOBAL_BS // N_CLASSES)[torch.randperm(GLOBAL_BS)]
    per = GLOBAL_BS // WORLD
    mine = slice(rank * per, (rank + 1) * per)

    ddp = torch.nn.parallel.DistributedDataParallel(net)
    step = DistributedObjective(Objective(loss_fn, miner), global_batch=global_batch)
    emb = F.normalize(ddp(x[mine]), dim=1)
    emb.retain_grad()
    loss = step(emb, labels[mine])
    loss.backward()
    comm.average_gradients(step)
    emb_grads = comm.all_gather(emb.grad) / WORLD  # each rank's contribution g_r / W
    losses = comm.all_gather(loss.detach().reshape(1))

    ref_emb = F.normalize(ref_net(x), dim=1)
    ref_emb.retain_grad()
    if global_batch:  # one loss on the concatenated batch, with rank 0's tuples
        ref_tuples = None
        if miner is not None:
            ref_tuples = loss_fn.convert(comm.broadcast_tuples(miner.last), GLOBAL_BS)
        ref_value = ref_loss(ref_emb, labels, ref_tuples)
        ref_value.backward()
        value_diff = float((losses - ref_value.detach()).abs().max())
    else:  # DDP averages the per-rank local losses: replay each rank's slice with its own tuples
        drawn = [None] * WORLD
        if miner is not None:
            torch.distributed.all_gather_object(drawn, loss_fn.convert(miner.last, per))
        ref_values = [ref_loss(ref_emb[r * per:(r + 1) * per], labels[r * per:(r + 1) * per], drawn[r])
                      for r in range(WORLD)]
        (sum(ref_values) / WORLD).backward()
        value_diff = float((losses - torch.stack([v.detach() for v in ref_values])).abs().max())
    result = {"loss": value_diff, "loss_value": float(loss.detach()), "embedding_grad": max_diff(emb_grads, ref_emb.grad)}
    result["model_grad"] = max(max_diff(p.grad, q.grad) for p, q in zip(net.parameters(), ref_net.parameters()))
    own = [(p, q) for p, q in zip(loss_fn.parameters(), ref_loss.parameters()) if p.requires_grad]
    result["loss_param_grad"] = max((max_diff(p.grad, q.grad) for p, q in own), default=0.0)
    result["n_loss_params"] = len(own)
    result["grad_norm"] = float(torch.cat([q.grad.reshape(-1) for q in ref_net.parameters()]).norm())
    return result


def worker(rank: int, port: int, out: str, argv: list[str]) -> None:
    os.environ.update(WORLD_SIZE=str(WORLD), RANK=str(rank), LOCAL_RANK=str(rank))
    import batch_mining
    import criteria
    import main
    import parameters
    from utilities import comm
    # The group is made here, not by distributed.setup, so main.main() below leaves it open.
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                         world_size=WORLD, timeout=datetime.timedelta(seconds=120))
    opt = parameters.parse_args(argv + ["--embed_dim", str(EMBED_DIM)])
    results: dict[str, dict] = {}
    for loss_name, miner_name in CASES:
        if any(part not in criteria.names() for part in loss_name.split("+")) or (
                miner_name and miner_name not in batch_mining.names()):
            continue
        for global_batch in (True, False):
            key = f"{loss_name}+{miner_name}+{'global' if global_batch else 'local'}"
            results[key] = check_case(loss_name, miner_name, opt, global_batch)
    # A miner's tuple of any kind travels from rank 0 with its type, shapes and dtypes.
    from utilities.tuples import TupleSets, Triplets
    for mined in (Triplets(*(torch.arange(3 + rank) for _ in range(3))),
                  TupleSets(torch.arange(2 + rank), torch.eye(2 + rank, 5, dtype=torch.bool),
                            torch.ones(2 + rank, 5, dtype=torch.bool))):
        got = comm.broadcast_tuples(mined)
        results[f"broadcast {type(mined).__name__}"] = {"same": type(got) is type(mined) and all(
            g.dtype == m.dtype and g.shape[0] == 2 + (type(mined) is Triplets) for g, m in zip(got, mined))}
    # Checkpoint and resume under DDP: continue the torchrun run for a second epoch.
    main.main(argv + ["--n_epochs", "2", "--resume", os.path.join(opt.save_path, "glyphs", opt.savename)])
    comm.barrier()
    if rank == 0:
        with open(out, "w") as fh:
            json.dump(results, fh)
    torch.distributed.destroy_process_group()


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One epoch of tiny glyphs with torchrun (2 CPU ranks) and in one process, same global batch."""
    tmp = tmp_path_factory.mktemp("ddp")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    argv = RUN_ARGV + ["--save_path", str(tmp / "ddp"), "--savename", "run"]
    done = subprocess.run(launcher + [os.path.join(ROOT, "main.py")] + argv, cwd=str(tmp),
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    import main
    assert main.main(RUN_ARGV + ["--save_path", str(tmp / "single"), "--savename", "run"]) == 0
    return tmp, done.stdout


@pytest.fixture(scope="module")
def two_rank_results(runs):
    tmp, _ = runs
    out = str(tmp / "results.json")
    argv = RUN_ARGV + ["--save_path", str(tmp / "ddp"), "--savename", "run"]
    torch.multiprocessing.spawn(worker, args=(free_port(), out, argv), nprocs=WORLD, join=True)
    with open(out) as fh:
        return json.load(fh)


def test_torchrun_writes_one_run_folder_matching_one_process(runs):
    tmp, stdout = runs
    assert [p.name for p in (tmp / "ddp" / "glyphs").iterdir()] == ["run"]  # rank 1 wrote nothing
    assert stdout.count("dmlbench configuration") == 1  # rank 1's console output is silenced
    ddp, single = tmp / "ddp" / "glyphs" / "run", tmp / "single" / "glyphs" / "run"
    first = lambda rows: [r for r in rows if r["epoch"] == "1"]  # noqa: E731 (resume adds epoch 2)
    ddp_metrics, single_metrics = first(read_csv(ddp / "metrics.csv")), read_csv(single / "metrics.csv")
    assert [r["split"] for r in ddp_metrics] == [r["split"] for r in single_metrics] == ["test"]
    # Same global batches and tuples, so the runs agree up to float reduction order.
    for name in ("e_recall@1", "e_recall@2", "nmi"):
        assert abs(float(ddp_metrics[0][name]) - float(single_metrics[0][name])) <= 0.05, name
    ddp_loss = float(first(read_csv(ddp / "train.csv"))[0]["loss"])
    assert ddp_loss == pytest.approx(float(read_csv(single / "train.csv")[0]["loss"]), rel=1e-3)


@pytest.mark.parametrize("mode", ["global", "local"])
@pytest.mark.parametrize("loss_name,miner_name", CASES)
def test_two_ranks_match_one_process(two_rank_results, loss_name, miner_name, mode):
    results = two_rank_results
    key = f"{loss_name}+{miner_name}+{mode}"
    assert key in results, f"loss {loss_name!r} or miner {miner_name!r} is not registered"
    r = results[key]
    assert r["grad_norm"] > 1e-3, "the reference gradient is ~0: the comparison would prove nothing"
    assert r["loss"] < TOL, r
    assert r["model_grad"] < TOL, r
    assert r["loss_param_grad"] < TOL, r
    assert r["embedding_grad"] < TOL, r


def test_mined_tuples_of_every_kind_come_from_rank_zero(two_rank_results):
    assert two_rank_results["broadcast Triplets"]["same"]
    assert two_rank_results["broadcast TupleSets"]["same"]


def test_checkpoint_and_resume_under_ddp(runs, two_rank_results):
    tmp, _ = runs
    run = tmp / "ddp" / "glyphs" / "run"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_done"] == 2
    assert [r["epoch"] for r in read_csv(run / "train.csv")] == ["1", "2"]
    assert [r["epoch"] for r in read_csv(run / "metrics.csv")] == ["1", "2"]
    state = torch.load(run / "checkpoint_last.pt", map_location="cpu", weights_only=False)
    assert state["epoch"] == 2 and not any(k.startswith("module.") for k in state["model"])
