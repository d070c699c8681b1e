"""Named contract checks, the component they check (:class:`Subject`), and tag-based exemptions.

A check is a function of a :class:`Subject` registered with :func:`check` under its kind; it
raises ``AssertionError`` naming what broke. A check may ``require`` a tag: a component whose
declarations lack that tag (a miner declaring ``label_consistent = False``, a distance declaring
``is_symmetric = False``) is exempt from it, as scikit-learn's estimator tags exempt estimators.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from contracts.build import build
from contracts.fixtures import D
from utilities.registry import Entry

#: The component kinds, in the order the documentation lists them.
KINDS = ("loss", "miner", "distance", "reducer", "embedding_regularizer", "weight_regularizer",
         "sampler", "architecture", "dataset", "metric")


@dataclass(frozen=True)
class Check:
    """One named contract check of a component kind."""
    name: str
    kind: str
    run: Callable[["Subject"], None]
    requires: str | None = None          # a tag the component must have for the check to apply

    @property
    def summary(self) -> str:
        """The first line of the check's docstring."""
        return (self.run.__doc__ or "").strip().splitlines()[0]


CHECKS: dict[str, list[Check]] = {kind: [] for kind in KINDS}
TAGGERS: dict[str, Callable[[Any], set[str]]] = {}


def check(*kinds: str, requires: str | None = None) -> Callable[[Callable[["Subject"], None]], Callable]:
    """Register the decorated function as a check of each of ``kinds`` (its name is the check's)."""
    def decorator(fn: Callable[["Subject"], None]) -> Callable[["Subject"], None]:
        for kind in kinds:
            if any(c.name == fn.__name__ for c in CHECKS[kind]):
                raise ValueError(f"a {kind} check named {fn.__name__} is already registered")
            CHECKS[kind].append(Check(fn.__name__, kind, fn, requires))
        return fn
    return decorator


def tagger(*kinds: str) -> Callable[[Callable[[Any], set[str]]], Callable[[Any], set[str]]]:
    """Register the decorated function as the one that reads a component's tags (its declarations)."""
    def decorator(fn: Callable[[Any], set[str]]) -> Callable[[Any], set[str]]:
        for kind in kinds:
            TAGGERS[kind] = fn
        return fn
    return decorator


def known_kind(kind: str) -> str:
    if kind not in CHECKS:
        raise ValueError(f"unknown component kind {kind!r}; valid: {', '.join(KINDS)}")
    return kind


@dataclass
class Subject:
    """A component under check, with what its checks build it from.

    ``component`` is a class for losses, miners, distances, reducers, regularizers, samplers and
    dataset sources; a registered architecture name (suffixes allowed) or a built network for
    architectures; a registered metric name or registry entry for metrics. The other fields give
    the checks their inputs where the kind needs them.
    """
    kind: str
    component: Any
    root: str | None = None                  # dataset: the ``--source`` folder of its data
    params: Mapping[str, Any] = field(default_factory=dict)   # dataset: constructor arguments (its flags)
    embed_dim: int = D                       # architecture
    in_channels: int = 3                     # architecture
    image_size: int = 32                     # architecture: the test images' side
    compute: Callable[..., dict[str, float]] | None = None    # metric: the evaluation (default metrics.compute)

    def __post_init__(self) -> None:
        known_kind(self.kind)

    @property
    def name(self) -> str:
        """The component's name in messages."""
        c = self.component
        if isinstance(c, str):
            return c
        if isinstance(c, type):
            return c.__name__
        return c.name if isinstance(c, Entry) else type(c).__name__

    @property
    def tags(self) -> set[str]:
        """The tags the component's declarations give it (a check that requires a tag it lacks does not apply)."""
        return TAGGERS[self.kind](self.component) if self.kind in TAGGERS else set()

    def build(self, **overrides: Any) -> Any:
        """A fresh component, built as a run builds it (:func:`contracts.build.build`)."""
        return build(self.kind, self.component, root=self.root, params=self.params, embed_dim=self.embed_dim,
                     in_channels=self.in_channels, **overrides)

    @functools.cached_property
    def built(self) -> Any:
        """One built component shared by the checks that only read it (a network, dataset splits)."""
        return self.build()


def checks_for(subject: Subject) -> Iterator[Check]:
    """The checks of the subject's kind that apply to it (those whose required tag it has)."""
    tags = subject.tags
    return (c for c in CHECKS[subject.kind] if c.requires is None or c.requires in tags)


def run_check(check_: Check, subject: Subject) -> None:
    """Run one check; any failure, a crash of the component included, is an ``AssertionError``
    that starts with the check's and the component's names."""
    try:
        check_.run(subject)
    except AssertionError as err:
        raise AssertionError(f"{check_.name}({subject.name}): {err}") from None
    except Exception as err:                    # the component crashed: that breaks the contract too
        raise AssertionError(f"{check_.name}({subject.name}): {type(err).__name__}: {err}") from err


def check_component(kind: str, component: Any, **inputs: Any) -> list[str]:
    """Run every check of ``kind`` that applies to ``component``; raise ``AssertionError`` at the
    first that fails, else return the names of the checks it passed.

    ``inputs`` are :class:`Subject` fields (a dataset's ``root`` and ``params``, an
    architecture's ``image_size``, ...). Example: ``check_component("loss", MyLoss)``.
    """
    subject = Subject(known_kind(kind), component, **inputs)
    passed = []
    for c in checks_for(subject):
        run_check(c, subject)
        passed.append(c.name)
    return passed
