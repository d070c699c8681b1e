"""The miner contract: ``miner(embeddings, labels)`` returns int64 index tuples of its declared
``output`` kind, in range, without gradient, label-consistent unless it declares otherwise."""
from __future__ import annotations

from typing import Any

import torch

from contracts.base import Subject, check, tagger
from contracts.fixtures import TUPLE_KINDS, batch, degenerate_batches, regular_labels
from utilities.tuples import tuple_kind


@tagger("miner")
def miner_tags(cls: type) -> set[str]:
    """``label_consistent``: positives share the anchor's label, negatives do not (the default;
    a miner that flips on purpose declares ``label_consistent = False``)."""
    return {"label_consistent"} if cls.label_consistent else set()


def pairs_of(tuples: tuple, kind: str) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """(anchor, positive) and (anchor, negative) index pairs of triplets or pairs."""
    if kind == "triplets":
        a, p, n = tuples
        return (a, p), (a, n)
    a1, p, a2, n = tuples
    return (a1, p), (a2, n)


def well_typed(tuples: Any, labels: torch.Tensor, kind: str, what: str) -> None:
    """Tuples of ``kind``: int64 indices (bool masks for sets) in range, without gradient."""
    assert isinstance(tuples, tuple), f"{what}: returned {type(tuples).__name__}, not a tuple"
    got = tuple_kind(tuples)
    assert got == kind, f"{what}: declares output '{kind}' but returned {got}"
    n = labels.numel()
    for t in tuples:
        assert isinstance(t, torch.Tensor), f"{what}: an element is {type(t).__name__}"
        assert t.grad_fn is None and not t.requires_grad, f"{what}: output carries a gradient"
    if kind == "sets":
        anchors, pos, neg = tuples
        assert anchors.dtype == torch.int64, f"{what}: anchors are {anchors.dtype}, not int64"
        assert pos.dtype == neg.dtype == torch.bool, f"{what}: masks are not bool"
        assert pos.shape == neg.shape == (anchors.numel(), n), f"{what}: masks are not (A, B)"
        assert ((anchors >= 0) & (anchors < n)).all(), f"{what}: anchor out of range"
        return
    for t in tuples:
        assert t.dtype == torch.int64, f"{what}: index dtype {t.dtype}, not int64"
        assert t.dim() == 1, f"{what}: index tensor of shape {tuple(t.shape)}"
        assert ((t >= 0) & (t < n)).all(), f"{what}: index out of range [0, {n})"
    (a, p), (a2, ng) = pairs_of(tuples, kind)
    assert a.numel() == p.numel() and a2.numel() == ng.numel(), f"{what}: {kind} tensors differ in length"
    if kind == "triplets":
        assert a.numel() == ng.numel(), f"{what}: triplet tensors differ in length"


def label_consistent(tuples: tuple, labels: torch.Tensor, kind: str, what: str) -> None:
    """Positives share the anchor's label and are not the anchor; negatives have another label."""
    if kind == "sets":
        anchors, pos, neg = tuples
        same = labels[anchors].view(-1, 1) == labels.view(1, -1)
        selfish = anchors.view(-1, 1) == torch.arange(labels.numel()).view(1, -1)
        assert not (pos & ~same).any(), f"{what}: a positive with another label"
        assert not (pos & selfish).any(), f"{what}: an anchor is its own positive"
        assert not (neg & same).any(), f"{what}: a negative with the anchor's label"
        return
    (a, p), (a2, ng) = pairs_of(tuples, kind)
    assert (labels[a] == labels[p]).all(), f"{what}: a positive with another label"
    assert (a != p).all(), f"{what}: an anchor is its own positive"
    assert (labels[a2] != labels[ng]).all(), f"{what}: a negative with the anchor's label"


@check("miner")
def check_miner_output(subject: Subject) -> None:
    """Tuples of the declared ``output`` kind, int64 and in range, without gradient; the input
    untouched; ``stats`` a dict."""
    cls = subject.component
    assert cls.output in TUPLE_KINDS, f"output '{cls.output}' is not one of {TUPLE_KINDS}"
    torch.manual_seed(0)
    miner = subject.build()
    emb, labels = batch(regular_labels())
    before = emb.detach().clone()
    well_typed(miner(emb, labels), labels, cls.output, "miner(emb, labels)")
    assert emb.grad is None and torch.equal(emb.detach(), before), "touched its input"
    assert isinstance(miner.stats, dict), "stats is not a dict"


@check("miner")
def check_miner_degenerate_batches(subject: Subject) -> None:
    """Well-typed tuples on one-class, all-distinct and two-item batches."""
    torch.manual_seed(0)
    miner = subject.build()
    for case, e, labels in degenerate_batches():
        well_typed(miner(e, labels), labels, subject.component.output, f"on a '{case}' batch")


@check("miner", requires="label_consistent")
def check_miner_label_consistency(subject: Subject) -> None:
    """Label-consistent tuples on a regular and on degenerate batches; no triplet where a batch has none."""
    kind = subject.component.output
    torch.manual_seed(0)
    miner = subject.build()
    emb, labels = batch(regular_labels())
    label_consistent(miner(emb, labels), labels, kind, "miner(emb, labels)")
    for case, e, labels in degenerate_batches():
        tuples = miner(e, labels)
        label_consistent(tuples, labels, kind, f"on a '{case}' batch")
        if kind == "triplets":
            assert tuples[0].numel() == 0, f"{tuples[0].numel()} triplets from a '{case}' batch, which has none"
