"""Shared test set-up: the repository root on sys.path, tiny-run arguments, CPU-only torch."""
from __future__ import annotations

import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("DMLBENCH_CACHE", tempfile.mkdtemp(prefix="dmlbench_cache_"))   # not ~/.cache

# A glyphs run that takes about a second per epoch: 16 classes (8 train, 8 test) of 8 images at 16 px.
TINY_GLYPHS = ["--dataset", "glyphs", "--glyphs_n_classes", "16", "--glyphs_samples", "8",
               "--glyphs_image_size", "16", "--bs", "16", "--samples_per_class", "4",
               "--embed_dim", "16", "--arch_convnet_width", "8", "--kernels", "0", "--device", "cpu",
               "--evaluation_metrics", "e_recall@1", "e_recall@2", "nmi", "--seed", "0"]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: subprocess/torchrun/DDP start-ups, kill -9 runs and other multi-second tests; "
                   "deselect with -m 'not slow' (the plain `python -m pytest -q` runs them)")


def one_line_error(capsys, argv: list[str]) -> str:
    """The one stderr line of a refused ``parameters.parse_args(argv)`` (exit code 2)."""
    import parameters
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("main.py: error: "), err
    return err.strip()


@pytest.fixture
def tiny_argv(tmp_path):
    """Flags for a tiny glyphs run writing into a temporary save path."""
    return TINY_GLYPHS + ["--save_path", str(tmp_path / "runs"), "--savename", "tiny"]


@pytest.fixture
def tiny_opt(tiny_argv):
    """The parsed namespace of a tiny glyphs run (8 training classes, 1 channel)."""
    import parameters
    return parameters.parse_args(tiny_argv)

