"""The Reality Check table of study folders (Musgrave et al., ECCV 2020, Tables 4-6).

Rows: methods (and each study's untrained baseline); columns: {concatenated, separated} x
{P@1, R-Precision, MAP@R}, each the mean over reproductions ± the half-width of its 95 %
Student-t confidence interval; plus the search budget per method, trials x folds x epochs.
Reads what ``Reality_Check_Studies.py`` wrote: ``study.json`` and ``<method>/test.json``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any

MODES = ("concatenated", "separated")
METRICS = (("precision_at_1", "P@1"), ("r_precision", "RP"), ("map_at_r", "MAP@R"))


def load_study(folder: str) -> list[dict[str, Any]]:
    """Rows of one study folder: ``{method, model, budget, cells: {(mode, metric): (mean, ci)}}``;
    a ``FileNotFoundError`` if it is not a study folder."""
    record_path = os.path.join(folder, "study.json")
    if not os.path.isfile(record_path):
        raise FileNotFoundError(f"--reality_check {folder}: not a study folder (no study.json)")
    with open(record_path, encoding="utf-8") as fh:
        record = json.load(fh)
    budget = f"{record['trials']}x{record['folds']}x{record['epochs']}"
    rows: list[dict[str, Any]] = []
    for method in record["methods"]:
        path = os.path.join(folder, method, "test.json")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as fh:
            test = json.load(fh)
        for model in ("untrained", "trained"):
            cells = {(mode, m): (test[model][mode][m]["mean"], test[model][mode][m]["ci95"])
                     for mode in MODES for m, _ in METRICS}
            name = method if model == "trained" else f"{method} (untrained)"
            rows.append({"method": name, "model": model, "budget": budget if model == "trained" else "-",
                         "cells": cells})
    return rows


def load_studies(folders: list[str]) -> list[dict[str, Any]]:
    """Every study's rows; one untrained baseline row per study (the first method's)."""
    rows: list[dict[str, Any]] = []
    for folder in folders:
        study_rows = load_study(folder)
        baselines = [r for r in study_rows if r["model"] == "untrained"][:1]
        for r in baselines:
            r["method"] = "untrained"
        rows += baselines + [r for r in study_rows if r["model"] == "trained"]
    return rows


def cell_text(mean: float, ci: float, scale: float = 100.0, latex: bool = False) -> str:
    if mean is None or math.isnan(mean):
        return "-"
    pm = r" $\pm$ " if latex else " ± "
    return f"{scale * mean:.2f}" + ("" if ci is None or math.isnan(ci) else f"{pm}{scale * ci:.2f}")


def write_csv(rows: list[dict[str, Any]], fh: Any) -> None:
    """One row per method: mean and CI of each (mode, metric), and the budget."""
    columns = ["method", "budget"] + [f"{mode}/{m}{s}" for mode in MODES for m, _ in METRICS for s in ("", "_ci95")]
    writer = csv.DictWriter(fh, columns)
    writer.writeheader()
    for r in rows:
        out = {"method": r["method"], "budget": r["budget"]}
        for mode in MODES:
            for m, _ in METRICS:
                out[f"{mode}/{m}"], out[f"{mode}/{m}_ci95"] = r["cells"][(mode, m)]
        writer.writerow(out)


def latex_table(rows: list[dict[str, Any]], caption: str = "Reality Check protocol") -> str:
    r"""A ``tabular`` with two header rows: Concatenated | Separated, then P@1 RP MAP@R, in %."""
    n = len(METRICS)
    names = " & ".join(label for _, label in METRICS)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{caption}: mean $\pm$ 95\% CI over reproductions (\%); budget = trials $\times$ folds $\times$ epochs}}",
             r"\begin{tabular}{l" + "c" * (2 * n) + "r}", r"\toprule",
             rf" & \multicolumn{{{n}}}{{c}}{{Concatenated}} & \multicolumn{{{n}}}{{c}}{{Separated}} & \\",
             rf"\cmidrule(lr){{2-{n + 1}}} \cmidrule(lr){{{n + 2}-{2 * n + 1}}}",
             rf"Method & {names} & {names} & Budget \\", r"\midrule"]
    for r in rows:
        cells = [cell_text(*r["cells"][(mode, m)], latex=True) for mode in MODES for m, _ in METRICS]
        method = r["method"].replace("_", r"\_")
        lines.append(f"{method} & " + " & ".join(cells) + f" & {r['budget']} \\\\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def markdown(rows: list[dict[str, Any]]) -> str:
    head = ["method"] + [f"{mode[:6]} {label}" for mode in MODES for _, label in METRICS] + ["budget"]
    out = io.StringIO()
    out.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
    for r in rows:
        cells = [cell_text(*r["cells"][(mode, m)]) for mode in MODES for m, _ in METRICS]
        out.write("| " + " | ".join([r["method"]] + cells + [r["budget"]]) + " |\n")
    return out.getvalue()
