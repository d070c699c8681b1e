"""Which epoch's test metrics a run reports (``--selection``).

* ``last``: the last evaluated epoch (the default, and the honest choice without a validation split).
* ``val``: the epoch with the best (largest, or smallest for lower-is-better metrics such as
  ``dists@intra``, as in main.py's selector) validation value of the selection metric (the first
  ``--storage_metrics`` of the run, unless given); its test metrics are reported.
* ``test_max``: the Revisiting-DML paper's protocol. Each test metric takes its own maximum over
  epochs, separately. It selects on the test set, so it is **optimistic**. Descriptive metrics that
  have no "better" direction (``rho_spectrum``, ``dists@``, ``n_lone_queries``) are read at the epoch
  where the selection metric peaks on the test set.
"""
from __future__ import annotations

import math
from typing import Any

import metrics as metric_registry
from aggregation.columns import DESCRIPTIVE_PREFIXES

SELECTIONS = ("last", "val", "test_max")


class SelectionError(ValueError):
    """A run cannot report metrics under the chosen selection (e.g. no validation split)."""


def is_descriptive(metric: str) -> bool:
    return metric.startswith(DESCRIPTIVE_PREFIXES)


def _rows(rows: list[dict[str, Any]], split: str) -> list[dict[str, Any]]:
    return sorted((r for r in rows if r.get("split") == split), key=lambda r: r["epoch"])


def _metrics(row: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in row.items() if k not in ("epoch", "split") and not math.isnan(v)}


def _higher_is_better(metric: str) -> bool:
    """The metric registry's direction (as main.py's selector uses); True for unknown names."""
    try:
        return metric_registry.parse(metric).higher_is_better
    except (KeyError, ValueError):  # UnknownNameError is a KeyError
        return True


def _argmax_epoch(rows: list[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    """The first row where ``metric`` is best: largest, or smallest for lower-is-better metrics
    (``dists@intra``, ``rho_spectrum@k``), as ``training.selection.EpochSelector`` picks it
    (ties: the earliest epoch)."""
    higher = _higher_is_better(metric)
    best = None
    for row in rows:
        value = row.get(metric, math.nan)
        if math.isnan(value):
            continue
        if best is None or (value > best[metric] if higher else value < best[metric]):
            best = row
    return best


def select(rows: list[dict[str, Any]], mode: str, metric: str = "e_recall@1",
           fallback: dict[str, float] | None = None) -> tuple[dict[str, float], int | None]:
    """The test metrics of one run under ``mode``, and the selected epoch (None for test_max).

    ``rows`` are metrics.csv rows (``epoch``, ``split`` and metric columns). ``fallback`` (the
    summary.json metrics) is used for ``last`` when there are no rows. Raises
    :class:`SelectionError` when the mode cannot be applied.
    """
    if mode not in SELECTIONS:
        raise SelectionError(f"--selection must be one of {', '.join(SELECTIONS)}, got '{mode}'")
    test = _rows(rows, "test")
    if not test:
        if mode == "last" and fallback:
            return dict(fallback), None
        raise SelectionError("no test evaluation recorded")
    if mode == "last":
        return _metrics(test[-1]), test[-1]["epoch"]
    if mode == "val":
        best = _argmax_epoch(_rows(rows, "val"), metric)
        if best is None:
            raise SelectionError(f"no validation values of {metric} (train with --use_tv_split)")
        chosen = [r for r in test if r["epoch"] == best["epoch"]]
        if not chosen:
            raise SelectionError(f"no test evaluation at the validation-selected epoch {best['epoch']}")
        return _metrics(chosen[0]), best["epoch"]
    peak = _argmax_epoch(test, metric) or test[-1]
    out = {}
    for name in {k for r in test for k in r if k not in ("epoch", "split")}:
        if is_descriptive(name):
            value = peak.get(name, math.nan)
        else:
            values = [r[name] for r in test if name in r and not math.isnan(r[name])]
            value = max(values) if values else math.nan
        if not math.isnan(value):
            out[name] = value
    return out, None
