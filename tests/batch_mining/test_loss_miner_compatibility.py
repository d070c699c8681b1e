"""Every registered loss x every registered miner, conversions, degenerate batches, train.csv stats."""
from __future__ import annotations

import copy
import math

import pytest
import torch

import batch_mining
import criteria
import parameters
from conftest import TINY_GLYPHS
from miner_reference import single_thread  # noqa: F401  (autouse)
from training.objective import pairing_problem, select_miner
from utilities.tuples import Pairs, TupleSets, Triplets, adapt, conversion_target, tuple_kind

N_CLASSES, PER_CLASS, DIM = 4, 3, 8


@pytest.fixture(scope="module")
def base_opt(tmp_path_factory):
    opt = parameters.parse_args(TINY_GLYPHS + ["--save_path", str(tmp_path_factory.mktemp("runs"))])
    opt.embed_dim = DIM
    return opt


def glyph_like_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A P x K batch of unit-norm embeddings, as a normalised network would give for glyphs."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(N_CLASSES, DIM, generator=gen)
    labels = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    raw = centres[labels] + 0.8 * torch.randn(len(labels), DIM, generator=gen)
    return raw, labels


def run_cell(opt, loss_name: str, miner_name: str) -> str:
    """'rejected' (with the promised message, and ``adapt`` refusing the miner's output too) or
    'ran': the miner's output, adapted to the kinds the loss consumes (``takes``, so
    self-mining losses get it as well), gives one finite forward + backward."""
    opt = copy.copy(opt)
    opt.loss, opt.batch_mining = loss_name, miner_name
    kinds = criteria.LOSSES.get(loss_name).takes
    torch.manual_seed(0)
    raw, labels = glyph_like_batch()
    raw.requires_grad_(True)
    emb = torch.nn.functional.normalize(raw, dim=1)
    msg = pairing_problem(opt.loss, opt.batch_mining, opt.loss_distance, opt.miner_distance_fn)
    if msg:
        assert f"--loss {loss_name}" in msg and f"--batch_mining {miner_name}" in msg, msg
        with pytest.raises(ValueError):
            adapt(select_miner(opt)(emb, labels), kinds, len(labels))
        return "rejected"
    loss_fn, miner = criteria.select(opt, n_classes=N_CLASSES), select_miner(opt)
    tuples = adapt(miner(emb, labels), kinds, len(labels))
    loss = loss_fn(emb, labels, tuples)
    assert loss.dim() == 0 and torch.isfinite(loss), f"{loss_name} x {miner_name}: {loss}"
    loss.backward()
    assert raw.grad is not None and torch.isfinite(raw.grad).all(), f"{loss_name} x {miner_name}: bad grad"
    return "ran"


def expected_outcome(loss_name: str, miner_name: str) -> str:
    kinds = criteria.LOSSES.get(loss_name).takes
    output = batch_mining.MINERS.get(miner_name).output
    return "ran" if kinds and conversion_target(output, kinds) else "rejected"


@pytest.mark.parametrize("loss_name", criteria.names())
def test_every_miner_with_this_loss_runs_or_is_rejected(base_opt, loss_name):
    outcomes = {m: run_cell(base_opt, loss_name, m) for m in batch_mining.names()}
    for miner_name, outcome in outcomes.items():
        assert outcome == expected_outcome(loss_name, miner_name), (loss_name, miner_name, outcome)


def test_set_miners_reach_exactly_the_set_losses():
    """npair/lifted miners: accepted by the losses that take sets (npair, angular and lifted as the
    Revisiting-DML tool requires, and multisimilarity), refused by losses that consume other tuples."""
    for miner_name in ("npair", "lifted"):
        ran = {loss for loss in criteria.names() if expected_outcome(loss, miner_name) == "ran"
               and criteria.LOSSES.get(loss).takes}
        assert ran == {"npair", "angular", "lifted", "multisimilarity"}, miner_name


def test_convert_looks_through_wrappers():
    from criteria.xbm import CrossBatchMemory
    labels = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    sets = batch_mining.MINERS.get("npair")()(torch.randn(len(labels), DIM), labels)
    npair = criteria.LOSSES.get("npair")()
    for loss in (npair, CrossBatchMemory(npair, 32)):
        assert loss.takes == ("pairs", "triplets", "sets")
        assert loss.convert(sets, len(labels)) is sets
    with pytest.raises(ValueError):
        criteria.LOSSES.get("fastap")().convert(sets, len(labels))


def _first_incompatible() -> tuple[str, str] | None:
    for loss_name in criteria.names():
        for miner_name in batch_mining.names():
            if expected_outcome(loss_name, miner_name) == "rejected":
                return loss_name, miner_name
    return None


def test_parse_args_rejects_incompatible_pair_with_exit_2(capsys):
    pair = _first_incompatible()
    assert pair is not None, "the registries hold no incompatible pair (sets miners exist, so they should)"
    loss_name, miner_name = pair
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--loss", loss_name, "--batch_mining", miner_name])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--loss {loss_name}" in err and f"--batch_mining {miner_name}" in err


