"""Mean, standard deviation and 95% confidence interval of a metric over seeds."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from scipy import stats as _scipy_stats


@dataclass(frozen=True)
class Stat:
    """``n`` values: their mean, sample standard deviation (ddof = 1) and the half-width of the
    two-sided 95% Student-t confidence interval of the mean, ``t_{0.975, n-1} · std / sqrt(n)``.
    With one value, ``std`` and ``ci95`` are NaN; with none, everything is NaN."""
    n: int
    mean: float
    std: float
    ci95: float


def describe(values: Iterable[float]) -> Stat:
    """Summarise ``values``, ignoring NaNs."""
    xs = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    n = len(xs)
    if n == 0:
        return Stat(0, math.nan, math.nan, math.nan)
    mean = sum(xs) / n
    if n == 1:
        return Stat(1, mean, math.nan, math.nan)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    ci = float(_scipy_stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
    return Stat(n, mean, std, ci)
