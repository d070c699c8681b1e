"""Files the evaluation writes beside ``metrics.csv``: array-valued metrics and eval reports."""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from utilities.atomic import write_json

ARRAYS_FILE = "metric_arrays.json"


def save_arrays(folder: str, epoch: int, results: dict[str, Any]) -> None:
    """Append the array-valued metrics of one evaluation (e.g. ``rho_spectrum@0``) to
    ``<folder>/metric_arrays.json``: a list of ``{"epoch", "split", "metric", "values"}`` rows.
    Rows of later epochs (left by a resumed run) are dropped."""
    rows = [{"epoch": epoch, "split": split, "metric": name, "values": np.asarray(arr).tolist()}
            for split, values in results.items() for name, arr in getattr(values, "arrays", {}).items()]
    if not rows:
        return
    path = os.path.join(folder, ARRAYS_FILE)
    old = []
    if os.path.exists(path):
        with open(path) as fh:
            old = [r for r in json.load(fh) if r["epoch"] < epoch]
    write_json(path, old + rows)


def save_report(path: str, split: str, source: str, results: dict[str, Any], n_items: int) -> None:
    """``eval_<split>.json`` of the standalone evaluation."""
    arrays = {k: np.asarray(v).tolist() for k, v in getattr(results, "arrays", {}).items()}
    write_json(path, {"split": split, "source": source, "n_items": n_items,
                      "metrics": dict(results), "arrays": arrays})
