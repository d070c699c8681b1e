"""Aggregate dmlbench runs into tables and figures.

    python Result_Evaluations.py --root Training_Results [--selection last|val|test_max|test_max_per_metric]
        [--metrics e_recall@1 ...] [--csv FILE] [--latex FILE] [--plots DIR]
        [--wandb_project ENTITY/PROJECT]

Runs are grouped by dataset and ``--group``; runs without a group only group with runs whose flags
match apart from the seed. Each group reports n and mean ± std (95% CI) over its seeds. Failed,
running and unreadable runs are listed and excluded; groups whose runs differ in more than the seed
(or trained another number of epochs) are flagged; copies of one run (same dataset, group, seed and
flags) and a seed run twice in one group are counted once and listed. Unknown ``--metrics`` are
refused (exit 2). The logic lives in the ``aggregation`` package.
"""
from __future__ import annotations

import argparse
import os
import sys

from aggregation.aggregate import summarise
from aggregation.columns import DEFAULT_METRICS, metric_problem, recorded_metrics
from aggregation.groups import group_runs
from aggregation.identity import deduplicate
from aggregation.runs import nesting
from aggregation.selection import SELECTIONS
from aggregation.tables import OPTIMISTIC_NOTES, markdown, problems, write_csv
from utilities.atomic import can_write_in


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="Result_Evaluations.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--root", default="Training_Results", help="Folder searched for run folders.")
    parser.add_argument("--wandb_project", default=None, metavar="ENTITY/PROJECT",
                        help="Read the runs from the W&B API instead of --root (needs network access).")
    parser.add_argument("--selection", default="last", choices=SELECTIONS,
                        help="Epoch reported per run: last, best validation, test_max (the epoch of the best "
                             "test value, as main.py --selection test_max picks it: the paper's protocol, "
                             "optimistic), or test_max_per_metric (each test metric its own maximum over "
                             "epochs, optimistic).")
    parser.add_argument("--select_metric", default=None,
                        help="Metric that val/test_max/test_max_per_metric select on (default: each run's first --storage_metrics).")
    parser.add_argument("--metrics", nargs="+", default=list(DEFAULT_METRICS),
                        help="Metrics to report: metric names (python main.py --list) or columns the runs recorded.")
    parser.add_argument("--datasets", nargs="+", default=None, help="Only these datasets.")
    parser.add_argument("--csv", default=None, metavar="FILE", help="Also write the table as CSV.")
    parser.add_argument("--latex", default=None, metavar="FILE", help="Also write the paper's LaTeX tables.")
    parser.add_argument("--reality_check", nargs="+", default=None, metavar="STUDY",
                        help="Instead: the Reality Check table of Reality_Check_Studies.py study folders "
                             "(--csv/--latex write it too).")
    parser.add_argument("--plots", default=None, metavar="DIR", help="Also write the figures into DIR.")
    return parser


def main(argv: list[str] | None = None) -> int:
    opt = build_parser().parse_args(argv)
    if opt.reality_check:
        return reality_check(opt)
    unwritable = output_problem(opt)
    if unwritable:
        print(f"Result_Evaluations.py: error: {unwritable}", file=sys.stderr)
        return 2
    unsearched = []
    try:
        if opt.wandb_project:
            from aggregation.wandb_source import load_wandb_runs
            runs = load_wandb_runs(opt.wandb_project)
        else:
            from aggregation.runs import find_runs
            runs, unsearched = find_runs(opt.root)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"Result_Evaluations.py: error: {err}", file=sys.stderr)
        return 2
    other_data = [r for r in runs if opt.datasets and r.dataset not in opt.datasets]
    if other_data:
        runs = [r for r in runs if r.dataset in opt.datasets]
    problem = metric_problem(opt.metrics, recorded_metrics(runs))
    if problem:
        print(f"Result_Evaluations.py: error: {problem}", file=sys.stderr)
        return 2
    found = len(runs)
    nested = nesting([r.path for r in runs])
    runs, duplicates = deduplicate(runs)
    rows, excluded = summarise(group_runs(runs), opt.metrics, opt.selection, opt.select_metric)
    n_ignored = sum(len(d.ignored) for d in duplicates)
    n_repeats = sum(len(rep.ignored) for row in rows for rep in row.repeats)
    print(f"{found} runs found, {sum(r.n for r in rows)} used in {len(rows)} groups, {len(excluded)} excluded"
          + (f", {n_ignored} duplicate folder{'s' * (n_ignored != 1)} ignored" if n_ignored else "")
          + (f", {n_repeats} repeated seed{'s' * (n_repeats != 1)} ignored" if n_repeats else "")
          + (f", {len(other_data)} of other datasets left out (--datasets)" if other_data else "")
          + (f", {len(unsearched)} not read (listed below)" if unsearched else "") + ".\n")
    if rows:
        print(markdown(rows, opt.metrics, opt.selection))
        empty = [m for m in opt.metrics if not any(r.stats[m].n for r in rows)]
        if empty:
            print(f"\nnote: no counted run recorded {', '.join(empty)} (shown as –)")
    report = problems(rows, excluded, duplicates, nested, unsearched)
    if report:
        print("\n" + report)
    try:
        write_outputs(opt, rows)
    except OSError as err:
        print(f"Result_Evaluations.py: error: cannot write {err.filename}: {err.strerror}", file=sys.stderr)
        return 1
    if opt.selection in OPTIMISTIC_NOTES:
        print("\nnote: " + OPTIMISTIC_NOTES[opt.selection])
    return 0 if rows else 1


def output_problem(opt: argparse.Namespace) -> str | None:
    """Why an output of ``--csv``, ``--latex`` or ``--plots`` cannot be written (a folder that is
    missing or not writable, e.g. on a read-only file system), or None. Checked before reading."""
    for flag, path, folder in (("--csv", opt.csv, False), ("--latex", opt.latex, False),
                               ("--plots", opt.plots, True)):
        if not path:
            continue
        target = os.path.abspath(path)
        if not can_write_in(target if folder else os.path.dirname(target)):
            return f"{flag} {path}: cannot write there (outputs go where {flag} says; runs are only read)"
    return None


def write_outputs(opt: argparse.Namespace, rows: list) -> None:
    """The files asked for: ``--csv``, ``--latex``, ``--plots``."""
    if opt.csv:
        with open(opt.csv, "w", newline="") as fh:
            write_csv(rows, opt.metrics, opt.selection, fh)
        print(f"\nwrote {opt.csv}")
    if opt.latex:
        from aggregation.latex import document
        with open(opt.latex, "w") as fh:
            fh.write(document(rows, opt.selection, opt.metrics))
        print(f"wrote {opt.latex}")
    if opt.plots:
        from aggregation.plots import all_plots
        written, skipped = all_plots(rows, opt.metrics, opt.plots)
        for path in written:
            print(f"wrote {path}")
        for line in skipped:
            print(line)


def reality_check(opt: argparse.Namespace) -> int:
    """``--reality_check STUDY...``: methods x {concatenated, separated} x {P@1, RP, MAP@R}."""
    from aggregation import reality_check as rc
    try:
        rows = rc.load_studies(opt.reality_check)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"Result_Evaluations.py: error: {err}", file=sys.stderr)
        return 2
    print(rc.markdown(rows))
    if opt.csv:
        with open(opt.csv, "w", newline="") as fh:
            rc.write_csv(rows, fh)
        print(f"wrote {opt.csv}")
    if opt.latex:
        with open(opt.latex, "w") as fh:
            fh.write(rc.latex_table(rows))
        print(f"wrote {opt.latex}")
    return 0 if rows else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into `head`
        sys.exit(0)
