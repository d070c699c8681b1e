"""Inputs that used to end in a traceback: each now works or is one line with exit code 2."""
from __future__ import annotations

import io
import json
import os
import shutil
import sys

import numpy as np
import pytest
import torch

import main
import parameters
from conftest import TINY_GLYPHS
from datasets.glyphs import GlyphsSource
import evaluation_cli


def one_line_exit_2(fn, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        fn(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and "Traceback" not in err, err
    return err


def test_a_config_file_with_dataset_and_a_key_its_preset_sets_works(tmp_path):
    """``dataset: digits`` + ``n_epochs: 2`` raised "set_defaults() got multiple values"."""
    config = tmp_path / "c.yaml"
    config.write_text("dataset: digits\nn_epochs: 2\n")
    opt = parameters.parse_args(["--config", str(config)])
    assert opt.dataset == "digits" and opt.n_epochs == 2 and opt.bs == 40     # 40: the digits preset


@pytest.mark.parametrize("flag, value", [("--embed_dim", "100000000"), ("--arch_convnet_width", "100000000"),
                                         ("--glyphs_image_size", "100000"), ("--glyphs_n_classes", "100000000"),
                                         ("--glyphs_samples", "100000000")])
def test_huge_sizes_are_refused_with_their_limit(flag, value, capsys):
    """They ran out of memory in a traceback, or (--glyphs_n_classes) generated data for hours."""
    err = one_line_exit_2(parameters.parse_args, TINY_GLYPHS + [flag, value], capsys)
    assert f"{flag} {value}: expected in [" in err


def test_glyphs_of_too_many_pixels_in_all_are_refused():
    with pytest.raises(ValueError, match="over the limit of 1,073,741,824"):
        GlyphsSource(n_classes=100_000, samples=10_000, image_size=32)


def fake_run(tmp_path, **fields) -> str:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"flags": {"dataset": "glyphs"}, **fields}))
    return str(folder)


@pytest.mark.parametrize("fields, words", [({"resumes": "x"}, '"resumes" must be a list'),
                                           ({"data": [1]}, '"data" must be a mapping')])
def test_config_json_fields_of_the_wrong_shape_are_one_line(tmp_path, fields, words, capsys):
    """``resumes: "x"`` crashed on ``.append`` after the resume had begun."""
    err = one_line_exit_2(main.main, ["--resume", fake_run(tmp_path, **fields)], capsys)
    assert words in err


def test_evaluation_batch_size_0_and_unusable_out_are_one_line(tmp_path, capsys):
    npz = tmp_path / "e.npz"
    np.savez(npz, embeddings=np.eye(4, dtype=np.float32), labels=np.array([0, 0, 1, 1]))
    err = one_line_exit_2(evaluation_cli.main, ["--embeddings", str(npz), "--batch_size", "0"], capsys)
    assert "--batch_size 0: expected >= 1" in err
    err = one_line_exit_2(evaluation_cli.main, ["--embeddings", str(npz), "--out", str(npz / "sub")], capsys)
    assert err.startswith("python -m evaluation: error: --out ") and "cannot create the folder" in err


def test_a_checkpoint_whose_config_is_empty_is_one_line(tmp_path, capsys):
    checkpoint = tmp_path / "c.pt"
    torch.save({"config": {}, "model": {}}, checkpoint)
    err = one_line_exit_2(evaluation_cli.main, ["--checkpoint", str(checkpoint), "--device", "cpu"], capsys)
    assert "its config lacks dataset, arch, embed_dim" in err


@pytest.mark.slow
def test_resume_with_another_runs_checkpoint_is_one_line(tmp_path, capsys):
    base = TINY_GLYPHS + ["--n_epochs", "1", "--no_train_metrics", "--save_path", str(tmp_path)]
    assert main.main(base + ["--savename", "a"]) == 0
    assert main.main(base + ["--savename", "b", "--embed_dim", "8"]) == 0
    folder = tmp_path / "glyphs" / "a"
    shutil.copy(tmp_path / "glyphs" / "b" / "checkpoint_last.pt", folder / "checkpoint_last.pt")
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder) if name != ".lock"}
    capsys.readouterr()
    err = one_line_exit_2(main.main, ["--resume", str(folder), "--n_epochs", "2"], capsys)
    assert "does not fit this run's model" in err and "another run's checkpoint" in err
    assert before == {name: (folder / name).read_bytes() for name in os.listdir(folder) if name != ".lock"}


@pytest.mark.slow
def test_a_non_ascii_path_on_an_ascii_only_stdout_is_printed_escaped(tmp_path, monkeypatch):
    """``LC_ALL=C`` / ``PYTHONIOENCODING=ascii``: printing the run folder raised UnicodeEncodeError."""
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    argv = TINY_GLYPHS + ["--n_epochs", "1", "--no_train_metrics", "--save_path", str(tmp_path / "dé"),
                          "--savename", "r"]
    assert main.main(argv) == 0
    sys.stdout.flush()
    assert b"d\\xe9" in raw.getvalue()
