"""Concatenated (fold-ensemble) evaluation, the SLURM submission, and the Reality Check table."""
from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from studies.reproductions import concatenated_metrics

NAMES = ["precision_at_1", "r_precision", "map_at_r"]


def test_concatenated_equals_metrics_of_concatenated_normalised_embeddings():
    import metrics
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(6), 5)
    a, b = rng.normal(size=(30, 4)) * 3, rng.normal(size=(30, 4)) + labels[:, None]
    by_hand = np.concatenate([a / np.linalg.norm(a, axis=1, keepdims=True),
                              b / np.linalg.norm(b, axis=1, keepdims=True)], axis=1)
    expected = metrics.compute(by_hand, labels, NAMES)
    got = concatenated_metrics([a, b], labels, NAMES)
    assert got == pytest.approx({k: float(expected[k]) for k in NAMES})


def test_slurm_submission_carries_partition_gpus_time_and_extra(tmp_path, monkeypatch):
    import submitit
    monkeypatch.setattr(submitit.SlurmExecutor, "affinity", classmethod(lambda cls: 1))   # no cluster here
    from studies.launch import SlurmOptions, make_executor
    options = SlurmOptions(partition="gpu-long", gpus=2, cpus=12, time_min=90, mem="64G",
                           extra=["account=dml", "--qos=high"])
    executor = make_executor("slurm", str(tmp_path), options)
    text = executor._make_submission_file_text("python -m worker", "uid")
    for line in ("#SBATCH --partition=gpu-long", "#SBATCH --gpus-per-node=2", "#SBATCH --cpus-per-task=12",
                 "#SBATCH --time=90", "#SBATCH --mem=64G", "#SBATCH --account=dml", "#SBATCH --qos=high"):
        assert line in text, line
    assert "export PYTHONPATH=" in text


def fake_study(folder, methods, values=None, dataset=None):
    """A study folder as the driver leaves it; ``values``: method -> per-reproduction values (the
    same for every cell), else two reproductions around 0.1 * (i + 1) with a 0.01 half-width and
    no per-reproduction values (an older test.json)."""
    from utilities.stats import describe
    os.makedirs(folder)
    record = {"methods": {m: {} for m in methods}, "trials": 8, "folds": 2, "epochs": 3,
              "main_argv": ["--dataset", "digits"] if dataset == "argv" else []}
    if dataset and dataset != "argv":
        record["dataset"] = dataset
    with open(os.path.join(folder, "study.json"), "w") as fh:
        json.dump(record, fh)
    for i, m in enumerate(methods):
        os.makedirs(os.path.join(folder, m))
        if values:
            st = describe(values[m])
            cell = {k: {"mean": st.mean, "ci95": st.ci95, "std": st.std, "n": st.n} for k in NAMES}
        else:
            cell = {k: {"mean": 0.1 * (i + 1), "ci95": 0.01, "std": 0.0, "n": 2} for k in NAMES}
        test = {kind: {mode: cell for mode in ("separated", "concatenated")} for kind in ("trained", "untrained")}
        if values:
            test["values"] = {kind: {mode: {k: values[m] for k in NAMES} for mode in ("separated", "concatenated")}
                              for kind in ("trained", "untrained")}
        with open(os.path.join(folder, m, "test.json"), "w") as fh:
            json.dump(test, fh)


def test_latex_layout_and_budget_column(tmp_path):
    from aggregation import reality_check as rc
    fake_study(str(tmp_path / "s"), ["triplet", "ms_miner"])
    rows = rc.load_studies([str(tmp_path / "s")])
    assert [r["method"] for r in rows] == ["untrained", "triplet", "ms_miner"]
    tex = rc.latex_table(rows)
    assert r"\multicolumn{3}{c}{Concatenated} & \multicolumn{3}{c}{Separated}" in tex
    assert r"Method & P@1 & RP & MAP@R & P@1 & RP & MAP@R & Budget \\" in tex
    assert r"ms\_miner & \textbf{20.00} &" in tex and r"{\scriptsize$\pm$1.00}" in tex
    assert tex.count("8x2x3") == 2
    out = io.StringIO()
    rc.write_csv(rows, out)
    header = out.getvalue().splitlines()[0]
    assert header.startswith("dataset,study,method,budget,concatenated/precision_at_1,concatenated/precision_at_1_ci95")


