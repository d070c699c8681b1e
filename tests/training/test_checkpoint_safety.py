"""A checkpoint is data: loading one (``--resume``, ``python -m evaluation --checkpoint``) never runs
code it holds, and checkpoints of the earlier format (numpy RNG state arrays) still load."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import main
from evaluation_cli import main as evaluate_main
from tests.training.test_faults import folder_of
from tests.training.test_resume_faults import argv_of, snapshot


class Payload:
    """Unpickled with ``weights_only=False``, it would run a shell command creating ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def poisoned(path: str, marker: str, base: dict | None = None) -> None:
    state = dict(base or {"config": {}, "model": {}})
    state["model"] = {**state["model"], "evil": Payload(marker)}
    torch.save(state, path)


def test_evaluation_refuses_a_checkpoint_that_would_run_code(tmp_path, capsys):
    marker, evil = tmp_path / "marker", tmp_path / "evil.pt"
    poisoned(str(evil), str(marker))
    with pytest.raises(SystemExit) as exc:
        evaluate_main(["--checkpoint", str(evil), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and str(evil) in err and "refused" in err, err
    assert not marker.exists()


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_that_would_run_code(tmp_path, capsys):
    argv = argv_of(tmp_path, "r", 1)
    folder = folder_of(argv)
    assert main.main(argv) == 0
    checkpoint = os.path.join(folder, "checkpoint_last.pt")
    marker = tmp_path / "marker"
    poisoned(checkpoint, str(marker), torch.load(checkpoint, weights_only=True))
    before = snapshot(folder)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main.main(["--resume", folder, "--n_epochs", "2"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and checkpoint in err and "refused" in err, err
    assert not marker.exists() and snapshot(folder) == before


@pytest.mark.slow
def test_checkpoint_holds_only_tensors_and_plain_values_and_the_earlier_format_resumes(tmp_path):
    """Saved checkpoints load with plain ``weights_only=True``; one whose numpy RNG state is the
    earlier uint32 array resumes to the straight run's metrics."""
    straight = argv_of(tmp_path / "s", "r", 2)
    assert main.main(straight) == 0
    argv = argv_of(tmp_path / "k", "r", 1)
    folder = folder_of(argv)
    assert main.main(argv) == 0
    checkpoint = os.path.join(folder, "checkpoint_last.pt")
    state = torch.load(checkpoint, weights_only=True)
    kind, keys, *rest = state["rng"]["numpy"]
    state["rng"]["numpy"] = (kind, np.asarray(keys, dtype=np.uint32), *rest)   # as written before
    torch.save(state, checkpoint)
    assert main.main(["--resume", folder, "--n_epochs", "2"]) == 0
    metrics = [open(os.path.join(f, "metrics.csv"), "rb").read() for f in (folder, folder_of(straight))]
    assert metrics[0] == metrics[1]
