"""The LaTeX tables: honest captions, the ⚠ mark as a dagger, and a layout that compiles without an
overfull box in one column of a two-column article (per dataset) and in a one-column article."""
from __future__ import annotations

import shutil
import subprocess

import pytest

import Result_Evaluations
from aggregation.aggregate import summarise
from aggregation.groups import group_runs
from aggregation.latex import CAPTION_SKIP, MAX_METRIC_COLUMNS, combined_table, per_dataset_table
from aggregation.runs import load_runs
from test_aggregation import make_run

METRICS = {"e_recall@1": 0.6352, "e_recall@2": 0.7411, "f1": 0.3512, "map_at_r": 0.2466, "nmi": 0.6791,
           "rho_spectrum@2": 0.1234, "e_recall@4": 0.8102, "mrr": 0.7001}
WIDE = ["e_recall@1", "e_recall@2", "e_recall@4", "f1", "map_at_r", "mrr", "nmi", "rho_spectrum@2"]
METHODS = {  # group -> flags
    "Margin": {"loss": "margin", "batch_mining": "distance", "loss_margin_beta": 1.2},
    "Triplet": {"loss": "triplet", "batch_mining": "semihard"},
    "MS": {"loss": "multisimilarity"},
    "RMargin": {"loss": "margin", "batch_mining": "rho_distance", "loss_margin_beta": 1.2},
    "RContrastive": {"loss": "contrastive", "batch_mining": "rho_distance"},
}


def results(root, dataset, seeds, **per_group):
    """Each method on ``dataset`` with ``seeds`` seeds (``per_group``: other seeds or flags)."""
    for offset, (group, flags) in enumerate(METHODS.items()):
        extra = per_group.get(group, {})
        for seed in range(extra.get("seeds", seeds)):
            values = {m: v + offset / 100 + seed * 0.0037 for m, v in METRICS.items()}
            make_run(root, f"{dataset}_{group}", seed, [{"epoch": 1, "split": "test", **values}], dataset=dataset,
                     **flags, **(extra.get("flags", {}) if seed else {}))


@pytest.fixture
def tables(tmp_path):
    """The --latex output of five datasets: equal seeds, single runs, mixed seeds and a group whose
    runs differ in lr; two combined tables (three datasets each at most)."""
    root = tmp_path / "Training_Results"
    results(root, "cub200", 3, Triplet={"flags": {"lr": 0.5}}, MS={"seeds": 1})
    results(root, "cars196", 1)
    results(root, "online_products", 5)
    results(root, "glyphs", 2)
    for seed in (0, 1):   # a second Margin group on glyphs: two rows share the label "Margin (D, β=1.2)"
        make_run(root, "glyphs_Margin_longer_training_schedule", seed,
                 [{"epoch": 1, "split": "test", **METRICS}], dataset="glyphs", **METHODS["Margin"], n_epochs=300)
    results(root, "digits", 2)
    out = tmp_path / "tables.tex"
    assert Result_Evaluations.main(["--root", str(root), "--latex", str(out)]) == 0
    return out


@pytest.fixture
def wide_tables(tmp_path):
    """The --latex output of eight metrics on two datasets: each per-dataset table in two parts."""
    root = tmp_path / "Training_Results"
    results(root, "cub200", 3)
    results(root, "cars196", 2)
    out = tmp_path / "wide.tex"
    assert Result_Evaluations.main(["--root", str(root), "--latex", str(out), "--metrics", *WIDE]) == 0
    return out


def header_of(table: str) -> str:
    return next(line for line in table.splitlines() if line.startswith("Method & "))


def test_latex_shows_the_console_columns(tmp_path, capsys):
    """``--metrics`` reaches the LaTeX tables: per dataset, the same columns as the console table."""
    root = tmp_path / "Training_Results"
    results(root, "cub200", 2)
    out = tmp_path / "t.tex"
    assert Result_Evaluations.main(["--root", str(root), "--latex", str(out),
                                    "--metrics", "e_recall@1", "rho_spectrum@2", "map_at_r"]) == 0
    console = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| Group"))
    assert console == "| Group | Method | n | R@1 | ρ@2 | mAP@R |"
    cub = out.read_text().split(r"\label{tab:results_cub200}")[1].split(r"\end{table}")[0]
    assert header_of(cub) == r"Method & R@1 & $\rho$@2 & mAP@R \\"
    assert r"\textbf{0.1" not in cub                      # ρ is descriptive: no best, no bold
    combined = out.read_text().split(r"\label{tab:results_combined}")[1]
    assert r"Method & R@1 \\" in combined               # the paper's summary columns that were asked


