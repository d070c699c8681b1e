"""--patience (early stopping on the validation metric, as powerful-benchmarker's) and --optim rmsprop
(the Reality Check's optimizer, momentum 0.9)."""
from __future__ import annotations

import json

import pytest
import torch

from conftest import TINY_GLYPHS, one_line_error
from training.optim import build_optimizer
from training.selection import patience_exhausted


def test_patience_counts_evaluations_since_the_selected_epoch():
    assert not patience_exhausted(0, 1, 50, 1)                   # 0: never
    assert not patience_exhausted(2, 1, 5, None)                 # nothing selected yet
    assert [patience_exhausted(2, 1, e, 3) for e in (3, 4, 5, 6)] == [False, False, True, True]
    assert [patience_exhausted(2, 2, e, 2) for e in (4, 6)] == [False, True]   # every 2nd epoch evaluated


def test_patience_needs_validation_selection(capsys):
    err = one_line_error(capsys, TINY_GLYPHS + ["--patience", "3"])
    assert "--patience 3 stops on the validation metric: add --selection val" in err


def test_rmsprop_with_momentum():
    optimizer = build_optimizer("rmsprop", [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 1e-6}])
    assert isinstance(optimizer, torch.optim.RMSprop) and optimizer.param_groups[0]["momentum"] == 0.9


@pytest.mark.slow
def test_a_run_stops_early_and_a_resume_has_nothing_to_do(tmp_path, capsys):
    import main
    argv = TINY_GLYPHS + ["--n_epochs", "12", "--use_tv_split", "--tv_split_by_samples", "--selection", "val",
                          "--patience", "1", "--optim", "rmsprop", "--lr", "1e-9", "--save_path", str(tmp_path),
                          "--savename", "r"]
    assert main.main(argv) == 0                                  # lr 1e-9: val never improves after epoch 1
    folder = tmp_path / "glyphs" / "r"
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["stopped_early"] is True
    assert summary["epochs_done"] < 12 and "early stop after epoch" in capsys.readouterr().out
    assert main.main(["--resume", str(folder)]) == 0
    assert "stopped early (--patience 1); nothing to do" in capsys.readouterr().out
