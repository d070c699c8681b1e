"""Which epoch's test metrics a run reports in the aggregated tables (``--selection``).

* ``last``, ``val``, ``test_max``: one epoch per run, chosen by the rule the run itself used for
  ``best_epoch`` (:func:`training.selection.select_epoch`): the last evaluated epoch (the default,
  and the honest choice without a validation split); the best validation value of the selection
  metric (the first ``--storage_metrics`` of the run, unless given), or its best *test* value.
  Best is largest, or smallest for lower-is-better metrics such as ``dists@intra``.
* ``test_max_per_metric``: each test metric takes its own maximum over epochs, separately (so R@1
  and NMI may come from different epochs). Descriptive metrics that have no "better" direction
  (``rho_spectrum``, ``dists@``, ``n_lone_queries``) are read at the epoch ``test_max`` selects.

``test_max`` and ``test_max_per_metric`` select on the test set: both are **optimistic**.
"""
from __future__ import annotations

import math
from typing import Any

import metrics as metric_registry
from aggregation.columns import DESCRIPTIVE_PREFIXES
from training.selection import SELECTIONS as RUN_SELECTIONS
from training.selection import select_epoch, selection_split

PER_METRIC = "test_max_per_metric"
SELECTIONS = RUN_SELECTIONS + (PER_METRIC,)
OPTIMISTIC = ("test_max", PER_METRIC)


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


def selected_epoch(rows: list[dict[str, Any]], mode: str, metric: str) -> int | None:
    """The epoch ``mode`` (``last``, ``val``, ``test_max``) selects from metrics.csv ``rows``."""
    split = _rows(rows, selection_split(mode))
    return select_epoch([(r["epoch"], r.get(metric, math.nan)) for r in split], mode, _higher_is_better(metric))


def select(rows: list[dict[str, Any]], mode: str, metric: str = "e_recall@1",
           fallback: dict[str, float] | None = None) -> tuple[dict[str, float], int | None]:
    """The test metrics of one run under ``mode``, and the selected epoch (None for
    ``test_max_per_metric``).

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
    if mode == PER_METRIC:
        return _per_metric_max(test, metric), None
    epoch = selected_epoch(rows, mode, metric)
    if epoch is None:
        raise SelectionError(f"no validation values of {metric} (train with --use_tv_split)" if mode == "val"
                             else f"no test values of {metric}")
    chosen = [r for r in test if r["epoch"] == epoch]
    if not chosen:
        raise SelectionError(f"no test evaluation at the validation-selected epoch {epoch}")
    return _metrics(chosen[0]), epoch


def _per_metric_max(test: list[dict[str, Any]], metric: str) -> dict[str, float]:
    """Each test metric's maximum over epochs; descriptive ones at the ``test_max`` epoch of ``metric``."""
    peak_epoch = selected_epoch(test, "test_max", metric)
    peak = next((r for r in test if r["epoch"] == peak_epoch), test[-1])
    out = {}
    for name in {k for r in test for k in r if k not in ("epoch", "split")}:
        if is_descriptive(name):
            value = peak.get(name, math.nan)
        else:
            values = [r[name] for r in test if name in r and not math.isnan(r[name])]
            value = max(values) if values else math.nan
        if not math.isnan(value):
            out[name] = value
    return out
