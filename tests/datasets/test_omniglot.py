"""``--dataset omniglot`` on a generated tree in the official layout (tests/datasets/fixture_trees.py)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

import datasets
import parameters
from datasets.omniglot import OmniglotSource, within_alphabet_split
from tests.datasets.fixture_trees import OMNIGLOT_ALPHABETS, omniglot_tree, user_cache  # noqa: F401

N_BACKGROUND = sum(OMNIGLOT_ALPHABETS["images_background"].values())      # 7 characters
N_EVALUATION = sum(OMNIGLOT_ALPHABETS["images_evaluation"].values())      # 5 characters
DRAWINGS = 3


def argv(source, *extra: str) -> list[str]:
    return ["--dataset", "omniglot", "--source", str(source), "--kernels", "0", "--evaluation_metrics",
            "e_recall@1", *extra]


def splits(source, *extra: str) -> dict:
    return datasets.select(parameters.parse_args(argv(source, *extra)))


@pytest.mark.parametrize("container", ["", "omniglot-py", "omniglot"])
def test_official_split_trains_background_tests_evaluation(tmp_path, container):
    omniglot_tree(str(tmp_path), container)
    source = datasets.build_source(parameters.parse_args(argv(tmp_path)))
    tables = source.tables()
    train, test = tables["train"], tables["test"]
    assert (len(train), len(test)) == (N_BACKGROUND * DRAWINGS, N_EVALUATION * DRAWINGS)
    assert all("/images_background/" in p for p in train.items)
    assert all("/images_evaluation/" in p for p in test.items)
    assert len(np.unique(train.labels)) == N_BACKGROUND and len(np.unique(test.labels)) == N_EVALUATION
    train_folders = {os.path.dirname(p) for p in train.items}
    assert not train_folders & {os.path.dirname(p) for p in test.items}


def test_labels_follow_natural_order_and_categories_are_alphabets(tmp_path):
    omniglot_tree(str(tmp_path))
    train = datasets.build_source(parameters.parse_args(argv(tmp_path))).tables()["train"]
    first = {int(label): os.path.relpath(os.path.dirname(p), str(tmp_path / "images_background"))
             for label, p in zip(train.labels[::-1], train.items[::-1])}
    assert [first[k] for k in sorted(first)] == (
        [f"Alphabet_of_the_Magi/character{k:02d}" for k in (1, 2, 3)] + [f"Latin/character{k:02d}" for k in (1, 2, 3, 4)])
    alphabet_of = {p: os.path.basename(os.path.dirname(os.path.dirname(p))) for p in train.items}
    assert sorted(np.unique(train.category).tolist()) == [0, 1]
    for p, c in zip(train.items, train.category):    # one category per alphabet
        assert (alphabet_of[p] == "Latin") == (c == 1)


def test_items_are_one_channel_32px_ink_on_paper(tmp_path):
    omniglot_tree(str(tmp_path))
    data = splits(tmp_path)
    assert OmniglotSource.preset["arch"] == "convnet_normalize" and OmniglotSource.has_categories
    for split in ("train", "test"):
        image, label = data[split][0]
        assert image.dtype == torch.float32 and image.shape == (1, 32, 32) and isinstance(label, int)
        assert image.min() >= -1.0 and image.max() <= 1.0
    view = datasets.eval_view(data["train"])
    plain = view[0][0]
    assert (plain == -1.0).float().mean() > 0.5 and plain.max() > 0.5           # mostly paper, some ink
    assert torch.equal(view[0][0], plain)                                        # evaluation: no augmentation
    assert datasets.channels(data["train"]) == 1
    assert np.array_equal(data["train"].category, view.category)


def test_training_items_get_a_seeded_affine_and_no_flip(tmp_path):
    omniglot_tree(str(tmp_path))
    train = splits(tmp_path)["train"]
    a, b, c = train[(0, 1)][0], train[(0, 1)][0], train[(0, 2)][0]
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert train.transform is not None and "Flip" not in repr(train.transform)
    off = splits(tmp_path, "--omniglot_augment", "false")["train"]
    assert off.transform is None


def test_image_size_flag(tmp_path):
    omniglot_tree(str(tmp_path))
    assert splits(tmp_path, "--omniglot_image_size", "16")["test"][0][0].shape == (1, 16, 16)


def test_characters_split_is_class_disjoint_and_shares_alphabets(tmp_path):
    omniglot_tree(str(tmp_path), "omniglot-py")
    source = datasets.build_source(parameters.parse_args(
        argv(tmp_path, "--omniglot_split", "characters", "--omniglot_train_characters", "8")))
    tables = source.tables()
    folders = {s: {os.path.dirname(p) for p in t.items} for s, t in tables.items()}
    assert len(folders["train"]) == 8 and len(folders["test"]) == N_BACKGROUND + N_EVALUATION - 8
    assert not folders["train"] & folders["test"]
    alphabets = {s: {os.path.dirname(f) for f in fs} for s, fs in folders.items()}
    assert alphabets["train"] == alphabets["test"] and len(alphabets["train"]) == 4   # every alphabet on both sides
    assert len(tables["train"]) == 8 * DRAWINGS


def test_within_alphabet_split_is_proportional_and_takes_first_characters():
    alphabets = np.repeat(["a", "b", "c"], [20, 10, 4])
    train = within_alphabet_split(alphabets, 17)
    assert train.sum() == 17
    for name, n in (("a", 20), ("b", 10), ("c", 4)):
        mask = train[alphabets == name]
        k = int(mask.sum())
        assert 0 < k < n and mask[:k].all() and not mask[k:].any()     # the first k of the alphabet
        assert abs(k - n * 17 / 34) <= 1


def test_hierarchical_sampler_accepts_omniglot(tmp_path):
    omniglot_tree(str(tmp_path))
    opt = parameters.parse_args(argv(tmp_path, "--data_sampler", "hierarchical", "--bs", "8",
                                     "--samples_per_class", "2"))
    assert opt.data_sampler == "hierarchical"


def test_missing_folders_exit_2_with_one_line_naming_the_download(tmp_path, capsys):
    with pytest.raises(SystemExit) as excinfo:
        parameters.parse_args(argv(tmp_path))
    err = capsys.readouterr().err.strip()
    assert excinfo.value.code == 2 and len(err.splitlines()) == 1
    assert (f"--source: {tmp_path}: no Omniglot images_background/ and images_evaluation/ folders; download "
            "images_background.zip and images_evaluation.zip from "
            f"https://github.com/brendenlake/omniglot/tree/master/python and unzip them into {tmp_path}") in err


def test_one_missing_folder_is_named(tmp_path, capsys):
    omniglot_tree(str(tmp_path), "omniglot-py")
    import shutil
    shutil.rmtree(tmp_path / "omniglot-py" / "images_evaluation")
    with pytest.raises(SystemExit):
        parameters.parse_args(argv(tmp_path))
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{tmp_path / 'omniglot-py'}: no Omniglot images_evaluation/ folder; download images_evaluation.zip" in err


def test_too_many_train_characters_is_one_line(tmp_path):
    omniglot_tree(str(tmp_path))
    opt = parameters.parse_args(argv(tmp_path, "--omniglot_split", "characters"))
    with pytest.raises(ValueError, match=r"--omniglot_train_characters 1200: .* holds 12 characters; expected 1 to 11"):
        datasets.select(opt)


@pytest.mark.slow
def test_one_epoch_end_to_end(tmp_path):
    import main
    omniglot_tree(str(tmp_path / "data"))
    run_argv = argv(tmp_path / "data", "--bs", "8", "--samples_per_class", "2", "--n_epochs", "1",
                    "--embed_dim", "8", "--arch_convnet_width", "8", "--omniglot_image_size", "16",
                    "--device", "cpu", "--save_path", str(tmp_path / "runs"), "--savename", "omni")
    assert main.main(run_argv) == 0
    summary = json.loads((tmp_path / "runs" / "omniglot" / "omni" / "summary.json").read_text())
    assert summary["status"] == "completed" and 0.0 <= summary["metrics"]["e_recall@1"] <= 1.0
    # per-alphabet columns are named by alphabet: train and test rows have different alphabets
    import csv
    with open(tmp_path / "runs" / "omniglot" / "omni" / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    named = {split: {c.split("/", 1)[1] for c, v in row.items() if "/" in c and v != ""}
             for row in rows for split in [row["split"]]}
    assert named["train"] == set(OMNIGLOT_ALPHABETS["images_background"])
    assert named["test"] == set(OMNIGLOT_ALPHABETS["images_evaluation"])


def test_categories_are_named_by_alphabet_and_survive_subsets(tmp_path):
    omniglot_tree(str(tmp_path))
    from evaluation.engine import protocol_columns
    data = splits(tmp_path)
    names = list(OMNIGLOT_ALPHABETS["images_evaluation"])
    assert data["test"].category_names == tuple(names)
    assert set(protocol_columns(data["test"])["category"]) == set(names)
    table = data["test"].table
    assert table.subset(np.arange(3)).category_names == table.category_names


def test_folders_that_share_an_alphabet_are_refused_with_the_overlap_counted(tmp_path):
    """An alphabet name in both folders: the 'alphabets' split would test on a training alphabet."""
    omniglot_tree(str(tmp_path), alphabets={"images_background": {"Latin": 2, "Greek": 2},
                                            "images_evaluation": {"Latin": 2, "Korean": 2}})
    with pytest.raises(ValueError) as err:
        datasets.build_source(parameters.parse_args(argv(tmp_path))).tables()
    line = str(err.value)
    assert "\n" not in line
    assert "share 1 alphabet name (Latin)" in line and "identical" not in line
    assert "--omniglot_split alphabets does not give test alphabets unseen in training" in line
    assert line.endswith("pass --omniglot_allow_overlap true to train anyway")
    # the characters split pools both folders: a shared name alone is harmless there
    source = datasets.build_source(parameters.parse_args(
        argv(tmp_path, "--omniglot_split", "characters", "--omniglot_train_characters", "4")))
    assert len(source.tables()["train"]) == 4 * DRAWINGS


def test_a_character_copied_into_both_folders_is_counted_byte_for_byte(tmp_path, capsys):
    import shutil
    omniglot_tree(str(tmp_path))
    shutil.copytree(tmp_path / "images_background" / "Latin", tmp_path / "images_evaluation" / "Latin_copy")
    for split, extra in (("alphabets", ()), ("characters", ("--omniglot_train_characters", "8"))):
        with pytest.raises(ValueError, match=r"share 4 characters identical byte for byte, so --omniglot_split "
                                             + split):
            datasets.build_source(parameters.parse_args(argv(tmp_path, "--omniglot_split", split, *extra))).tables()
    tables = datasets.build_source(parameters.parse_args(
        argv(tmp_path, "--omniglot_allow_overlap", "true"))).tables()
    assert len(tables["test"]) == (N_EVALUATION + 4) * DRAWINGS          # accepted, and said so
    assert "warning: " in capsys.readouterr().err
