"""Evaluation metrics, selectable by exact name (docs/evaluation.md).

A metric name is a registered *family*, optionally followed by ``@argument``: ``e_recall@4`` is
family ``e_recall`` with ``k = 4``; ``dists@intra`` is family ``dists`` with the choice
``intra``. Each family is a pure function of precomputed evidence, tagged with the kind of
evidence it reads (``meta["evidence"]``):

* ``ranking``: a :class:`metrics.ranking.Ranking` (neighbour hits and relevant counts); the
  function returns one value per query, and the engine averages them (micro or macro);
* ``clustering``: labels and k-means cluster ids; returns a float;
* ``spectrum``: the singular values of the embedding matrix; returns a float or an array;
* ``class_distances``: per-class sums of normalised embeddings; returns a float.

``metrics.compute`` gathers the evidence once (one kNN search per distance, one k-means per
distance, one SVD) and calls every requested family; see :mod:`metrics.evidence`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from utilities.registry import Registry, UnknownNameError

#: Evidence kinds the engine gathers (:mod:`metrics.evidence`); a metric reads exactly one.
EVIDENCE_KINDS = ("ranking", "clustering", "spectrum", "class_distances")
#: Distances a ranking or clustering metric may be computed in.
SPACES = ("euclidean", "cosine")
#: Registration metadata: ``evidence`` is required (and ``space`` for ranking and clustering);
#: the rest are optional, see :func:`validate_meta`.
META_KEYS = ("evidence", "space", "arg", "fixed_arg", "depth", "first_hit", "lower_is_better", "range")
#: The value range of a metric, when its registration names none (``range=(low, high)``).
DEFAULT_RANGE = {"ranking": (0.0, 1.0), "clustering": (0.0, 1.0), "spectrum": (0.0, float("inf")),
                 "class_distances": (0.0, float("inf"))}


class MetricRegistryError(ValueError):
    """A metric registered with invalid metadata (raised at import, when it registers)."""


def validate_meta(name: str, meta: dict[str, Any]) -> None:
    """Check one metric's registration metadata; raise :class:`MetricRegistryError` naming it.

    * ``evidence`` (required): one of :data:`EVIDENCE_KINDS`;
    * ``space``: one of :data:`SPACES`, required for ``ranking`` and ``clustering``;
    * ``arg``: ``"k"`` (integer >= 1), ``"int"`` (any integer) or a tuple of string choices;
    * ``fixed_arg``: the argument of an alias that takes none (``precision_at_1`` -> 1);
    * ``depth``: neighbours a ranking metric reads, an int >= 1, ``"k"`` (its argument) or
      ``"R"`` (max R_q); a ranking metric without ``arg`` must give an int or ``"R"``;
    * ``first_hit``: bool, the engine finds each query's first relevant item;
    * ``lower_is_better``: bool, or the tuple of ``arg`` choices for which smaller is better;
    * ``range``: ``(low, high)`` of its values (default by evidence, :data:`DEFAULT_RANGE`).
    """
    def fail(why: str) -> None:
        raise MetricRegistryError(f"metric '{name}': {why}")
    unknown = [k for k in meta if k not in META_KEYS]
    if unknown:
        fail(f"unknown metadata key '{unknown[0]}' (allowed: {', '.join(META_KEYS)})")
    evidence = meta.get("evidence")
    if evidence is None:
        fail("metadata 'evidence' is required")
    if evidence not in EVIDENCE_KINDS:
        fail(f"unknown evidence kind {evidence!r} (allowed: {', '.join(EVIDENCE_KINDS)})")
    if evidence in ("ranking", "clustering") and "space" not in meta:
        fail(f"metadata 'space' is required for {evidence} metrics ({', '.join(SPACES)})")
    if "space" in meta and meta["space"] not in SPACES:
        fail(f"unknown space {meta['space']!r} (allowed: {', '.join(SPACES)})")
    arg = meta.get("arg")
    choices = isinstance(arg, tuple) and arg and all(isinstance(c, str) and c for c in arg)
    if arg is not None and arg not in ("k", "int") and not choices:
        fail(f"'arg' must be 'k', 'int' or a tuple of string choices, not {arg!r}")
    if "fixed_arg" in meta and (arg is not None or isinstance(meta["fixed_arg"], bool)
                                or not isinstance(meta["fixed_arg"], (int, str))):
        fail("'fixed_arg' (an int or str) is only for a metric without 'arg'")
    depth = meta.get("depth", "k")
    if not (depth in ("k", "R") or (isinstance(depth, int) and not isinstance(depth, bool) and depth >= 1)):
        fail(f"'depth' must be an int >= 1, 'k' or 'R', not {depth!r}")
    if evidence == "ranking" and depth == "k" and arg not in ("k", "int") and "fixed_arg" not in meta:
        fail("a ranking metric without an integer 'arg' needs 'depth' (an int or 'R') or 'fixed_arg'")
    if "first_hit" in meta and not isinstance(meta["first_hit"], bool):
        fail("'first_hit' must be a bool")
    lower = meta.get("lower_is_better", False)
    if not isinstance(lower, bool) and not (choices and isinstance(lower, tuple) and set(lower) <= set(arg)):
        fail("'lower_is_better' must be a bool or a tuple of the metric's 'arg' choices")
    if "range" in meta:
        low_high = meta["range"]
        if (not isinstance(low_high, tuple) or len(low_high) != 2
                or not all(isinstance(v, (int, float)) for v in low_high) or not low_high[0] < low_high[1]):
            fail(f"'range' must be a (low, high) tuple with low < high, not {low_high!r}")


class MetricRegistry(Registry):
    """A :class:`Registry` that validates each metric's metadata when it registers, so a broken
    registration fails at import rather than at the first evaluation."""

    def register(self, name: str, **meta: Any):  # type: ignore[override]
        validate_meta(name, meta)
        inner = super().register(name, **meta)

        def decorator(obj: Any) -> Any:
            if not callable(obj):
                raise MetricRegistryError(f"metric '{name}': registered object is not callable")
            return inner(obj)
        return decorator

    def describe(self) -> list[tuple[str, str]]:
        """As :meth:`Registry.describe`, each metric saying which geometry it uses: a ``c_`` metric
        is computed on L2-normalised embeddings (cosine), so ``c_nmi`` no longer reads as ``nmi``."""
        from utilities.registry import shorten
        out = []
        for entry in self.entries():
            space = entry.meta.get("space")
            where = {"cosine": "cosine, on L2-normalised embeddings: ",
                     "euclidean": "Euclidean: "}.get(space, "") if entry.name.startswith(("c_", "e_")) else ""
            out.append((entry.name, shorten(where + entry.summary)))
        return out


METRICS = MetricRegistry("metric", flag="--evaluation_metrics")

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("evidence", "neighbours", "kmeans"))


@dataclass(frozen=True)
class MetricName:
    """A parsed metric name: its ``family`` and its argument (``int``, ``str`` or ``None``)."""
    name: str
    family: str
    arg: int | str | None

    @property
    def meta(self) -> dict[str, Any]:
        return METRICS.entry(self.family).meta

    @property
    def evidence(self) -> str:
        return self.meta["evidence"]

    @property
    def space(self) -> str | None:
        return self.meta.get("space")

    def depth(self, max_relevant: int) -> int:
        """How many nearest neighbours a ranking metric reads (``max_relevant`` = max R_q)."""
        need = self.meta.get("depth", "k")
        if need == "R":
            return max_relevant
        return int(need if isinstance(need, int) else self.value)

    @property
    def higher_is_better(self) -> bool:
        """False for metrics where smaller is better (``dists@intra``, ``rho_spectrum@k``)."""
        lower = self.meta.get("lower_is_better", False)
        return not (lower is True or (isinstance(lower, tuple) and self.value in lower))

    @property
    def range(self) -> tuple[float, float]:
        """The ``(low, high)`` range of the metric's values (registration or evidence default)."""
        return self.meta.get("range", DEFAULT_RANGE[self.evidence])

    @property
    def value(self) -> int | str | None:
        """The argument, or the fixed one of an alias (``precision_at_1`` -> 1)."""
        return self.arg if self.arg is not None else self.meta.get("fixed_arg")


