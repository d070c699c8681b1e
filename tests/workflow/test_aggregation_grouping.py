"""Which runs pool into one "mean ± std over seeds": runs without ``--group`` only when their
configurations match apart from the seed; a seed counts once per group; unknown ``--metrics`` are
refused; a figure that is not drawn says why; a group whose configs differ keeps its mark in
every output."""
from __future__ import annotations

import csv
import json

import Result_Evaluations
from aggregation.aggregate import summarise
from aggregation.groups import group_runs
from aggregation.identity import deduplicate
from aggregation.runs import load_runs
from test_aggregation import curve, make_run

NAME = "glyphs_margin_distance"   # main.py's folder name without --group: <dataset>_<loss>_<miner>_s<seed>_<time>


def without_group(folder, savename=None, world_size=None):
    """Rewrite a run's config.json as main.py writes it without --group (``group: null``)."""
    config = json.loads((folder / "config.json").read_text())
    config["flags"].update(group=None, savename=savename or folder.name)
    if world_size:
        config["world_size"] = world_size
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def ungrouped(base, seed, stamp, last=0.5, world_size=None, use_tv_split=False, **flags):
    """A run saved without --group: ``<dataset>_<loss>_<miner>_s<seed>_<timestamp>``."""
    folder = make_run(base, NAME, seed, curve(last), use_tv_split=use_tv_split, **flags)
    target = folder.with_name(f"{folder.name}_{stamp}")
    folder.rename(target)
    return without_group(target, world_size=world_size)


def rows_of(base, metrics=("e_recall@1",)):
    runs, duplicates = deduplicate(load_runs(str(base)))
    rows, _ = summarise(group_runs(runs), list(metrics), "last")
    return {r.group: r for r in rows}, duplicates


def test_ungrouped_runs_pool_only_with_matching_configs(tmp_path, capsys):
    """The reported case: four seed-1 runs without --group (two identical, one with a validation
    split, one under torchrun) came out as one group "n=4, mean ± std over seeds"."""
    base = tmp_path / "Training_Results"
    ungrouped(base, 1, "20240101-100000", 0.5)
    ungrouped(base, 1, "20240101-110000", 0.5)                     # the same run again
    ungrouped(base, 1, "20240101-120000", 0.6, use_tv_split=True)
    ungrouped(base, 1, "20240101-130000", 0.7, world_size=2)       # torchrun --nproc_per_node 2
    ungrouped(base, 2, "20240101-140000", 0.7)                     # a second seed of the first config
    rows, duplicates = rows_of(base)
    assert {name: (row.n, row.seeds) for name, row in rows.items()} == {
        f"{NAME} [use_tv_split=false, world_size=1]": (2, [1, 2]),
        f"{NAME} [use_tv_split=true, world_size=1]": (1, [1]),
        f"{NAME} [use_tv_split=false, world_size=2]": (1, [1]),
    }
    assert all(not row.config_diffs for row in rows.values())
    assert len(duplicates) == 1 and len(duplicates[0].ignored) == 1
    assert Result_Evaluations.main(["--root", str(base), "--metrics", "e_recall@1"]) == 0
    out = capsys.readouterr().out
    assert "5 runs found, 4 used in 3 groups, 0 excluded, 1 duplicate folder ignored." in out
    assert "| 4 |" not in out


def test_ungrouped_runs_of_one_config_pool_across_seeds(tmp_path):
    base = tmp_path / "Training_Results"
    for seed, last in ((0, 0.5), (1, 0.6), (2, 0.7)):
        ungrouped(base, seed, f"20240101-10000{seed}", last)
    rows, _ = rows_of(base)
    assert list(rows) == [NAME] and rows[NAME].seeds == [0, 1, 2]


def test_a_seed_counts_once_per_group(tmp_path, capsys):
    """--group G with seed 0 twice (another lr: not a copy of the run) is 2 seeds, not 3."""
    base = tmp_path / "Training_Results"
    kept = make_run(base, "G", 0, curve(0.5))
    other = make_run(base / "again", "G", 0, curve(0.9), lr=0.5)
    make_run(base, "G", 1, curve(0.7))
    rows, _ = rows_of(base)
    assert rows["G"].seeds == [0, 1] and rows["G"].stats["e_recall@1"].mean == 0.6
    out_csv = tmp_path / "t.csv"
    assert Result_Evaluations.main(["--root", str(base), "--metrics", "e_recall@1", "--csv", str(out_csv)]) == 0
    out = capsys.readouterr().out
    assert "3 runs found, 2 used in 1 groups, 0 excluded, 1 repeated seed ignored." in out
    assert "Seeds run more than once in a group (1)" in out
    assert f"glyphs/G seed 0: used `{kept}`; ignored `{other}` (they differ: lr: 0.001 vs 0.5)" in out
    line = next(csv.DictReader(open(out_csv)))
    assert (line["n"], line["seeds"], line["repeated_seeds"]) == ("2", "0 1", "0 (2 runs)")