def test_the_default_latex_columns_are_the_console_defaults(tables):
    cub = tables.read_text().split(r"\label{tab:results_cub200}")[1].split(r"\end{table}")[0]
    second = tables.read_text().split(r"\label{tab:results_cub200_2}")[1].split(r"\end{table}")[0]
    assert header_of(cub).startswith(r"Method & R@1 & R@2 & F1 & ")      # six columns: 3 + 3
    assert header_of(second).startswith(r"Method & mAP@R & NMI & $\rho$@2 & ")


def test_many_metrics_are_split_over_tables_that_fit(wide_tables):
    text = wide_tables.read_text()
    first = text.split(r"\label{tab:results_cub200}")[1].split(r"\end{table}")[0]
    second = text.split(r"\label{tab:results_cub200_2}")[1].split(r"\end{table}")[0]
    assert header_of(first) == r"Method & R@1 & R@2 & R@4 & F1 \\"
    assert header_of(second) == r"Method & mAP@R & mrr & NMI & $\rho$@2 \\"
    assert MAX_METRIC_COLUMNS == 5                      # eight metrics: 4 + 4, each part fits
    assert "CUB200-2011 (1/2)" in text and "CUB200-2011 (2/2)" in text


def rows_of(root):
    rows, _ = summarise(group_runs(load_runs(str(root))), list(METRICS), "last")
    return rows


def test_captions_say_how_many_seeds(tables):
    text = tables.read_text()
    cub, cars, sop = (text.split(r"\label{tab:results_" + d + "}")[0].rsplit(r"\caption{", 1)[1]
                      for d in ("cub200", "cars196", "online_products"))
    assert "Mean over 1--3 seeds (column $n$), $\\pm$ std below it; single runs have no std" in cub
    assert "Single run per method, no std" in cars
    assert "Mean over 5 seeds, $\\pm$ std below it" in sop
    cars_table = text.split(r"\label{tab:results_cars196}")[1].split(r"\end{table}")[0]
    assert r"\pm" not in cars_table   # no ± for single runs
    assert r"\label{tab:results_combined}" in text and r"\label{tab:results_combined_2}" in text
    assert text.count(r"\begin{table*}") == 2 and text.count(r"\begin{table}") == 10   # 5 datasets x 2 parts


def test_differing_configs_keep_a_dagger(tables):
    text = tables.read_text()
    assert r"Triplet (S)$^{\dagger}$ &" in text
    assert r"$^{\dagger}$Runs differ in more than the seed: Triplet (S) (lr)." in text
    assert r"$^{\dagger}$Runs differ in more than the seed: Triplet (S) on CUB200-2011 (lr)." in text


def test_a_shared_label_gets_a_letter_explained_under_the_table(tables):
    glyphs = tables.read_text().split(r"\label{tab:results_glyphs}")[1].split(r"\end{table}")[0]
    assert r"Margin (D, $\beta$=1.2)$^{a}$ &" in glyphs and r"Margin (D, $\beta$=1.2)$^{b}$ &" in glyphs
    assert r"$^{a}$glyphs\_Margin; $^{b}$glyphs\_Margin\_longer\_training\_schedule." in glyphs


def test_caption_stands_apart_from_the_top_rule(tables):
    lines = tables.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(r"\caption{"):
            assert lines[i + 1] == CAPTION_SKIP and r"\toprule" in lines[i + 2:i + 6]


WRAPPERS = {
    "article": r"\documentclass{article}",
    "twocolumn": r"\documentclass[twocolumn]{article}",
}


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("layout", sorted(WRAPPERS))
@pytest.mark.parametrize("which", ["tables", "wide_tables"])
def test_tables_compile_without_overfull_boxes(request, which, layout):
    """pdflatex compiles the generated tables (the default columns, and eight metrics) in a standard
    article and in a two-column article (where a per-dataset table takes one column) with no
    'Overfull \\hbox'."""
    tables = request.getfixturevalue(which)
    doc = tables.parent / f"{layout}.tex"
    doc.write_text(WRAPPERS[layout] + "\n\\usepackage{booktabs}\n\\begin{document}\n"
                   f"\\input{{{tables.name}}}\n\\end{{document}}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                          cwd=tables.parent, capture_output=True, text=True, timeout=120)
    log = (tables.parent / f"{layout}.log").read_text(errors="replace")
    assert done.returncode == 0, log[-2000:]
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]