def test_result_evaluations_reality_check(tmp_path, capsys):
    import Result_Evaluations
    fake_study(str(tmp_path / "s"), ["triplet"])
    assert Result_Evaluations.main(["--reality_check", str(tmp_path / "s"), "--latex", str(tmp_path / "t.tex"),
                                    "--csv", str(tmp_path / "t.csv")]) == 0
    assert os.path.exists(tmp_path / "t.tex") and "| triplet |" in capsys.readouterr().out
    assert Result_Evaluations.main(["--reality_check", str(tmp_path)]) == 2


def test_two_studies_get_a_block_per_dataset_and_labelled_rows(tmp_path):
    """Two studies of one dataset and one of another: one block per dataset, each row names its
    study where a dataset has several, and each study keeps its own untrained baseline."""
    from aggregation import reality_check as rc
    fake_study(str(tmp_path / "cubA"), ["triplet"], dataset="cub200")
    fake_study(str(tmp_path / "cubB"), ["triplet", "contrastive"], dataset="cub200")
    fake_study(str(tmp_path / "dig"), ["triplet"], dataset="argv")          # from its main.py flags
    rows = rc.load_studies([str(tmp_path / d) for d in ("cubA", "dig", "cubB")])
    assert [(r["dataset"], r["label"]) for r in rows] == [
        ("cub200", "untrained [cubA]"), ("cub200", "triplet [cubA]"), ("cub200", "untrained [cubB]"),
        ("cub200", "triplet [cubB]"), ("cub200", "contrastive [cubB]"), ("digits", "untrained"), ("digits", "triplet")]
    text = rc.markdown(rows)
    assert text.index("## cub200") < text.index("## digits")
    assert "| concatenated P@1 |" in text and "separa |" not in text
    assert "half-width of its 95 % Student-t confidence interval, in percent" in text


def test_few_reproductions_and_wide_intervals_are_said(tmp_path):
    from aggregation import reality_check as rc
    fake_study(str(tmp_path / "s"), ["a", "b"], values={"a": [0.02, 0.20], "b": [0.5, 0.52]})
    rows = rc.load_studies([str(tmp_path / "s")])
    text = rc.markdown(rows)
    assert "Fewer than 3 reproductions (n = 2)" in text
    a = next(r for r in rows if r["method"] == "a")
    mean, ci, n = a["cells"][("concatenated", "map_at_r")]
    assert mean - ci < 0 and "†" in a["marks"][("concatenated", "map_at_r")]     # ±114 % around 11 %
    assert "† the 95 % interval reaches past the metric's range [0, 100] %." in text


def test_methods_the_study_cannot_tell_apart_from_the_best_are_marked(tmp_path):
    """Paired over the shared reproduction seeds: 'close' moves with 'best' (p large: ≈), 'worse'
    is consistently below it (p small: no mark), although its interval overlaps the best one's."""
    from aggregation import reality_check as rc
    best = [0.50, 0.60, 0.55, 0.65, 0.52]
    values = {"best": best, "close": [b - d for b, d in zip(best, (0.01, -0.005, 0.0, 0.012, -0.01))],
              "worse": [b - 0.02 - d for b, d in zip(best, (0.001, -0.001, 0.0, 0.002, -0.002))]}
    fake_study(str(tmp_path / "s"), list(values), values=values)
    rows = {r["method"]: r for r in rc.load_studies([str(tmp_path / "s")])}
    key = ("concatenated", "map_at_r")
    assert rows["best"]["marks"][key] == "*"
    assert rows["close"]["marks"][key] == "≈" and rows["worse"]["marks"][key] == ""
    assert rc.paired_p(values["close"], best) > 0.05 > rc.paired_p(values["worse"], best)
    from scipy import stats
    assert rc.paired_p(values["worse"], best) == pytest.approx(stats.ttest_rel(values["worse"], best).pvalue)
    assert rows["worse"]["cells"][key][0] + rows["worse"]["cells"][key][1] > rows["best"]["cells"][key][0]
    assert "untrained" not in {m for m, r in rows.items() if "*" in r["marks"][key]}
    tex = rc.latex_table(list(rows.values()))
    assert r"close & 55.90$^{\approx}$" in tex or r"$^{\approx}$" in tex


