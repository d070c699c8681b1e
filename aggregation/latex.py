r"""The paper's LaTeX layouts (booktabs): a table per dataset and a combined table.

* Per dataset (``table``, fits one column of a two-column paper): Method, then the requested
  ``--metrics`` (the console table's columns; by default R@1 | R@2 | F1 | mAP@R | NMI | ρ@2),
  baselines first, then the ρ-regularised methods after a rule; a column ``n`` when the methods have
  different numbers of seeds. More than :data:`MAX_METRIC_COLUMNS` metrics are split over several
  tables ("(1/2)", "(2/2)"), so that each still fits one column.
* Combined (``table*``, the full text width): Method | R@1, NMI for each dataset (the paper's summary
  columns, those of them that were requested; the first requested metric when neither was), under one
  multicolumn header per dataset.

Cells are the mean, in percent, with a small ``±std`` under it (a row of ``mean ± std`` cells is too
wide for one column); a single run has no std.
The best mean of each column is bold (largest, or smallest for lower-is-better metrics); descriptive
columns (ρ spectrum, class distances) have no best. The caption says over how many seeds; it stands above the
table with a small skip before ``\toprule`` (article's ``\belowcaptionskip`` is 0 pt, and the rule
would touch the caption's descenders). A row whose runs differ in more than the seed is marked
``$^{\dagger}$`` and named in a note under the table (⚠ is not in LaTeX's standard fonts).
Needs ``\usepackage{booktabs}``.
"""
from __future__ import annotations

import math
import re

from aggregation.aggregate import Row
from aggregation.columns import DESCRIPTIVE_PREFIXES, display, scale
from aggregation.selection import OPTIMISTIC
from metrics import parse as parse_metric

PER_DATASET_METRICS = ("e_recall@1", "e_recall@2", "f1", "map_at_r", "nmi")
COMBINED_METRICS = ("e_recall@1", "nmi")
# Metric columns per per-dataset table: five (and n) fit one column of a two-column article in
# \footnotesize; six overflow it by 17 pt even in \scriptsize (pdflatex, tests/workflow).
MAX_METRIC_COLUMNS = 5
DATASET_NAMES = {"cub200": "CUB200-2011", "cars196": "CARS196", "online_products": "SOP",
                 "glyphs": "Glyphs", "digits": "Digits", "in_shop": "In-Shop"}
DATASET_ORDER = ("cub200", "cars196", "online_products")
MARK_LETTERS = "abcdefghijklmnopqrstuvwxyz"
COMBINED_MAX_DATASETS = 3  # datasets per combined table (6 columns fit a one-column article)
# Space between a caption above the table and \toprule (booktabs' own \abovetopsep is 0 pt).
CAPTION_SKIP = r"\vspace{4pt}"
TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
               "β": r"$\beta$", "ρ": r"$\rho$", "~": r"\textasciitilde{}", "^": r"\^{}",
               "\\": r"\textbackslash{}", "…": r"\dots{}", "±": r"$\pm$", "⚠": r"$^\dagger$"}


def tex(text: str) -> str:
    """Escape LaTeX specials and write Greek letters in math mode."""
    return "".join(TEX_SPECIAL.get(ch, ch) for ch in text)


def dataset_name(dataset: str) -> str:
    return DATASET_NAMES.get(dataset, dataset)


def ordered_datasets(rows: list[Row]) -> list[str]:
    present = {r.dataset for r in rows}
    return [d for d in DATASET_ORDER if d in present] + sorted(present - set(DATASET_ORDER))


def _best(rows: list[Row], metric: str) -> float:
    """The best mean of a column (NaN when it has none, or for a descriptive metric)."""
    means = [r.stats[metric].mean for r in rows if metric in r.stats and not math.isnan(r.stats[metric].mean)]
    if not means or metric.startswith(DESCRIPTIVE_PREFIXES):
        return math.nan
    try:
        higher = parse_metric(metric).higher_is_better
    except (KeyError, ValueError):
        higher = True
    return max(means) if higher else min(means)


def mean_cell(metric: str, mean: float, bold: bool = False) -> str:
    """The mean in the metric's display scale (percent, two decimals; ρ: four), bold if best."""
    if math.isnan(mean):
        return "--"
    factor = scale(metric)
    text = f"{mean * factor:.{2 if factor == 100.0 else 4}f}"
    return rf"\textbf{{{text}}}" if bold else text


def std_cell(metric: str, std: float) -> str:
    r"""``{\scriptsize$\pm$0.35}``; empty for a single run (no std)."""
    if math.isnan(std):
        return ""
    factor = scale(metric)
    return rf"{{\scriptsize$\pm${std * factor:.{2 if factor == 100.0 else 4}f}}}"


def _stat(row: Row | None, metric: str):
    return row.stats[metric] if row is not None and metric in row.stats else None


class RowLabels:
    r"""The method column of one table. A label that several groups share ("Margin (D, β=1.2)
    [use_tv_split=true]") gets a superscript letter whose meaning goes in the note under the table
    (the bracketed flags would make the column too wide); a row whose runs differ in more than the
    seed gets ``$^{\dagger}$``."""

    def __init__(self) -> None:
        self.marks: dict[str, str] = {}   # what sets a group apart -> its letter

    def __call__(self, row: Row, flagged: bool) -> str:
        base, marks = row.method.label, []
        if row.label != base and row.label.startswith(base):
            what = row.label[len(base):].strip()
            what = what[1:-1] if what.startswith("[") and what.endswith("]") else what
            marks.append(self.marks.setdefault(what, MARK_LETTERS[len(self.marks) % len(MARK_LETTERS)]))
        else:
            base = row.label
        marks += [r"\dagger"] if flagged else []
        return tex(base) + (f"$^{{{','.join(marks)}}}$" if marks else "")

    def notes(self) -> list[str]:
        return [f"$^{{{mark}}}${tex(what)}" for what, mark in self.marks.items()]


def _body(rows: list[Row], cells_of, flagged_of, labels: RowLabels, extra_of=lambda row: []) -> list[str]:
    """Per row: the label and the means (best bold), then, where the row has a std, a line of
    small ``±std`` under the means (a row of ``mean ± std`` cells is too wide for one column)."""
    lines, previous = [], None
    for row in rows:
        if previous is not None and row.method.regularised and not previous.method.regularised:
            lines.append(r"\midrule")
        cells = cells_of(row)   # (metric, Stat | None, best) per column
        means = [mean_cell(m, s.mean, s.mean == best) if s else "--" for m, s, best in cells]
        stds = [std_cell(m, s.std) if s else "" for m, s, _ in cells]
        extra = extra_of(row)
        lines.append(labels(row, flagged_of(row)) + " & " + " & ".join(means + extra)
                     + (r" \\[-2pt]" if any(stds) else r" \\"))
        if any(stds):
            lines.append(" & " + " & ".join(stds + [""] * len(extra)) + r" \\")
        previous = row
    return lines


def seeds_phrase(counts: list[int], per_row_column: bool) -> str:
    """What the cells are, honestly: a single run, or mean ± std over how many seeds."""
    if not counts or max(counts) == 1:
        return "Single run per method, no std"
    if min(counts) == max(counts):
        return f"Mean over {counts[0]} seeds, $\\pm$ std below it"
    where = "column $n$" if per_row_column else "see the per-dataset tables"
    single = "; single runs have no std" if min(counts) == 1 else ""
    return f"Mean over {min(counts)}--{max(counts)} seeds ({where}), $\\pm$ std below it{single}"


def _caption(selection: str, title: str, counts: list[int], per_row_column: bool = False) -> str:
    note = (f" Selection \\texttt{{{tex(selection)}}} (selected on the test set) is optimistic."
            if selection in OPTIMISTIC else "")
    return (f"{title}. {seeds_phrase(counts, per_row_column)}; values in percent; selection "
            f"\\texttt{{{tex(selection)}}}.{note}")


def label_key(text: str) -> str:
    """A ``\\label`` key: letters, digits, ``_``, ``-`` and ``:`` only."""
    return re.sub(r"[^A-Za-z0-9_:-]", "-", text)


def _head(env: str, caption: str, label: str, columns: str, size: str, colsep: str) -> list[str]:
    return [rf"\begin{{{env}}}[t]", r"\centering", rf"\caption{{{caption}}}\label{{{label}}}",
            CAPTION_SKIP, size, rf"\setlength{{\tabcolsep}}{{{colsep}}}",
            rf"\begin{{tabular}}{{@{{}}{columns}@{{}}}}", r"\toprule"]


def _foot(env: str, notes: list[str]) -> list[str]:
    """The end of the table, with ``notes`` (sentences) in small type under it."""
    lines = [r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines.append(r"\par\smallskip\parbox{\linewidth}{\footnotesize\raggedright " + " ".join(notes) + "}")
    return lines + [rf"\end{{{env}}}"]


def _notes(labels: RowLabels, flagged: list[str]) -> list[str]:
    notes = ["; ".join(labels.notes()) + "."] if labels.marks else []
    return notes + ([r"$^{\dagger}$Runs differ in more than the seed: " + "; ".join(flagged) + "."] if flagged else [])


def per_dataset_table(rows: list[Row], dataset: str, selection: str,
                      metrics: tuple[str, ...] = PER_DATASET_METRICS, part: int = 1, parts: int = 1) -> str:
    """The per-dataset layout for ``dataset``: a ``table`` for one column of a two-column paper
    (``part`` of ``parts`` when the metrics are split over several tables)."""
    mine = [r for r in rows if r.dataset == dataset]
    best = {m: _best(mine, m) for m in metrics}
    counts = [r.n for r in mine]
    with_n = len(set(counts)) > 1
    title = tex(dataset_name(dataset)) + (f" ({part}/{parts})" if parts > 1 else "")
    caption = _caption(selection, title, counts, with_n)
    label = f"tab:results_{label_key(dataset)}" + (f"_{part}" if part > 1 else "")
    lines = _head("table", caption, label, "l" + "c" * len(metrics)
                  + ("r" if with_n else ""), r"\footnotesize",
                  "2.5pt" if with_n else "3pt")
    lines.append("Method & " + " & ".join(tex(display(m)) for m in metrics) + (r" & $n$" if with_n else "")
                 + r" \\")
    lines.append(r"\midrule")
    labels = RowLabels()
    lines += _body(mine, lambda row: [(m, _stat(row, m), best[m]) for m in metrics],
                   lambda row: bool(row.config_diffs), labels, lambda row: [str(row.n)] if with_n else [])
    flagged = [f"{labels(r, False)} ({', '.join(tex(k) for k in r.config_diffs)})" for r in mine if r.config_diffs]
    return "\n".join(lines + _foot("table", _notes(labels, flagged)))


def combined_table(rows: list[Row], selection: str, metrics: tuple[str, ...] = COMBINED_METRICS) -> str:
    """The combined layout (``table*``): one row per method label, ``metrics`` for each dataset;
    more than :data:`COMBINED_MAX_DATASETS` datasets are split over several tables, so that each
    fits the text width of a one-column article too."""
    datasets = ordered_datasets(rows)
    chunks = [datasets[i:i + COMBINED_MAX_DATASETS] for i in range(0, len(datasets), COMBINED_MAX_DATASETS)]
    return "\n\n".join(_combined(rows, selection, metrics, chunk, i + 1, len(chunks))
                       for i, chunk in enumerate(chunks))


def _combined(rows: list[Row], selection: str, metrics: tuple[str, ...], datasets: list[str],
              part: int, parts: int) -> str:
    rows = [r for r in rows if r.dataset in datasets]
    by_key = {(r.dataset, r.label): r for r in rows}
    labels: list[Row] = []
    for row in sorted(rows, key=lambda r: r.method.sort_key):
        if all(row.label != seen.label for seen in labels):
            labels.append(row)
    best = {(d, m): _best([r for r in rows if r.dataset == d], m) for d in datasets for m in metrics}
    width = len(metrics)
    header = " & ".join(rf"\multicolumn{{{width}}}{{c}}{{{tex(dataset_name(d))}}}" for d in datasets)
    rules = "".join(rf"\cmidrule(lr){{{2 + i * width}-{1 + (i + 1) * width}}}" for i in range(len(datasets)))
    flagged = {row.label: [dataset_name(r.dataset) for r in rows if r.label == row.label and r.config_diffs]
               for row in labels}
    title = "All datasets" if parts == 1 else f"All datasets ({part}/{parts})"
    label = "tab:results_combined" + (f"_{part}" if part > 1 else "")
    lines = _head("table*", _caption(selection, title, [r.n for r in rows]), label,
                  "l" + ("c" * width) * len(datasets), r"\footnotesize", "4pt")
    lines += [" & " + header + r" \\", rules,
              "Method & " + " & ".join(tex(display(m)) for _ in datasets for m in metrics) + r" \\",
              r"\midrule"]
    names = RowLabels()
    lines += _body(labels, lambda row: [(m, _stat(by_key.get((d, row.label)), m), best[(d, m)])
                                        for d in datasets for m in metrics],
                   lambda row: bool(flagged[row.label]), names)
    notes = [f"{names(row, False)} on {', '.join(tex(d) for d in flagged[row.label])} "
             f"({', '.join(tex(k) for k in sorted({k for r in rows if r.label == row.label for k in r.config_diffs}))})"
             for row in labels if flagged[row.label]]
    return "\n".join(lines + _foot("table*", _notes(names, notes)))


def metric_parts(metrics: list[str] | tuple[str, ...]) -> list[tuple[str, ...]]:
    """``metrics`` in consecutive parts of at most :data:`MAX_METRIC_COLUMNS`, as even as possible."""
    n_parts = max(1, math.ceil(len(metrics) / MAX_METRIC_COLUMNS))
    size = math.ceil(len(metrics) / n_parts)
    return [tuple(metrics[i:i + size]) for i in range(0, len(metrics), size)]


def combined_metrics(metrics: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The combined table's columns: the paper's R@1 and NMI among ``metrics``, else the first one."""
    chosen = tuple(m for m in COMBINED_METRICS if m in metrics)
    return chosen or tuple(metrics[:1])


def document(rows: list[Row], selection: str, metrics: list[str] | tuple[str, ...] = PER_DATASET_METRICS) -> str:
    """Every per-dataset table with the columns ``metrics`` (those of the console table), then the
    combined table (needs ``\\usepackage{booktabs}``)."""
    parts = ["% Generated by Result_Evaluations.py; needs \\usepackage{booktabs}."]
    chunks = metric_parts(metrics)
    parts += [per_dataset_table(rows, d, selection, chunk, i + 1, len(chunks))
              for d in ordered_datasets(rows) for i, chunk in enumerate(chunks)]
    parts.append(combined_table(rows, selection, combined_metrics(metrics)))
    return "\n\n".join(parts) + "\n"
