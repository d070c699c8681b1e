"""Run-folder figures: every panel labelled, the selected epoch marked, classes keyed, a PNG written."""
from __future__ import annotations

import csv

import numpy as np
import torch
from matplotlib.legend import Legend

from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from evaluation import plots
from training.run_record import RunRecord


def write_run(folder, epochs: int = 4) -> None:
    """train.csv and metrics.csv of a 4-epoch run evaluated on train, val and test."""
    with open(folder / "train.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "loss", "lr", "time_s"])
        w.writerows([[e, 1.0 / e, 1e-3, 1.0] for e in range(1, epochs + 1)])
    with open(folder / "metrics.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "split", "e_recall@1", "nmi"])
        w.writerows([[e, s, 0.1 * e + k, 0.5] for e in range(1, epochs + 1)
                     for k, s in enumerate(["test", "train", "val"])])


def logs_of(folder):
    """The rows of the run folder's CSV files, as the run keeps them."""
    record = RunRecord(str(folder))
    return {"train": record.train_rows(), "metrics": record.metric_rows()}


def selected_lines(ax):
    return [line for line in ax.get_lines() if str(line.get_label()).startswith("selected")]


def test_training_curves_label_every_panel_and_mark_the_selected_epoch(tmp_path):
    write_run(tmp_path)
    fig = plots.training_curves_figure(logs_of(tmp_path), ["e_recall@1", "nmi"], selected_epoch=2, selection="val")
    axes = fig.axes
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() and ax.get_title()
        [line] = selected_lines(ax)
        assert list(line.get_xdata()) == [2, 2]
        legend = ax.get_legend()
        assert legend is not None
        assert "selected (val): epoch 2" in [t.get_text() for t in legend.get_texts()]
    assert axes[1].get_ylabel() == "e_recall@1"
    assert {"test", "train", "val"} <= {t.get_text() for t in axes[1].get_legend().get_texts()}


def test_training_curves_without_a_selection_draw_no_line_and_write_a_png(tmp_path):
    write_run(tmp_path)
    fig = plots.training_curves_figure(logs_of(tmp_path), ["e_recall@1"])
    assert not any(selected_lines(ax) for ax in fig.axes)
    path = plots.plot_training_curves(str(tmp_path), logs_of(tmp_path), ["e_recall@1"], selected_epoch=3,
                                      selection="last")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_tsne_figure_keys_up_to_twenty_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat([3, 7, 11, 20, 42], 4)
    fig = plots.embedding_figure(rng.standard_normal((20, 2)), labels)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None and legend.get_title().get_text() == "colour = class"
    assert [t.get_text() for t in legend.get_texts()] == [f"class {c}" for c in (3, 7, 11, 20, 42)]
    assert ax.get_xlabel() and ax.get_ylabel()
    colours = {tuple(c.get_facecolor()[0]) for c in ax.collections}
    assert len(colours) == 5                          # one distinct colour per class


def test_tsne_figure_with_many_classes_says_colour_is_class():
    labels = np.arange(60) % 30
    fig = plots.embedding_figure(np.random.default_rng(0).standard_normal((60, 2)), labels)
    assert fig.axes[0].get_legend() is None
    assert "colour = class (30 classes" in fig.get_supxlabel()


def pictures() -> TensorImageDataset:
    """12 single-channel 8x8 images of 3 classes."""
    return TensorImageDataset(Table(np.arange(12) % 3, torch.rand(12, 1, 8, 8, generator=torch.Generator().manual_seed(0))))


def test_retrieval_grid_has_a_frame_key_and_rank_titles(tmp_path):
    data = pictures()
    emb = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
    fig = plots.retrieval_figure(data, emb, n_queries=2)
    legends = [c for c in fig.get_children() if isinstance(c, Legend)]
    assert len(legends) == 1
    assert [t.get_text() for t in legends[0].get_texts()] == ["same class as the query", "other class"]
    titles = [ax.get_title() for ax in fig.axes[:plots.TOP + 1]]
    assert titles == ["query"] + [f"#{k}" for k in range(1, plots.TOP + 1)]
    path = plots.plot_retrievals(data, emb, str(tmp_path / "r.png"), n_queries=2)
    assert open(path, "rb").read(4) == b"\x89PNG"