def test_paired_p_edge_cases():
    from aggregation import reality_check as rc
    import math
    assert math.isnan(rc.paired_p([0.1], [0.2])) and rc.paired_p([0.1, 0.2], [0.1, 0.2]) == 1.0
    assert rc.paired_p([0.1, 0.2], [0.2, 0.3]) == 0.0


WRAPPERS = {"article": r"\documentclass{article}", "twocolumn": r"\documentclass[twocolumn]{article}"}


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("layout", sorted(WRAPPERS))
def test_reality_check_latex_compiles_without_overfull_boxes(tmp_path, layout):
    """The table was 200 pt too wide for a one-column article and 316 pt for a two-column one."""
    import subprocess
    from aggregation import reality_check as rc
    values = {"multisimilarity_miner": [0.31, 0.33, 0.32], "contrastive": [0.30, 0.35, 0.31],
              "ntxent": [0.02, 0.3, 0.1]}
    fake_study(str(tmp_path / "cub"), list(values), values=values, dataset="cub200")
    fake_study(str(tmp_path / "cars"), ["triplet"], dataset="cars196")
    (tmp_path / "t.tex").write_text(rc.latex_table(rc.load_studies([str(tmp_path / "cub"), str(tmp_path / "cars")])))
    doc = tmp_path / f"{layout}.tex"
    doc.write_text(WRAPPERS[layout] + "\n\\usepackage{booktabs}\n\\begin{document}\n\\input{t.tex}\n\\end{document}\n")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / f"{layout}.log").read_text(errors="replace")
    assert done.returncode == 0, log[-2000:]
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]


def test_every_reproduction_and_fold_gets_its_own_seed_shared_across_methods():
    from studies.reproductions import fold_seeds
    from studies.settings import Settings
    settings = Settings(study_dir="s", spaces={}, trials=1, folds=4, seed=7)
    seeds = [s for r in (1, 2, 3) for s in fold_seeds(settings, r)]
    assert len(set(seeds)) == 12 and fold_seeds(settings, 2) == [2007, 2008, 2009, 2010]


def test_backbone_features_are_the_pooled_backbone_output_without_the_head():
    import torch
    from architectures.embedding_net import EmbeddingNet
    from studies.reproductions import BackboneFeatures

    class Backbone(torch.nn.Module):
        from architectures.input_space import IMAGENET as input_space

        def forward(self, x):
            return x[:, :2]                                     # (B, 2, H, W) feature maps

    net = EmbeddingNet(Backbone(), feat_dim=2, embed_dim=5)
    x = torch.randint(0, 255, (3, 3, 4, 4), dtype=torch.uint8)
    feats = BackboneFeatures(net)(x)
    assert feats.shape == (3, 2)
    assert torch.allclose(net.head(feats), net(x))            # the head on top gives the embedding


def test_the_table_shows_both_baselines_once_per_study(tmp_path):
    from aggregation import reality_check as rc
    fake_study(str(tmp_path / "s"), ["a", "b"], values={"a": [0.1, 0.2, 0.3], "b": [0.2, 0.3, 0.4]})
    for m in ("a", "b"):
        path = tmp_path / "s" / m / "test.json"
        test = json.loads(path.read_text())
        test["backbone"] = test["untrained"]
        path.write_text(json.dumps(test))
    labels = [r["label"] for r in rc.load_studies([str(tmp_path / "s")])]
    assert labels == ["backbone features", "untrained", "a", "b"]
