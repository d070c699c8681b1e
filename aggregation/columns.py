"""Metric columns: display names, aliases between equivalent metric names, formatting, and the
check of ``--metrics`` names."""
from __future__ import annotations

import math
from typing import Any, Iterable

import metrics as metric_registry
from utilities.registry import UnknownNameError, closest_names_hint

DEFAULT_METRICS = ("e_recall@1", "e_recall@2", "f1", "map_at_r", "nmi", "rho_spectrum@2")
DISPLAY = {
    "e_recall@1": "R@1", "e_recall@2": "R@2", "e_recall@4": "R@4", "e_recall@8": "R@8",
    "f1": "F1", "map_at_r": "mAP@R", "nmi": "NMI", "rho_spectrum@2": "ρ@2", "rho_spectrum@1": "ρ@1",
}
# Metrics that are the same quantity under another name (see docs/evaluation.md): the first one present wins.
ALIASES = {
    "map_at_r": ("map_at_r", "mAP_c"),
    "e_recall@1": ("e_recall@1", "precision_at_1", "cmc@1"),
}
# Descriptive metrics: no "better" direction for test_max (aggregation.selection), and shown as they
# are; all others are shown in percent (×100), as in the paper.
DESCRIPTIVE_PREFIXES = ("rho_spectrum", "dists@", "n_lone_queries")


def display(metric: str) -> str:
    return DISPLAY.get(metric, metric)


def lookup(values: dict[str, float], metric: str) -> float:
    """``values[metric]``, or the value of an equivalent name, or NaN."""
    for name in ALIASES.get(metric, (metric,)):
        value = values.get(name)
        if value is not None and not math.isnan(value):
            return float(value)
    return math.nan


def scale(metric: str) -> float:
    return 1.0 if metric.startswith(DESCRIPTIVE_PREFIXES) else 100.0


def fmt(metric: str, mean: float, spread: float, latex: bool = False) -> str:
    """``mean ± spread`` in the metric's display scale (two decimals for percent, four otherwise)."""
    if math.isnan(mean):
        return "--" if latex else "–"
    factor = scale(metric)
    digits = 2 if factor == 100.0 else 4
    text = f"{mean * factor:.{digits}f}"
    if not math.isnan(spread):
        text += (r" $\pm$ " if latex else " ± ") + f"{spread * factor:.{digits}f}"
    return text


def recorded_metrics(runs: Iterable[Any]) -> set[str]:
    """Every metric name that some run recorded (metrics.csv columns, summary.json metrics)."""
    names = {k for run in runs for row in run.metric_rows for k in row if k not in ("epoch", "split")}
    return names | {k for run in runs for k in (run.summary.get("metrics") or {})}


def metric_problem(names: list[str], recorded: set[str]) -> str | None:
    """Why ``--metrics names`` cannot be reported (one line), or ``None``. A name is valid when a
    run recorded it (or an alias of it) or when the metric registry knows it."""
    for name in names:
        if any(alias in recorded for alias in ALIASES.get(name, (name,))):
            continue
        try:
            metric_registry.parse(name)
        except UnknownNameError:
            valid = sorted(recorded | set(metric_registry.names()))
            return f"--metrics: unknown metric '{name}'. {closest_names_hint(name, valid)}"
        except ValueError as err:
            return str(err).replace("--evaluation_metrics", "--metrics")
    return None
