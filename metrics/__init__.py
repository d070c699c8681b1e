"""Evaluation metrics, selectable by exact name (CONTRACT §5).

A metric name is a registered *family* optionally followed by ``@argument``: ``e_recall@4`` is
family ``e_recall`` with ``k = 4``. Each family is a pure function of precomputed evidence
(neighbour hits, relevant counts, cluster ids); ``metrics.compute`` gathers that evidence once
(one kNN search per distance, one k-means per distance) and calls them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from utilities.registry import Registry, UnknownNameError

METRICS = Registry("metric", flag="--evaluation_metrics")

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)


@dataclass(frozen=True)
class MetricName:
    """A parsed metric name: ``family`` and its optional integer ``arg``."""
    name: str
    family: str
    arg: int | None

    @property
    def meta(self) -> dict[str, Any]:
        return METRICS.entry(self.family).meta


def parse(name: str) -> MetricName:
    """Parse and validate one metric name, e.g. ``e_recall@4``."""
    family, _, arg = name.partition("@")
    entry = METRICS.entry(family) if family in METRICS else None
    if entry is None:
        valid = [f"{n}@k" if METRICS.entry(n).meta.get("arg") else n for n in METRICS.names()]
        raise UnknownNameError("metric", name, valid, "--evaluation_metrics")
    needs_arg = entry.meta.get("arg", False)
    if needs_arg and not arg:
        raise ValueError(f"--evaluation_metrics: metric '{name}' needs an argument, e.g. {family}@1")
    if not needs_arg and arg:
        raise ValueError(f"--evaluation_metrics: metric '{family}' takes no '@' argument")
    try:
        value = int(arg) if arg else None
    except ValueError:
        raise ValueError(f"--evaluation_metrics: '{name}': the argument after '@' must be an integer") from None
    if value is not None and entry.meta.get("positive_arg", True) and value < 1:
        raise ValueError(f"--evaluation_metrics: '{name}': k must be >= 1")
    return MetricName(name, family, value)


def compute(embeddings: Any, labels: Any, names: list[str], *, is_query: Any = None,
            is_gallery: Any = None, device: str = "cpu") -> dict[str, float]:
    """Compute the metrics ``names`` (CONTRACT §4, §5). See :func:`evaluation.compute.compute`."""
    from evaluation.compute import compute as _compute
    return _compute(embeddings, labels, names, is_query=is_query, is_gallery=is_gallery, device=device)


def names() -> list[str]:
    return METRICS.names()
