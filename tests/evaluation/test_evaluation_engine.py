"""The evaluation engine end to end: a tiny run, the standalone entry point, plots, subsets."""
from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import torch

import evaluation
import evaluation_cli as cli
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from evaluation.engine import fixed_subset


def test_run_folder_plots_and_standalone_entry_point(tiny_argv, tmp_path, capsys):
    import main
    argv = tiny_argv + ["--n_epochs", "1", "--evaluation_metrics", "e_recall@1", "map_at_r", "nmi",
                        "rho_spectrum@0", "--plot_retrievals", "3", "--train_eval_subset", "20"]
    assert main.main(argv) == 0
    run = tmp_path / "runs" / "glyphs" / "tiny"
    for name in ("training_curves.png", "retrievals_test.png", "metric_arrays.json"):
        assert (run / name).stat().st_size > 0, name
    arrays = json.loads((run / "metric_arrays.json").read_text())
    assert {(r["split"], r["metric"]) for r in arrays} == {("test", "rho_spectrum@0"), ("train", "rho_spectrum@0")}
    with open(run / "metrics.csv") as fh:
        rows = {r["split"]: r for r in csv.DictReader(fh)}
    assert "rho_spectrum@0" not in rows["test"] and float(rows["test"]["n_lone_queries"]) == 0

    npz = str(tmp_path / "emb.npz")
    assert cli.main(["--checkpoint", str(run / "checkpoint_best.pt"), "--export_embeddings", npz]) == 0
    report = json.loads((run / "eval_test.json").read_text())
    for name in ("e_recall@1", "map_at_r", "nmi"):
        assert report["metrics"][name] == pytest.approx(float(rows["test"][name]), abs=1e-9), name
    assert len(report["arrays"]["rho_spectrum@0"]) > 0
    assert "e_recall@1" in capsys.readouterr().out

    out = tmp_path / "npz_eval"
    assert cli.main(["--embeddings", npz, "--metrics", "e_recall@1", "map_at_r", "--out", str(out)]) == 0
    again = json.loads((out / "eval_test.json").read_text())["metrics"]
    assert again["e_recall@1"] == report["metrics"]["e_recall@1"]
    assert again["map_at_r"] == report["metrics"]["map_at_r"]


def test_tsne_plot(tmp_path):
    from evaluation.plots import plot_embeddings
    x, y = np.random.default_rng(0).standard_normal((30, 4)), np.arange(30) % 3
    path = plot_embeddings(x, y, str(tmp_path / "tsne.png"), max_points=20, iterations=250)
    assert os.path.getsize(path) > 0


def test_entry_point_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, feats=np.zeros((3, 2)))
    for argv in (["--embeddings", str(bad)], ["--embeddings", str(tmp_path / "none.npz")],
                 ["--embeddings", str(bad), "--metrics", "e_recal@1"]):
        with pytest.raises(SystemExit) as err:
            cli.main(argv)
        assert err.value.code == 2
        message = capsys.readouterr().err.strip()
        assert message.startswith("python -m evaluation: error:") and "\n" not in message


def points(n: int = 30, with_protocol: bool = False) -> TensorImageDataset:
    """Items are 3-D points; labels, masks and categories as table columns."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((n, 3)), dtype=torch.float32)
    labels = rng.integers(0, 4, n)
    masks = (np.arange(n) % 2 == 0, np.arange(n) % 3 != 0) if with_protocol else (None, None)
    return TensorImageDataset(Table(labels, x, *masks, category=np.where(labels < 2, "a", "b")))


def test_evaluate_splits_uses_protocol_columns_and_fixed_train_subset():
    model = torch.nn.Linear(3, 2)
    data = {"train": points(40), "test": points(30, with_protocol=True)}
    names = ["e_recall@1", "map_at_r"]
    results = evaluation.evaluate_splits(model, data, ["test", "train"], names, train_subset=15,
                                         seed=3, average_mode="macro")
    with torch.no_grad():
        test_emb, train_emb = model(data["test"].images).numpy(), model(data["train"].images).numpy()
    t = data["test"]
    want = evaluation.compute(test_emb, t.labels, names, is_query=t.is_query, is_gallery=t.is_gallery,
                              categories=t.category, average_mode="macro")
    assert results["test"] == pytest.approx(want) and "e_recall@1/a" in results["test"]
    index = fixed_subset(40, 15, 3)
    assert len(index) == 15 and (index == fixed_subset(40, 15, 3)).all()
    tr = data["train"]
    want = evaluation.compute(train_emb[index], tr.labels[index], names, categories=tr.category[index],
                              average_mode="macro")
    assert results["train"] == pytest.approx(want)
    assert fixed_subset(40, 0, 3) is None and fixed_subset(40, 99, 3) is None


def test_options_from_flags(tiny_opt):
    tiny_opt.metric_average, tiny_opt.train_eval_subset = "macro", 50
    opts = evaluation.options(tiny_opt)
    assert opts["average_mode"] == "macro" and opts["train_subset"] == 50
    assert opts["eval_device"] == "cpu" and opts["metric_names"] == tiny_opt.evaluation_metrics


def test_torch_searcher_matches_faiss_on_cpu():
    from metrics.neighbours import FaissSearcher, TorchSearcher, prepare
    x = prepare(np.random.default_rng(1).standard_normal((50, 6)), "cosine")
    d1, i1 = FaissSearcher(x, "cosine").search(x[:7], 5)
    d2, i2 = TorchSearcher(x, "cosine", device="cpu").search(x[:7], 5)
    assert (i1 == i2).all() and np.allclose(d1, d2, atol=1e-5)


def test_embeddings_do_not_depend_on_the_batch_size(tiny_opt):
    """BatchNorm in eval mode: the embedding batch size (evaluation.options) cannot change metrics."""
    import architectures
    import datasets
    from evaluation.engine import embed
    data = datasets.select(tiny_opt)
    model = architectures.select(tiny_opt, in_channels=datasets.channels(data["train"]))
    ref = embed(model, data["test"], 256)[0]
    for batch_size in (1, 7, 64):
        assert abs(embed(model, data["test"], batch_size)[0] - ref).max() < 1e-5
