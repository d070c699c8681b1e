"""Reading the CSV files of a run folder (``train.csv``, ``metrics.csv``)."""
from __future__ import annotations

import csv
import math
import os
from typing import Any


def read_csv_rows(path: str) -> list[dict[str, Any]]:
    """The rows of a CSV file as dicts of strings; ``[]`` when the file does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def as_float(text: Any) -> float:
    """A CSV cell as a float; NaN when empty or not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan
