"""The summary table: markdown for the terminal, CSV for spreadsheets."""
from __future__ import annotations

import csv
import math
from typing import TextIO

from aggregation.aggregate import Excluded, Row
from aggregation.columns import display, fmt, scale
from aggregation.groups import config_differences
from aggregation.identity import Duplicate
from aggregation.runs import Unsearched

OPTIMISTIC_NOTES = {
    "test_max": "selection test_max: the epoch with the best test value of the selection metric (the "
                "paper's protocol); this selects on the test set and is OPTIMISTIC.",
    "test_max_per_metric": "selection test_max_per_metric: each test metric is its own maximum over "
                           "epochs; this selects on the test set and is OPTIMISTIC.",
}


def markdown(rows: list[Row], metrics: list[str], selection: str) -> str:
    """One markdown table per dataset: group, method, n, then mean ± std (95% CI) per metric."""
    out = []
    if selection in OPTIMISTIC_NOTES:
        out.append(f"> {OPTIMISTIC_NOTES[selection]}\n")
    for dataset in sorted({r.dataset for r in rows}):
        out.append(f"## {dataset} (selection: {selection}{', optimistic' if selection in OPTIMISTIC_NOTES else ''})\n")
        header = ["Group", "Method", "n"] + [display(m) for m in metrics]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] * 3 + ["---:"] * len(metrics)) + "|")
        for row in (r for r in rows if r.dataset == dataset):
            cells = [row.group + (" ⚠" if row.config_diffs else ""), row.label, str(row.n)]
            for metric in metrics:
                stat = row.stats[metric]
                cell = fmt(metric, stat.mean, stat.std)
                if not math.isnan(stat.ci95):
                    cell += f" (±{stat.ci95 * scale(metric):.{2 if scale(metric) == 100 else 4}f})"
                cells.append(cell)
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out.append("Values: mean ± std over seeds (95% CI half-width in parentheses); percent except ρ.")
    return "\n".join(out)


def differences_text(diffs: dict[str, list[str]]) -> str:
    """``"lr: 0.001 vs 0.5; n_epochs: 2 vs 4"`` ('' when there are none)."""
    return "; ".join(f"{k}: {' vs '.join(v)}" for k, v in diffs.items())


def repeats_text(row: Row) -> str:
    """The seeds of ``row`` that more than one run had: ``"0 (2 runs), 3 (2 runs)"``."""
    return ", ".join(f"{r.kept.seed} ({1 + len(r.ignored)} runs)" for r in row.repeats)


def problems(rows: list[Row], excluded: list[Excluded], duplicates: list[Duplicate] | None = None,
             nested: dict[str, list[str]] | None = None, unsearched: list[Unsearched] | None = None) -> str:
    """The excluded runs, the groups whose configs differ, the seeds run more than once in a group
    (each counted once), the duplicate run folders (each run counted once), the run folders
    holding other run folders and the run folders not read, as markdown lists ('' if none)."""
    out = []
    if unsearched:
        out.append(f"### Run folders not read ({len(unsearched)})")
        out += [f"- `{u.path}`: {u.reason}" for u in unsearched]
    if excluded:
        out.append(f"### Excluded runs ({len(excluded)})")
        out += [f"- `{e.run.path}`: {e.reason}" for e in excluded]
    flagged = [r for r in rows if r.config_diffs]
    if flagged:
        out.append(f"### ⚠ Groups whose runs differ in more than the seed ({len(flagged)})")
        for row in flagged:
            out.append(f"- {row.dataset}/{row.group}: {differences_text(row.config_diffs)}")
    repeated = [(row, rep) for row in rows for rep in row.repeats]
    if repeated:
        out.append(f"### ⚠ Seeds run more than once in a group ({len(repeated)}): each seed counted once")
        for row, rep in repeated:
            ignored = ", ".join(f"`{r.path}`" for r in rep.ignored)
            diffs = differences_text(config_differences([rep.kept, *rep.ignored]))
            out.append(f"- {row.dataset}/{row.group} seed {rep.kept.seed}: used `{rep.kept.path}`; ignored "
                       f"{ignored}" + (f" (they differ: {diffs})" if diffs else " (same flags)"))
    if duplicates:
        out.append(f"### ⚠ Duplicate run folders ({len(duplicates)}): same dataset, group, seed and "
                   f"flags; each run counted once")
        for dup in duplicates:
            run = dup.kept
            ignored = ", ".join(f"`{r.path}`" for r in dup.ignored)
            out.append(f"- {run.dataset}/{run.group} seed {run.seed}: used `{run.path}`; ignored {ignored}")
    if nested:
        out.append(f"### ⚠ Run folders that hold other run folders ({len(nested)}): saved with "
                   f'--savename ""? all are counted')
        out += [f"- `{outer}` holds {len(inner)} run folder{'s' * (len(inner) != 1)}"
                for outer, inner in sorted(nested.items())]
    return "\n".join(out)


def write_csv(rows: list[Row], metrics: list[str], selection: str, fh: TextIO) -> None:
    """One line per group: raw (unscaled) n, mean, std and ci95 per metric, plus the seeds, whether
    (``config_differs``: yes/no) and how (``config_differences``) the runs' configs differ, and the
    seeds that more than one run had (``repeated_seeds``, each counted once)."""
    writer = csv.writer(fh)
    header = ["dataset", "group", "method", "selection", "n", "seeds", "config_differs", "config_differences",
              "repeated_seeds"]
    for metric in metrics:
        header += [f"{metric}_mean", f"{metric}_std", f"{metric}_ci95", f"{metric}_n"]
    writer.writerow(header)
    for row in rows:
        line = [row.dataset, row.group, row.label, selection, row.n,
                " ".join(str(s) for s in row.seeds), "yes" if row.config_diffs else "no",
                differences_text(row.config_diffs), repeats_text(row)]
        for metric in metrics:
            stat = row.stats[metric]
            line += [_num(stat.mean), _num(stat.std), _num(stat.ci95), stat.n]
        writer.writerow(line)


def _num(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))
