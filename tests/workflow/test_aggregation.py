"""The aggregation package and Result_Evaluations.py on synthetic run folders with known values."""
from __future__ import annotations

import csv
import io
import json
import math
import os

import pytest

import Result_Evaluations
from aggregation.aggregate import summarise
from aggregation.groups import group_runs
from aggregation.latex import combined_table, per_dataset_table, tex
from aggregation.naming import Method, method_of
from aggregation.runs import load_runs
from aggregation.selection import SelectionError, select
from utilities.stats import describe
from aggregation.wandb_source import load_wandb_runs

T_975_2 = 4.302652729911275  # Student-t 0.975 quantile, 2 degrees of freedom
BASE_FLAGS = {"dataset": "glyphs", "loss": "margin", "batch_mining": "distance", "loss_margin_beta": 1.2,
              "lr": 1e-3, "storage_metrics": ["e_recall@1"], "kernels": 0, "save_path": "/x"}


def make_run(root, group, seed, rows, status="completed", dataset="glyphs", **flags):
    """A run folder with the given metrics.csv rows ({"epoch", "split", metric: value})."""
    folder = root / dataset / f"{group}_s{seed}"
    folder.mkdir(parents=True)
    all_flags = {**BASE_FLAGS, "dataset": dataset, "group": group, "seed": seed, "savename": folder.name, **flags}
    (folder / "config.json").write_text(json.dumps({"flags": all_flags, "versions": {}, "git_commit": None}))
    columns = ["epoch", "split"] + sorted({k for r in rows for k in r} - {"epoch", "split"})
    with open(folder / "metrics.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    summary = {"status": status, "epochs_done": len(rows), "selection": "last", "best_epoch": None,
               "metrics": {}, "wall_time_s": 1.0}
    if status == "failed":
        summary["error"] = "ValueError: exploded"
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def curve(last, peak_epoch_value=None, extra=None):
    """Two test evaluations: epoch 1 (R@1 = peak value or last - 0.1, NMI 0.9) and epoch 2 (last)."""
    first = peak_epoch_value if peak_epoch_value is not None else last - 0.1
    return [{"epoch": 1, "split": "test", "e_recall@1": first, "nmi": 0.9, "rho_spectrum@2": 0.5, **(extra or {})},
            {"epoch": 2, "split": "test", "e_recall@1": last, "nmi": 0.5, "rho_spectrum@2": 0.3, **(extra or {})}]


@pytest.fixture
def root(tmp_path):
    """Margin (3 good seeds + failed + running + corrupt), R-Margin (2 seeds), and a diverging group."""
    base = tmp_path / "Training_Results"
    for seed, last in enumerate([0.5, 0.6, 0.7]):
        make_run(base, "GLY_Margin_b12_Distance", seed, curve(last, extra={"map_at_r": 0.2 + seed / 10}))
    make_run(base, "GLY_Margin_b12_Distance", 3, curve(0.99), status="failed")
    make_run(base, "GLY_Margin_b12_Distance", 4, curve(0.99)[:1], status="running")
    corrupt = make_run(base, "GLY_Margin_b12_Distance", 5, curve(0.99))
    (corrupt / "summary.json").write_text("{not json")
    for seed, last in enumerate([0.8, 0.9]):
        make_run(base, "GLYreg_Margin_b12_Distance", seed, curve(last, extra={"map_at_r": 0.4}),
                 batch_mining="rho_distance", miner_rho_distance_cp=0.35)
    make_run(base, "GLY_Triplet_Distance", 0, curve(0.4), loss="triplet")
    make_run(base, "GLY_Triplet_Distance", 1, curve(0.4), loss="triplet", lr=0.5)
    (base / "_logs").mkdir()
    (base / "_logs" / "summary.json").write_text("{}")  # never a run: underscore folders are skipped
    return base


def rows_for(root, selection="last", metrics=("e_recall@1", "nmi", "map_at_r", "rho_spectrum@2")):
    return summarise(group_runs(load_runs(str(root))), list(metrics), selection)


def by_group(rows):
    return {r.group: r for r in rows}


def test_mean_std_ci_and_exclusions(root):
    rows, excluded = rows_for(root)
    margin = by_group(rows)["GLY_Margin_b12_Distance"]
    stat = margin.stats["e_recall@1"]
    assert (stat.n, margin.seeds) == (3, [0, 1, 2])
    assert stat.mean == pytest.approx(0.6) and stat.std == pytest.approx(0.1)
    assert stat.ci95 == pytest.approx(T_975_2 * 0.1 / math.sqrt(3))
    assert margin.stats["map_at_r"].mean == pytest.approx(0.3)
    reasons = {os.path.basename(e.run.path): e.reason for e in excluded}
    assert set(reasons) == {"GLY_Margin_b12_Distance_s3", "GLY_Margin_b12_Distance_s4", "GLY_Margin_b12_Distance_s5"}
    assert reasons["GLY_Margin_b12_Distance_s3"].startswith("failed: ValueError")
    assert reasons["GLY_Margin_b12_Distance_s4"] == "running"
    assert reasons["GLY_Margin_b12_Distance_s5"].startswith("corrupt")


def test_config_differences_are_flagged(root):
    rows, _ = rows_for(root)
    groups = by_group(rows)
    assert groups["GLY_Triplet_Distance"].config_diffs == {"lr": ["0.001", "0.5"]}
    assert groups["GLY_Margin_b12_Distance"].config_diffs == {}  # seed, savename, ... are run-specific


def test_selection_modes(root):
    last = by_group(rows_for(root, "last")[0])["GLY_Margin_b12_Distance"]
    peak = by_group(rows_for(root, "test_max_per_metric")[0])["GLY_Margin_b12_Distance"]
    best = by_group(rows_for(root, "test_max")[0])["GLY_Margin_b12_Distance"]
    assert last.stats["nmi"].mean == pytest.approx(0.5)
    # test_max: one epoch, where the selection metric R@1 peaks on the test set (epoch 2) ...
    assert best.stats["e_recall@1"].mean == pytest.approx(0.6) and best.stats["nmi"].mean == pytest.approx(0.5)
    # test_max_per_metric: each metric's own max over epochs (R@1 at epoch 2, NMI at epoch 1) ...
    assert peak.stats["e_recall@1"].mean == pytest.approx(0.6)
    assert peak.stats["nmi"].mean == pytest.approx(0.9)
    # ... while the descriptive rho_spectrum is read where R@1 peaks (epoch 2), not maximised.
    assert peak.stats["rho_spectrum@2"].mean == pytest.approx(0.3)
    rows = [{"epoch": 1, "split": "val", "e_recall@1": 0.9}, {"epoch": 2, "split": "val", "e_recall@1": 0.1},
            {"epoch": 1, "split": "test", "e_recall@1": 0.3}, {"epoch": 2, "split": "test", "e_recall@1": 0.8}]
    assert select(rows, "val") == ({"e_recall@1": 0.3}, 1)
    assert select(rows, "last") == ({"e_recall@1": 0.8}, 2)
    with pytest.raises(SelectionError, match="use_tv_split"):
        select(rows[2:], "val")
    _, excluded = rows_for(root, "val")
    assert any("selection val" in e.reason for e in excluded)


def test_selection_minimises_lower_is_better_metrics():
    """val and test_max pick the epoch where a lower-is-better selection metric (dists@intra) is
    smallest, as main.py's EpochSelector does, not where it is largest."""
    rows = [{"epoch": 1, "split": "val", "dists@intra": 0.9}, {"epoch": 2, "split": "val", "dists@intra": 0.2},
            {"epoch": 3, "split": "val", "dists@intra": 0.5},
            {"epoch": 1, "split": "test", "dists@intra": 0.8, "e_recall@1": 0.1},
            {"epoch": 2, "split": "test", "dists@intra": 0.3, "e_recall@1": 0.4},
            {"epoch": 3, "split": "test", "dists@intra": 0.1, "e_recall@1": 0.2}]
    assert select(rows, "val", "dists@intra") == ({"dists@intra": 0.3, "e_recall@1": 0.4}, 2)
    # test_max: the epoch where dists@intra is smallest on the test set (epoch 3) ...
    assert select(rows, "test_max", "dists@intra") == ({"dists@intra": 0.1, "e_recall@1": 0.2}, 3)
    # ... and test_max_per_metric reads the descriptive dists@intra there, e_recall@1 at its own max.
    assert select(rows, "test_max_per_metric", "dists@intra") == ({"dists@intra": 0.1, "e_recall@1": 0.4}, None)
    from training.selection import EpochSelector
    import metrics
    selector = EpochSelector("val", "dists@intra", metrics.parse("dists@intra").higher_is_better)
    for epoch in (1, 2, 3):
        selector.update(epoch, {split: {k: v for r in rows if r["epoch"] == epoch and r["split"] == split
                                        for k, v in r.items() if k not in ("epoch", "split")}
                                for split in ("val", "test")})
    assert selector.best_epoch == 2


def test_describe_edge_cases():
    assert describe([0.5]).n == 1 and math.isnan(describe([0.5]).std)
    assert describe([]).n == 0 and math.isnan(describe([]).mean)
    assert describe([1.0, float("nan"), 3.0]).mean == 2.0


