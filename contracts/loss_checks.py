"""The loss contract: ``loss(embeddings, labels, indices_tuple=None)`` is a finite 0-dim tensor
with a gradient, with every miner output it accepts, on degenerate batches, in float64, and its
``state_dict`` restores it."""
from __future__ import annotations

import copy
from typing import Any

import torch

import batch_mining
from contracts.base import Subject, check, tagger
from contracts.fixtures import TUPLE_KINDS, backward, batch, degenerate_batches, finite_scalar, regular_labels
from criteria.base import BaseLoss, LossModule
from utilities.tuples import conversion_target, tuple_kind


@tagger("loss")
def loss_tags(cls: type) -> set[str]:
    """``takes_tuples``: the loss takes mined tuples (``takes`` is not empty)."""
    return {"takes_tuples"} if cls.takes else set()


def reference_miner(kind: str) -> torch.nn.Module:
    """One registered miner per output kind: the first by name whose ``output`` is ``kind``."""
    names = [n for n in batch_mining.names() if batch_mining.MINERS.get(n).output == kind]
    assert names, f"no registered miner yields {kind}"
    return batch_mining.MINERS.get(names[0])()


def miner_kinds_for(cls: type) -> dict[str, str]:
    """``{miner output kind: kind the loss is given}`` for every kind the loss accepts."""
    takes = tuple(cls.takes)
    out = {}
    for kind in TUPLE_KINDS:
        target = conversion_target(kind, takes) if takes else None
        if target is not None:
            out[kind] = target
    return out


def scalar_with_gradient(loss: Any, emb: torch.Tensor, labels: torch.Tensor, what: str,
                         given: tuple | None = None) -> None:
    out = loss(emb, labels, given)
    finite_scalar(out, what, emb.dtype)
    backward(out, emb, what)


@check("loss")
def check_loss_declarations(subject: Subject) -> None:
    """A ``criteria.base.LossModule`` whose ``takes`` are known tuple kinds, which the default miner
    a registered loss (``BaseLoss``) declares yields."""
    cls = subject.component
    assert isinstance(cls, type) and issubclass(cls, LossModule), "not a criteria.base.LossModule"
    assert set(cls.takes) <= set(TUPLE_KINDS), f"takes unknown tuple kinds {cls.takes}"
    assert not cls.takes or miner_kinds_for(cls), f"takes {cls.takes} but no miner output converts to it"
    if issubclass(cls, BaseLoss) and cls.default_miner is not None:
        output = batch_mining.MINERS.get(cls.default_miner).output
        assert conversion_target(output, tuple(cls.takes)), \
            f"its default miner {cls.default_miner} yields {output}, which it cannot take"


@check("loss")
def check_loss_forward(subject: Subject) -> None:
    """``loss(emb, labels)`` is a finite float32 0-dim tensor with a finite gradient."""
    torch.manual_seed(0)
    emb, labels = batch(regular_labels())
    scalar_with_gradient(subject.build(), emb, labels, "loss(emb, labels)")


@check("loss", requires="takes_tuples")
def check_loss_mined_tuples(subject: Subject) -> None:
    """With the tuples of a miner of every output kind it accepts, converted by ``loss.convert``."""
    torch.manual_seed(0)
    loss = subject.build()
    emb, labels = batch(regular_labels())
    for kind, target in miner_kinds_for(subject.component).items():
        given = loss.convert(reference_miner(kind)(emb.detach(), labels), len(labels))
        assert tuple_kind(given) == target, f"convert gave {tuple_kind(given)}, not {target}"
        scalar_with_gradient(loss, emb, labels, f"with {kind} mined (given as {target})", given)


@check("loss")
def check_loss_degenerate_batches(subject: Subject) -> None:
    """A finite, connected 0-dim tensor on one-class, all-distinct and two-item batches, mined or not."""
    torch.manual_seed(0)
    loss = subject.build()
    for case, e, labels in degenerate_batches():
        scalar_with_gradient(loss, e, labels, f"on a '{case}' batch")
        for kind in miner_kinds_for(subject.component):
            given = loss.convert(reference_miner(kind)(e.detach(), labels), len(labels))
            scalar_with_gradient(loss, e, labels, f"on a '{case}' batch with {kind} mined", given)


@check("loss")
def check_loss_float64(subject: Subject) -> None:
    """A float64 loss (``.double()``) on float64 embeddings is a float64 tensor."""
    torch.manual_seed(0)
    loss64 = copy.deepcopy(subject.build()).double()
    e64, labels = batch(regular_labels(), torch.float64)
    finite_scalar(loss64(e64, labels), "in float64", torch.float64)


@check("loss")
def check_loss_state_dict(subject: Subject) -> None:
    """A fresh loss given the ``state_dict`` of a used one (memory banks filled) computes the same value."""
    torch.manual_seed(0)
    loss = subject.build()
    loss(*batch(regular_labels()))
    torch.manual_seed(1)
    twin = subject.build()
    twin.load_state_dict(loss.state_dict())
    e, labels = batch(regular_labels(), seed=5)
    torch.manual_seed(7)                       # stochastic losses (quadruplet) draw the same
    a = loss(e, labels)
    torch.manual_seed(7)
    b = twin(e, labels)
    assert torch.allclose(a, b, atol=1e-6), f"state_dict round trip changed the loss ({a} vs {b})"
