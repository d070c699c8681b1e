"""Evaluation metrics, selectable by exact name (CONTRACT §5).

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

METRICS = Registry("metric", flag="--evaluation_metrics")

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
    """Compute the metrics ``names`` (CONTRACT §4, §5); see :func:`metrics.evidence.compute`.

    The result is a ``dict[str, float]`` (a :class:`metrics.evidence.MetricResults`) whose
    ``.arrays`` holds array-valued metrics such as ``rho_spectrum@0``.
    """
    from metrics.evidence import compute as _compute
    return _compute(embeddings, labels, names, is_query=is_query, is_gallery=is_gallery,
                    device=device, **options)


def names() -> list[str]:
    """Every valid metric name pattern (``@k`` marks an integer argument)."""
    return _valid_names()
