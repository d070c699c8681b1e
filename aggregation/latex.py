"""The paper's LaTeX layouts (booktabs): a table per dataset and a combined table.

* Per dataset: Method | R@1 | R@2 | F1 | mAP@R | NMI, baselines first, then the ρ-regularised
  methods after a rule.
* Combined: Method | R@1, NMI for each dataset, under one multicolumn header per dataset.

Cells are ``mean $\\pm$ std`` in percent; the best mean of each column is bold.
"""
from __future__ import annotations

import math

from aggregation.aggregate import Row
from aggregation.columns import display, fmt

PER_DATASET_METRICS = ("e_recall@1", "e_recall@2", "f1", "map_at_r", "nmi")
COMBINED_METRICS = ("e_recall@1", "nmi")
DATASET_NAMES = {"cub200": "CUB200-2011", "cars196": "CARS196", "online_products": "SOP",
                 "glyphs": "Glyphs", "digits": "Digits", "in_shop": "In-Shop"}
DATASET_ORDER = ("cub200", "cars196", "online_products")
TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
               "β": r"$\beta$", "ρ": r"$\rho$", "~": r"\textasciitilde{}", "^": r"\^{}"}


def tex(text: str) -> str:
    """Escape LaTeX specials and write Greek letters in math mode."""
    return "".join(TEX_SPECIAL.get(ch, ch) for ch in text)


def dataset_name(dataset: str) -> str:
    return DATASET_NAMES.get(dataset, dataset)


def ordered_datasets(rows: list[Row]) -> list[str]:
    present = {r.dataset for r in rows}
    return [d for d in DATASET_ORDER if d in present] + sorted(present - set(DATASET_ORDER))


def _best(rows: list[Row], metric: str) -> float:
    means = [r.stats[metric].mean for r in rows if metric in r.stats and not math.isnan(r.stats[metric].mean)]
    return max(means) if means else math.nan


def _cell(row: Row | None, metric: str, best: float) -> str:
    if row is None or metric not in row.stats:
        return "--"
    stat = row.stats[metric]
    text = fmt(metric, stat.mean, stat.std, latex=True)
    return rf"\textbf{{{text}}}" if stat.mean == best else text


def _body(rows: list[Row], metrics: tuple[str, ...], cells_of) -> list[str]:
    lines, previous = [], None
    for row in rows:
        if previous is not None and row.method.regularised and not previous.method.regularised:
            lines.append(r"\midrule")
        lines.append(tex(row.label) + " & " + " & ".join(cells_of(row)) + r" \\")
        previous = row
    return lines


def _caption(selection: str, title: str) -> str:
    note = " Selection \\texttt{test\\_max} (max over epochs on the test set) is optimistic." \
        if selection == "test_max" else ""
    return (f"{title}. Mean $\\pm$ std over seeds, in percent; selection: "
            f"\\texttt{{{tex(selection)}}}.{note}")


def per_dataset_table(rows: list[Row], dataset: str, selection: str,
                      metrics: tuple[str, ...] = PER_DATASET_METRICS) -> str:
    """The per-dataset layout for ``dataset``."""
    mine = [r for r in rows if r.dataset == dataset]
    best = {m: _best(mine, m) for m in metrics}
    seeds = sorted({r.n for r in mine})
    lines = [r"\begin{table}[t]", r"\centering",
             rf"\caption{{{_caption(selection, tex(dataset_name(dataset)))} "
             rf"Seeds per method: {'/'.join(map(str, seeds))}.}}",
             rf"\label{{tab:results_{tex(dataset)}}}",
             r"\begin{tabular}{l" + "c" * len(metrics) + "}", r"\toprule",
             "Method & " + " & ".join(tex(display(m)) for m in metrics) + r" \\", r"\midrule"]
    lines += _body(mine, metrics, lambda row: [_cell(row, m, best[m]) for m in metrics])
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


def combined_table(rows: list[Row], selection: str, metrics: tuple[str, ...] = COMBINED_METRICS) -> str:
    """The combined layout: one row per method label, ``metrics`` for each dataset."""
    datasets = ordered_datasets(rows)
    by_key = {(r.dataset, r.label): r for r in rows}
    labels: list[Row] = []
    for row in sorted(rows, key=lambda r: r.method.sort_key):
        if all(row.label != seen.label for seen in labels):
            labels.append(row)
    best = {(d, m): _best([r for r in rows if r.dataset == d], m) for d in datasets for m in metrics}
    width = len(metrics)
    header = " & ".join(rf"\multicolumn{{{width}}}{{c}}{{{tex(dataset_name(d))}}}" for d in datasets)
    rules = "".join(rf"\cmidrule(lr){{{2 + i * width}-{1 + (i + 1) * width}}}" for i in range(len(datasets)))
    lines = [r"\begin{table*}[t]", r"\centering",
             rf"\caption{{{_caption(selection, 'All datasets')}}}", r"\label{tab:results_combined}",
             r"\begin{tabular}{l" + ("c" * width) * len(datasets) + "}", r"\toprule",
             " & " + header + r" \\", rules,
             "Method & " + " & ".join(tex(display(m)) for _ in datasets for m in metrics) + r" \\",
             r"\midrule"]
    lines += _body(labels, metrics, lambda row: [_cell(by_key.get((d, row.label)), m, best[(d, m)])
                                                  for d in datasets for m in metrics])
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table*}"]
    return "\n".join(lines)


def document(rows: list[Row], selection: str) -> str:
    """Every per-dataset table, then the combined table (needs ``\\usepackage{booktabs}``)."""
    parts = ["% Generated by Result_Evaluations.py; needs \\usepackage{booktabs}."]
    parts += [per_dataset_table(rows, d, selection) for d in ordered_datasets(rows)]
    parts.append(combined_table(rows, selection))
    return "\n\n".join(parts) + "\n"