def _valid_names() -> list[str]:
    out = []
    for entry in METRICS.entries():
        kind = entry.meta.get("arg")
        if kind in ("k", "int"):
            out.append(f"{entry.name}@k")
        elif isinstance(kind, tuple):
            out += [f"{entry.name}@{c}" for c in kind]
        else:
            out.append(entry.name)
    return out


def parse(name: str) -> MetricName:
    """Parse and validate one metric name, e.g. ``e_recall@4``, ``rho_spectrum@-1``, ``dists@intra``.

    Raises :class:`UnknownNameError` (closest names first) or ``ValueError`` with a one-line
    message naming ``--evaluation_metrics``.
    """
    family, at, arg = name.partition("@")
    if family not in METRICS:
        raise UnknownNameError("metric", name, _valid_names(), "--evaluation_metrics")
    kind = METRICS.entry(family).meta.get("arg")
    if kind is None:
        if at:
            raise ValueError(f"--evaluation_metrics: metric '{family}' takes no '@' argument")
        return MetricName(name, family, None)
    if not arg:
        example = f"{family}@{kind[0]}" if isinstance(kind, tuple) else f"{family}@1"
        raise ValueError(f"--evaluation_metrics: metric '{name}' needs an argument, e.g. {example}")
    if isinstance(kind, tuple):
        if arg not in kind:
            raise UnknownNameError("metric", name, _valid_names(), "--evaluation_metrics")
        return MetricName(name, family, arg)
    try:
        value = int(arg)
    except ValueError:
        raise ValueError(f"--evaluation_metrics: '{name}': the argument after '@' must be an integer") from None
    if kind == "k" and value < 1:
        raise ValueError(f"--evaluation_metrics: '{name}': k must be >= 1")
    return MetricName(name, family, value)


def compute(embeddings: Any, labels: Any, names: list[str], *, is_query: Any = None,
            is_gallery: Any = None, device: str = "cpu", **options: Any) -> dict[str, float]:
    """Compute the metrics ``names``; see :func:`metrics.evidence.compute`.

    The result is a ``dict[str, float]`` (a :class:`metrics.evidence.MetricResults`) whose
    ``.arrays`` holds array-valued metrics such as ``rho_spectrum@0``.
    """
    from metrics.evidence import compute as _compute
    return _compute(embeddings, labels, names, is_query=is_query, is_gallery=is_gallery,
                    device=device, **options)


def names() -> list[str]:
    """Every valid metric name pattern (``@k`` marks an integer argument)."""
    return _valid_names()