def test_ungrouped_runs_with_one_seed_under_two_names_count_once(tmp_path):
    """Same flags and seed, saved under two --savename: one configuration, one seed."""
    base = tmp_path / "Training_Results"
    without_group(make_run(base, "first", 0, curve(0.5)))
    without_group(make_run(base, "second", 0, curve(0.5)))
    without_group(make_run(base, "first", 1, curve(0.7)))
    rows, duplicates = rows_of(base)
    assert duplicates == [] and [(r.n, len(r.repeats)) for r in rows.values()] == [(2, 1)]


def test_differing_configs_keep_their_mark_everywhere(tmp_path, capsys):
    base = tmp_path / "Training_Results"
    make_run(base, "G", 0, curve(0.5))
    make_run(base, "G", 1, curve(0.7), lr=0.5)
    out_csv, out_tex = tmp_path / "t.csv", tmp_path / "t.tex"
    assert Result_Evaluations.main(["--root", str(base), "--metrics", "e_recall@1", "nmi", "--csv", str(out_csv),
                                    "--latex", str(out_tex)]) == 0
    assert "| G ⚠ |" in capsys.readouterr().out
    line = next(csv.DictReader(open(out_csv)))
    assert (line["config_differs"], line["config_differences"]) == ("yes", "lr: 0.001 vs 0.5")
    latex = out_tex.read_text()
    assert r"Margin (D, $\beta$=1.2)$^{\dagger}$ &" in latex
    assert r"$^{\dagger}$Runs differ in more than the seed: Margin (D, $\beta$=1.2) (lr)." in latex


def test_unknown_metric_is_refused_with_the_closest_names(tmp_path, capsys):
    base = tmp_path / "Training_Results"
    make_run(base, "G", 0, curve(0.5, extra={"n_lone_queries": 0.0}))
    assert Result_Evaluations.main(["--root", str(base), "--metrics", "e_recall@1", "recal@1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Result_Evaluations.py: error: --metrics: unknown metric 'recal@1'.")
    assert lines[0].split("Closest: ")[1].startswith("e_recall@1")
    assert lines[0].endswith("python main.py --list)") and len(lines[0]) < 220
    assert Result_Evaluations.main(["--root", str(base), "--metrics", "e_recall@0"]) == 2
    assert "--metrics: 'e_recall@0': k must be >= 1" in capsys.readouterr().err
    # a column the runs recorded is valid; a known metric no run recorded is noted
    assert Result_Evaluations.main(["--root", str(base), "--metrics", "n_lone_queries", "e_recall@4"]) == 0
    assert "note: no counted run recorded e_recall@4 (shown as –)" in capsys.readouterr().out


def test_every_figure_not_drawn_says_why(tmp_path, capsys):
    base = tmp_path / "Training_Results"
    for seed in (0, 1):
        make_run(base, "G", seed, [{"epoch": 1, "split": "test", "e_recall@1": 0.5 + seed / 10, "nmi": 0.4}])
    plots = tmp_path / "plots"
    assert Result_Evaluations.main(["--root", str(base), "--plots", str(plots)]) == 0
    out = capsys.readouterr().out
    assert "recall_vs_rho.png not drawn: no run has rho_spectrum@2" in out
    assert "metric_correlation.png not drawn: needs 3 runs of one dataset (most: 2)" in out
    assert "base_vs_rho.png not drawn: no ρ-regularised run (--batch_mining rho_distance)" in out
    assert Result_Evaluations.main(["--root", str(base), "--plots", str(plots), "--metrics", "nmi"]) == 0
    out = capsys.readouterr().out
    assert "recall_vs_rho.png not drawn: e_recall@1 is not among --metrics" in out
    assert "metric_correlation.png not drawn: needs at least 2 --metrics" in out
    assert list(plots.iterdir()) == []