def test_parse_args_rejects_miner_distance_and_bad_miner_values(capsys):
    for argv in (["--batch_mining", "distance", "--miner_distance_fn", "cosine"],
                 ["--batch_mining", "rho_distance", "--miner_rho_distance_cp", "1.5"],
                 ["--batch_mining", "parametric", "--miner_parametric_support_lim", "1.0", "0.5"]):
        with pytest.raises(SystemExit) as exc:
            parameters.parse_args(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "miner" in err, err


def test_conversions():
    labels = torch.tensor([0, 0, 1, 1, 2])
    pairs = Pairs(torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([0, 0, 1]), torch.tensor([2, 3, 4]))
    trip = adapt(pairs, ("triplets",), len(labels))
    assert tuple_kind(trip) == "triplets"
    assert set(zip(*(t.tolist() for t in trip))) == {(0, 1, 2), (0, 1, 3), (1, 0, 4)}
    back = adapt(Triplets(*trip), ("pairs",), len(labels))
    assert set(zip(back[0].tolist(), back[1].tolist())) == {(0, 1), (1, 0)}
    assert set(zip(back[2].tolist(), back[3].tolist())) == {(0, 2), (0, 3), (1, 4)}
    assert adapt(trip, ("triplets", "pairs"), 5) is trip
    sets = batch_mining.MINERS.get("lifted")()(torch.randn(5, 4), labels)
    with pytest.raises(ValueError):
        adapt(sets, ("triplets",), 5)
    assert adapt(sets, ("pairs", "triplets", "sets"), 5) is sets   # sets are never converted


DEGENERATE = {"one_class": torch.zeros(6, dtype=torch.long), "singletons": torch.arange(6),
              "two_samples": torch.tensor([0, 1])}


@pytest.mark.parametrize("batch", list(DEGENERATE))
def test_degenerate_batches_give_empty_typed_tuples(batch):
    labels = DEGENERATE[batch]
    emb = torch.nn.functional.normalize(torch.randn(len(labels), DIM), dim=1)
    for name in batch_mining.names():
        miner = batch_mining.MINERS.get(name)()
        out = miner(emb, labels)
        assert tuple_kind(out) == miner.output, name
        assert all(t.dtype in (torch.long, torch.bool) for t in out), name
        if name == "intra_random" and batch == "one_class":
            continue                                    # its triplets live inside one class by design
        if miner.output == "sets":
            assert isinstance(out, TupleSets) and out.anchors.numel() == 0, name
        else:
            assert adapt(out, ("triplets",), len(labels)).anchors.numel() == 0, name
        assert set(miner.stats) >= {"miner_n_tuples", "miner_mean_pos_dist", "miner_active_anchor_frac"}, name


def test_empty_tuples_give_a_connected_zero_loss(base_opt):
    labels = DEGENERATE["singletons"]
    for loss_name in criteria.names():
        opt = copy.copy(base_opt)
        opt.loss, opt.batch_mining = loss_name, "all_triplets"
        loss_fn = criteria.select(opt, n_classes=N_CLASSES)
        if "triplets" not in loss_fn.takes and "pairs" not in loss_fn.takes:
            continue
        raw = torch.randn(len(labels), DIM, requires_grad=True)
        tuples = adapt(batch_mining.MINERS.get("all_triplets")()(raw, labels), loss_fn.takes, 6)
        loss = loss_fn(raw, labels, tuples)
        loss.backward()
        assert torch.isfinite(loss) and loss.requires_grad and torch.isfinite(raw.grad).all(), loss_name
        if loss_name == "margin":
            assert loss.item() == 0.0


class NoStepOptimizer:
    """The optimizer surface ``train_epoch`` uses, without torch.optim's one-off import cost."""

    def __init__(self, params):
        self.param_groups = [{"params": list(params), "lr": 0.1}]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self) -> None:
        pass


def test_miner_statistics_reach_the_train_row():
    from training.loop import train_epoch
    from training.objective import Objective
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, DIM))
    loss_fn = criteria.LOSSES.get("margin")(n_classes=N_CLASSES)
    miner = batch_mining.MINERS.get("rho_distance")(cp=0.5)
    labels = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    loader = [(torch.randn(len(labels), 6), labels) for _ in range(3)]
    opt = NoStepOptimizer(list(model.parameters()) + list(loss_fn.parameters()))
    row = train_epoch(model, Objective(loss_fn, miner), loader, opt, torch.device("cpu"), epoch=1)
    for key in ("miner_n_tuples", "miner_mean_pos_dist", "miner_mean_neg_dist", "miner_active_anchor_frac",
                "miner_rho_flip_frac"):
        assert key in row and math.isfinite(row[key]), key
    assert 0.0 <= row["miner_rho_flip_frac"] <= 1.0


def test_pair_miner_feeds_triplet_loss_in_training():
    from training.loop import train_epoch
    from training.objective import Objective
    model = torch.nn.Linear(6, DIM)
    loss_fn = criteria.LOSSES.get("margin")(n_classes=N_CLASSES)
    labels = torch.arange(N_CLASSES).repeat_interleave(PER_CLASS)
    loader = [(torch.randn(len(labels), 6), labels)]
    opt = NoStepOptimizer(model.parameters())
    row = train_epoch(model, Objective(loss_fn, batch_mining.MINERS.get("multisimilarity")()), loader, opt,
                      torch.device("cpu"), epoch=1)
    assert math.isfinite(row["loss"]) and row["miner_n_tuples"] > 0