def test_method_names():
    assert method_of({"loss": "margin", "batch_mining": "distance", "loss_margin_beta": 1.2}).label == "Margin (D, β=1.2)"
    assert method_of({"loss": "margin", "batch_mining": "rho_distance", "loss_margin_beta": 0.6}).label == "R-Margin (β=0.6)"
    assert method_of({"loss": "triplet", "batch_mining": "semihard"}).label == "Triplet (S)"
    assert method_of({"loss": "contrastive", "batch_mining": "rho_distance"}).label == "R-Contrastive"
    assert method_of({"loss": "softmax", "batch_mining": "distance"}).label == "Softmax"
    assert method_of({"loss": "npair", "batch_mining": "npair"}).label == "N-Pair"
    assert Method("snr", "rho_distance").base == Method("snr", "distance")


def test_latex_layouts(root):
    rows, _ = rows_for(root, metrics=("e_recall@1", "e_recall@2", "f1", "map_at_r", "nmi"))
    table = per_dataset_table(rows, "glyphs", "test_max")
    assert table.count(r"\begin{tabular}{@{}lccccc") == 1 and table.count(r"\end{table}") == 1
    assert r"Method & R@1 & R@2 & F1 & mAP@R & NMI & $n$ \\" in table   # 3, 2 and 2 seeds: n per row
    lines = table.splitlines()
    margin = lines.index(next(l for l in lines if l.startswith(r"Margin (D, $\beta$=1.2)")))
    assert lines[margin].split(" & ")[1] == "60.00" and lines[margin].endswith(r"& 3 \\[-2pt]")
    assert lines[margin + 1].split(" & ")[1] == r"{\scriptsize$\pm$10.00}"   # the std under the mean
    reg = lines.index(next(l for l in lines if l.startswith(r"R-Margin ($\beta$=1.2)")))
    assert lines[reg - 1] == r"\midrule"  # the rho-regularised block is set apart
    assert r"& \textbf{85.00} &" in lines[reg]  # best R@1 in bold
    assert "optimistic" in table
    combined = combined_table(rows, "last")
    assert r"\multicolumn{2}{c}{Glyphs}" in combined and r"Method & R@1 & NMI \\" in combined
    assert tex("a_b & 5% β") == r"a\_b \& 5\% $\beta$"


def test_cli_markdown_csv_latex_plots(root, tmp_path, capsys):
    out_csv, out_tex, plots = tmp_path / "t.csv", tmp_path / "t.tex", tmp_path / "plots"
    code = Result_Evaluations.main(["--root", str(root), "--csv", str(out_csv), "--latex", str(out_tex),
                                    "--plots", str(plots), "--selection", "test_max"])
    text = capsys.readouterr().out
    assert code == 0
    assert "| GLY_Margin_b12_Distance | Margin (D, β=1.2) | 3 | 60.00 ± 10.00 (±24.84)" in text
    assert "OPTIMISTIC" in text and "Excluded runs (3)" in text and "GLY_Triplet_Distance: lr" in text
    table = list(csv.DictReader(open(out_csv)))
    assert {r["group"] for r in table} == {"GLY_Margin_b12_Distance", "GLYreg_Margin_b12_Distance",
                                           "GLY_Triplet_Distance"}
    assert float(next(r for r in table if r["group"] == "GLY_Margin_b12_Distance")["e_recall@1_std"]) == pytest.approx(0.1)
    assert r"\begin{table*}" in out_tex.read_text()
    assert sorted(os.listdir(plots)) == ["base_vs_rho.png", "metric_correlation.png", "recall_vs_rho.png"]


def test_cli_missing_root(tmp_path, capsys):
    assert Result_Evaluations.main(["--root", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


class FakeWandbRun:
    def __init__(self, seed, state, values):
        self.config = {**BASE_FLAGS, "seed": seed, "group": "G"}
        self.group, self.name, self.path, self.state = "G", f"G_s{seed}", ["ent", "proj", f"id{seed}"], state
        self.summary = {"test/e_recall@1": values[-1]}
        self._history = [{"_step": i + 1, "test/e_recall@1": v, "train/loss": 1.0} for i, v in enumerate(values)]

    def scan_history(self):
        return iter(self._history)


class FakeApi:
    def runs(self, project):
        assert project == "ent/proj"
        return [FakeWandbRun(0, "finished", [0.2, 0.4]), FakeWandbRun(1, "finished", [0.6, 0.5]),
                FakeWandbRun(2, "crashed", [0.1])]


def test_wandb_source_with_a_fake_api():
    runs = load_wandb_runs("ent/proj", api=FakeApi())
    assert [r.status for r in runs] == ["completed", "completed", "failed"]
    rows, excluded = summarise(group_runs(runs), ["e_recall@1"], "test_max")
    assert rows[0].stats["e_recall@1"].mean == pytest.approx(0.5) and len(excluded) == 1


def test_wandb_errors_become_one_line():
    class BrokenApi:
        def runs(self, project):
            raise ConnectionError("offline")
    with pytest.raises(RuntimeError, match="--wandb_project e/p: ConnectionError: offline"):
        load_wandb_runs("e/p", api=BrokenApi())
