"""The metric contract: a registered family's metadata is valid, and each of its example names
computes a finite float within its declared range on a tiny fixture."""
from __future__ import annotations

import numpy as np

import metrics
from contracts.base import Subject, check
from contracts.fixtures import D
from utilities.registry import Entry


def example_names(entry: Entry) -> list[str]:
    """Metric names that exercise a registered family: each choice, or a small argument."""
    arg = entry.meta.get("arg")
    if arg == "k":
        return [f"{entry.name}@2"]
    if arg == "int":
        return [f"{entry.name}@1", f"{entry.name}@-1"]
    if isinstance(arg, tuple):
        return [f"{entry.name}@{c}" for c in arg]
    return [entry.name]


def metric_fixture() -> tuple[np.ndarray, np.ndarray]:
    """20 embeddings of 4 well-separated classes."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 5)
    centres = rng.normal(size=(4, D)) * 3
    return (centres[labels] + rng.normal(size=(len(labels), D))).astype(np.float32), labels


@check("metric")
def check_metric_metadata(subject: Subject) -> None:
    """The registration metadata is valid (``metrics.validate_meta``)."""
    entry = subject.built
    try:
        metrics.validate_meta(entry.name, entry.meta)
    except metrics.MetricRegistryError as err:
        raise AssertionError(str(err)) from None


@check("metric")
def check_metric_values(subject: Subject) -> None:
    """Every example name parses and computes a finite float within its range (``MetricName.range``)."""
    entry = subject.built
    compute = subject.compute or metrics.compute
    emb, labels = metric_fixture()
    for metric in example_names(entry):
        parsed = metrics.parse(metric)
        out = compute(emb, labels, [metric])
        assert metric in out, f"{metric}: missing from the results ({sorted(out)})"
        value = out[metric]
        assert isinstance(value, float), f"{metric}: {type(value).__name__}, not a float"
        assert np.isfinite(value), f"{metric}: {value}"
        low, high = parsed.range
        assert low - 1e-9 <= value <= high + 1e-9, f"{metric}: {value} outside its range [{low}, {high}]"
