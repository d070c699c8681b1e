"""The reducer contract: a :class:`~criteria.terms.LossTerm` of any kind becomes a finite 0-dim
tensor of its dtype, connected to its values; an empty term a connected zero."""
from __future__ import annotations

import torch

from contracts.base import Subject, check
from contracts.fixtures import B, TERM_KINDS, backward, finite_scalar, regular_labels
from criteria.terms import LossTerm


@check("reducer")
def check_reducer_term_kinds(subject: Subject) -> None:
    """A finite 0-dim tensor of the input dtype with a gradient, for every LossTerm kind (with anchors)."""
    reducer = subject.build()
    labels = regular_labels()
    gen = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        for kind in TERM_KINDS:
            m = 1 if kind == "reduced" else 20
            values = torch.rand(m, generator=gen, dtype=torch.float64).to(dtype).requires_grad_(True)
            anchors = torch.randint(0, B, (m,), generator=gen)
            what = f"a {kind} term ({dtype})"
            out = reducer(LossTerm(values, kind, anchors), labels)
            finite_scalar(out, what, dtype)
            backward(out, values, what)


@check("reducer")
def check_reducer_empty_term(subject: Subject) -> None:
    """An empty term gives a finite zero of its dtype, connected to the (empty) values."""
    reducer = subject.build()
    for dtype in (torch.float32, torch.float64):
        values = torch.zeros(0, dtype=dtype, requires_grad=True)
        out = reducer(LossTerm(values, "triplet", torch.zeros(0, dtype=torch.long)), regular_labels())
        finite_scalar(out, f"an empty term ({dtype})", dtype)
        assert out.requires_grad, "an empty term's zero is not connected"
