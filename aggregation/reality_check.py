"""The Reality Check table of study folders (Musgrave et al., ECCV 2020, Tables 4-6).

One block per dataset. Rows: each study's two baselines (the backbone's own features without a
head, and the untrained network with a fresh head per fold), then its methods; columns:
{concatenated, separated} x {P@1, R-Precision, MAP@R}, each the mean over reproductions ± the
half-width of its 95 % Student-t confidence interval, in percent; plus the search budget per
method, trials x folds x epochs. Reads what ``Reality_Check_Studies.py`` wrote: ``study.json`` and
``<method>/test.json``.

What the paper's tables did not say, the table says:

* fewer than :data:`MIN_REPRODUCTIONS` reproductions: a Student-t interval from 2 values is wide
  and itself unreliable (a footnote and a console warning);
* an interval reaching past the metric's range [0, 100] % is marked ``†`` and explained;
* methods of one study share their reproduction seeds, so each method is compared with the best
  one of its column by a paired t-test over the reproductions (Student, 1908; ``scipy.stats.
  ttest_rel``); ``≈`` marks a method that the study cannot tell apart from the best at the 5 % level
  (the best is marked ``*``).
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
MIN_REPRODUCTIONS = 3
#: The paper's baselines, shown once per study (the first method's; every method's untrained
#: network is the same architecture): the backbone's own features, and a fresh head per fold.
BASELINES = {"backbone": "backbone features", "untrained": "untrained"}
ALPHA = 0.05
BEST, TIED, WIDE = "*", "≈", "†"
NOTES = {
    BEST: "* best mean of the column within its study",
    TIED: f"≈ not distinguishable from the best by a paired t-test over the reproductions (p ≥ {ALPHA})",
    WIDE: "† the 95 % interval reaches past the metric's range [0, 100] %",
}


def dataset_of(record: dict[str, Any]) -> str:
    """The study's dataset: ``study.json``'s ``dataset``, else the last ``--dataset`` of its
    ``main.py`` flags (``glyphs``, main.py's default, when none)."""
    if record.get("dataset"):
        return str(record["dataset"])
    argv = [str(a) for a in record.get("main_argv") or []]
    value = "glyphs"
    for i, token in enumerate(argv[:-1]):
        if token == "--dataset":
            value = argv[i + 1]
    return value


def load_study(folder: str) -> list[dict[str, Any]]:
    """Rows of one study folder: ``{dataset, study, method, model, budget, cells: {(mode, metric):
    (mean, ci, n)}, values: {(mode, metric): [per reproduction] | None}}``; a ``FileNotFoundError``
    if it is not a study folder."""
    record_path = os.path.join(folder, "study.json")
    if not os.path.isfile(record_path):
        raise FileNotFoundError(f"--reality_check {folder}: not a study folder (no study.json)")
    with open(record_path, encoding="utf-8") as fh:
        record = json.load(fh)
    budget = f"{record['trials']}x{record['folds']}x{record['epochs']}"
    study = os.path.basename(os.path.normpath(folder))
    rows: list[dict[str, Any]] = []
    for method in record["methods"]:
        path = os.path.join(folder, method, "test.json")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as fh:
            test = json.load(fh)
        for model in [m for m in ("backbone", "untrained", "trained") if m in test]:
            cells = {(mode, m): (test[model][mode][m]["mean"], test[model][mode][m]["ci95"],
                                 test[model][mode][m].get("n"))
                     for mode in MODES for m, _ in METRICS}
            stored = test.get("values", {}).get(model)
            values = {(mode, m): (stored[mode][m] if stored else None) for mode in MODES for m, _ in METRICS}
            rows.append({"dataset": dataset_of(record), "study": study, "method": method, "model": model,
                         "budget": budget if model == "trained" else "-", "cells": cells, "values": values})
    return rows


def load_studies(folders: list[str]) -> list[dict[str, Any]]:
    """Every study's rows, grouped by dataset (in the order first seen): per study, its baselines
    (:data:`BASELINES`), then its methods. When one dataset has several studies, each row names its
    study."""
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    studies_of: dict[str, set[str]] = {}
    for folder in folders:
        study_rows = load_study(folder)
        baselines = []
        for model, label in BASELINES.items():
            for r in [r for r in study_rows if r["model"] == model][:1]:
                r["method"] = label
                baselines.append(r)
        for r in baselines + [r for r in study_rows if r["model"] == "trained"]:
            by_dataset.setdefault(r["dataset"], []).append(r)
            studies_of.setdefault(r["dataset"], set()).add(r["study"])
    rows = [r for block in by_dataset.values() for r in block]
    for r in rows:
        r["label"] = r["method"] + (f" [{r['study']}]" if len(studies_of[r["dataset"]]) > 1 else "")
    mark(rows)
    return rows


def paired_p(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of a paired t-test of ``a`` against ``b`` (NaN below 2 pairs; 1 when the
    two are equal in every pair, 0 when they differ by a constant)."""
    from scipy import stats
    if len(a) != len(b) or len(a) < 2:
        return math.nan
    diffs = [x - y for x, y in zip(a, b)]
    if all(math.isclose(d, diffs[0], rel_tol=1e-9, abs_tol=1e-12) for d in diffs):   # no variance
        return 1.0 if math.isclose(diffs[0], 0.0, abs_tol=1e-12) else 0.0
    return float(stats.ttest_rel(a, b).pvalue)


def mark(rows: list[dict[str, Any]]) -> None:
    """Set each row's ``marks[(mode, metric)]``: ``*`` for the best trained mean of its study's
    column, ``≈`` for a trained method the paired t-test cannot tell apart from it, ``†`` for an
    interval past [0, 1]."""
    for r in rows:
        r["marks"] = {key: "" for key in r["cells"]}
        for key, (mean, ci, _) in r["cells"].items():
            if _finite(mean) and _finite(ci) and (mean - ci < 0 or mean + ci > 1):
                r["marks"][key] += WIDE
    for study in {(r["dataset"], r["study"]) for r in rows}:
        trained = [r for r in rows if (r["dataset"], r["study"]) == study and r["model"] == "trained"]
        if len(trained) < 2:
            continue
        for key in trained[0]["cells"]:
            scored = [r for r in trained if _finite(r["cells"][key][0])]
            if not scored:
                continue
            best = max(scored, key=lambda r: r["cells"][key][0])
            best["marks"][key] = BEST + best["marks"][key]
            for r in scored:
                if r is best or r["values"][key] is None or best["values"][key] is None:
                    continue
                if paired_p(r["values"][key], best["values"][key]) >= ALPHA:
                    r["marks"][key] = TIED + r["marks"][key]


def _finite(x: Any) -> bool:
    return x is not None and not math.isnan(x)


def warnings_of(rows: list[dict[str, Any]]) -> list[str]:
    """The sentences a table needs under it: few reproductions, the marks used."""
    out = []
    few = sorted({n for r in rows for _, _, n in r["cells"].values() if n is not None and n < MIN_REPRODUCTIONS})
    if few:
        out.append(f"Fewer than {MIN_REPRODUCTIONS} reproductions (n = {', '.join(map(str, few))}): the 95 % "
                   "intervals are wide and themselves unreliable; run more --reproductions before comparing.")
    used = {ch for r in rows for m in r["marks"].values() for ch in m}
    out += [NOTES[m] + "." for m in (BEST, TIED, WIDE) if m in used]
    return out


def cell_text(mean: float, ci: float, scale: float = 100.0, latex: bool = False) -> str:
    if mean is None or math.isnan(mean):
        return "-"
    pm = r" $\pm$ " if latex else " ± "
    return f"{scale * mean:.2f}" + ("" if ci is None or math.isnan(ci) else f"{pm}{scale * ci:.2f}")


def write_csv(rows: list[dict[str, Any]], fh: Any) -> None:
    """One row per method: dataset, study, mean, CI, n and marks of each (mode, metric), the budget."""
    columns = ["dataset", "study", "method", "budget"] + [
        f"{mode}/{m}{s}" for mode in MODES for m, _ in METRICS for s in ("", "_ci95", "_n", "_mark")]
    writer = csv.DictWriter(fh, columns)
    writer.writeheader()
    for r in rows:
        out = {"dataset": r["dataset"], "study": r["study"], "method": r["method"], "budget": r["budget"]}
        for mode in MODES:
            for m, _ in METRICS:
                out[f"{mode}/{m}"], out[f"{mode}/{m}_ci95"], out[f"{mode}/{m}_n"] = r["cells"][(mode, m)]
                out[f"{mode}/{m}_mark"] = r["marks"][(mode, m)]
        writer.writerow(out)


def _tex(text: str) -> str:
    """Escape LaTeX specials; ``--flag`` keeps its two hyphens (not an en dash)."""
    return (text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&")
            .replace("%", r"\%").replace("--", "-{}-"))


TEX_MARKS = {BEST: "*", TIED: r"\approx", WIDE: r"\dagger"}


def _tex_cell(mean: float, ci: float, marks: str) -> tuple[str, str]:
    """The mean (bold when best, with its marks) and the small ``±ci`` under it."""
    if mean is None or math.isnan(mean):
        return "--", ""
    value = f"{100 * mean:.2f}"
    value = rf"\textbf{{{value}}}" if BEST in marks else value
    sup = "".join(TEX_MARKS[m] for m in marks if m != BEST)
    value += f"$^{{{sup}}}$" if sup else ""
    return value, ("" if ci is None or math.isnan(ci) else rf"{{\scriptsize$\pm${100 * ci:.2f}}}")


def latex_table(rows: list[dict[str, Any]], caption: str = "Reality Check protocol") -> str:
    r"""A ``table*`` per dataset: Concatenated | Separated over P@1 RP MAP@R (in %), each mean with
    a small ``±`` 95 % half-width under it, and the budget; fits a one-column article and spans both
    columns of a two-column one (``\footnotesize``, no overfull box: tests/studies)."""
    n = len(METRICS)
    names = " & ".join(label for _, label in METRICS)
    out = []
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        block = [r for r in rows if r["dataset"] == dataset]
        lines = [r"\begin{table*}[t]", r"\centering",
                 rf"\caption{{{caption}, {_tex(dataset)}: mean over reproductions, $\pm$ the 95\% confidence "
                 r"half-width below it (\%); budget = trials $\times$ folds $\times$ epochs}",
                 r"\vspace{4pt}", r"\footnotesize", r"\setlength{\tabcolsep}{4pt}",
                 r"\begin{tabular}{@{}l" + "c" * (2 * n) + "r@{}}", r"\toprule",
                 rf" & \multicolumn{{{n}}}{{c}}{{Concatenated}} & \multicolumn{{{n}}}{{c}}{{Separated}} & \\",
                 rf"\cmidrule(lr){{2-{n + 1}}} \cmidrule(lr){{{n + 2}-{2 * n + 1}}}",
                 rf"Method & {names} & {names} & Budget \\", r"\midrule"]
        for r in block:
            cells = [_tex_cell(*r["cells"][(mode, m)][:2], r["marks"][(mode, m)]) for mode in MODES for m, _ in METRICS]
            lines.append(f"{_tex(r['label'])} & " + " & ".join(c[0] for c in cells) + f" & {r['budget']} "
                         + (r"\\[-2pt]" if any(c[1] for c in cells) else r"\\"))
            if any(c[1] for c in cells):
                lines.append(" & " + " & ".join(c[1] for c in cells) + r" & \\")
        notes = [_tex(w).replace("≈", r"$\approx$").replace("†", r"$\dagger$").replace("≥", r"$\geq$")
                 for w in warnings_of(block)]
        lines += [r"\bottomrule", r"\end{tabular}"]
        if notes:
            lines.append(r"\par\smallskip\parbox{\linewidth}{\footnotesize\raggedright " + " ".join(notes) + "}")
        lines.append(r"\end{table*}")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def markdown(rows: list[dict[str, Any]]) -> str:
    """One markdown table per dataset, its marks and warnings under it."""
    head = ["method"] + [f"{mode} {label}" for mode in MODES for _, label in METRICS] + ["budget"]
    out = io.StringIO()
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        block = [r for r in rows if r["dataset"] == dataset]
        out.write(f"## {dataset}\n\n")
        out.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in block:
            cells = [(cell_text(*r["cells"][(mode, m)][:2]) + " " + r["marks"][(mode, m)]).strip()
                     for mode in MODES for m, _ in METRICS]
            out.write("| " + " | ".join([r["label"]] + cells + [r["budget"]]) + " |\n")
        out.write("\nValues: mean over reproductions ± the half-width of its 95 % Student-t confidence "
                  "interval, in percent.\n")
        for line in warnings_of(block):
            out.write(f"{line}\n")
        out.write("\n")
    return out.getvalue()
