"""``python -m evaluation`` and in-run evaluation on bad input: one line naming the file (or the
split) and the problem, exit code 2, never a traceback or a silently wrong number."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import evaluation_cli as cli
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from evaluation.engine import evaluate_splits

PREFIX = "python -m evaluation: error:"


def good_columns(n: int = 40) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"embeddings": rng.standard_normal((n, 4)).astype(np.float32), "labels": np.arange(n) % 5}


def one_line_exit(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as err:
        cli.main(argv)
    assert err.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith(PREFIX) and "\n" not in message, message
    return message


def write_truncated(path):
    np.savez(path, **good_columns())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_not_a_zip(path):
    path.write_text("embeddings,labels\n1,2\n")


def write_npy(path):
    with open(path, "wb") as fh:
        np.save(fh, np.zeros((3, 2)))


def with_columns(**changes):
    def write(path):
        cols = {**good_columns(), **changes}
        np.savez(path, **{k: v for k, v in cols.items() if v is not None})
    return write


NAN_ROW = good_columns()["embeddings"].copy()
NAN_ROW[7] = np.nan

CASES = {
    "truncated": (write_truncated, "not a readable .npz"),
    "not_a_zip": (write_not_a_zip, "not a readable .npz"),
    "single_npy": (write_npy, "not an .npz archive"),
    "object_dtype": (with_columns(labels=np.array([object()] * 40)), "not a readable .npz"),
    "string_embeddings": (with_columns(embeddings=np.full((40, 4), "x")), "'embeddings' must hold real numbers"),
    "float_labels": (with_columns(labels=np.linspace(0, 1, 40)), "'labels' must hold integers"),
    "labels_wrong_length": (with_columns(labels=np.arange(39) % 5), "'labels' must have shape (40,)"),
    "embeddings_3d": (with_columns(embeddings=np.zeros((40, 2, 2), np.float32)), "must be 2-D"),
    "int_mask": (with_columns(is_query=np.ones(40, dtype=np.int64)), "'is_query' must be boolean"),
    "mask_wrong_length": (with_columns(is_gallery=np.ones(3, dtype=bool)), "'is_gallery' must have shape"),
    "nan_row": (with_columns(embeddings=NAN_ROW), "1 of 40 rows are not finite"),
    "zero_dimensions": (with_columns(embeddings=np.zeros((40, 0), np.float32)), "no dimensions"),
    "no_queries": (with_columns(is_query=np.zeros(40, dtype=bool)), "no queries"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_npz_gives_one_line_naming_the_file(case, tmp_path, capsys):
    write, words = CASES[case]
    path = tmp_path / "emb.npz"
    write(path)
    message = one_line_exit(capsys, ["--embeddings", str(path), "--metrics", "e_recall@1", "--out", str(tmp_path)])
    assert str(path) in message and words in message, message
    assert not (tmp_path / "eval_test.json").exists()


def test_metric_argument_beyond_the_data_names_the_metric_and_limit(tmp_path, capsys):
    path = tmp_path / "emb.npz"
    with_columns()(path)
    message = one_line_exit(capsys, ["--embeddings", str(path), "--metrics", "rho_spectrum@100000"])
    assert "--metrics rho_spectrum@100000" in message and "|k| <= 4" in message


def write_checkpoint_truncated(path):
    torch.save({"config": {"dataset": "glyphs"}, "model": {"w": torch.zeros(1000)}}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_checkpoint_text(path):
    path.write_text("this is not a checkpoint\n")


def write_checkpoint_list(path):
    torch.save([1, 2, 3], path)


def write_checkpoint_wrong_weights(path):
    import parameters
    from tests.conftest import TINY_GLYPHS
    torch.save({"config": vars(parameters.parse_args(TINY_GLYPHS)), "model": {"w": torch.zeros(2)}}, path)


@pytest.mark.parametrize("write, words", [
    (write_checkpoint_truncated, "not a readable torch checkpoint"),
    (write_checkpoint_text, "not a readable torch checkpoint"),
    (write_checkpoint_list, "not a dmlbench checkpoint"),
    (write_checkpoint_wrong_weights, "weights do not fit the architecture")],
    ids=["truncated", "text", "list", "wrong_weights"])
def test_corrupt_checkpoint_gives_one_line(write, words, tmp_path, capsys):
    path = tmp_path / "checkpoint_best.pt"
    write(path)
    message = one_line_exit(capsys, ["--checkpoint", str(path), "--device", "cpu"])
    assert str(path) in message and words in message, message


class Broken(torch.nn.Module):
    """A model whose embeddings hold a NaN row, as a diverged run produces."""

    def forward(self, x):
        out = x.clone()
        out[x[:, 0] == 3.0] = float("nan")
        return out


def items() -> TensorImageDataset:
    return TensorImageDataset(Table(np.arange(40) % 5, torch.arange(40, dtype=torch.float32)[:, None].repeat(1, 3)))


def test_non_finite_embeddings_in_a_run_fail_naming_the_split():
    with pytest.raises(ValueError) as err:
        evaluate_splits(Broken(), {"test": items()}, ["test"], ["e_recall@1"])
    assert str(err.value) == ("evaluation of the 'test' split: embeddings: 1 of 40 rows are not finite "
                              "in float32 (NaN, inf, or beyond +-3.4e38)")


@pytest.mark.slow
def test_python_dash_m_evaluation_starts_the_script(tmp_path):
    """``python -m evaluation`` still runs the tool, which now lives in the script evaluation_cli.py."""
    import subprocess
    import sys

    from conftest import ROOT
    proc = subprocess.run([sys.executable, "-m", "evaluation", "--embeddings", str(tmp_path / "none.npz")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.startswith(PREFIX) and "no such file" in proc.stderr
