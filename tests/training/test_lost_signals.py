"""No signal is lost: one that lands where Python drops exceptions (a ``__del__``, an at-fork
callback as DataLoader workers start) still stops the run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, TINY_GLYPHS
from training.interrupts import RunInterrupted, signals_raise


class SignalsWhenCollected:
    """Sends ``signum`` to this process from ``__del__``, where a raised exception is dropped."""

    def __init__(self, signum):
        self.signum = signum

    def __del__(self):
        os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_whose_exception_is_dropped_still_interrupts(signum, capsys):
    after = []
    with pytest.raises(RunInterrupted) as err:
        with signals_raise():
            obj = SignalsWhenCollected(signum)
            del obj                        # the handler's exception is "ignored" inside __del__
            after.append("ran on")         # ... so the block goes on, but its end raises it
    assert err.value.signum == signum and after == ["ran on"]
    assert "Exception ignored" not in capsys.readouterr().err


PRELUDE = """
import os, signal
import evaluation.engine as engine
from torch.utils.data import DataLoader

def signal_parent(worker_id):          # once, from the first evaluation worker forked
    try:
        os.close(os.open({marker!r}, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return
    os.kill(os.getppid(), signal.{name})

class SignallingLoader(DataLoader):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("worker_init_fn", signal_parent)
        super().__init__(*args, **kwargs)

engine.DataLoader = SignallingLoader
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_signal_while_evaluation_workers_fork_stops_the_run(tmp_path, name):
    """The signal is sent while the evaluation loader forks its workers; it used to be dropped
    in logging's at-fork callback, and the run ended ``completed``, exit 0."""
    argv = TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", "r", "--n_epochs", "2", "--kernels", "2",
                          "--no_train_metrics"]
    prelude = PRELUDE.format(marker=str(tmp_path / "sent"), name=name)
    code = f"import sys; sys.path.insert(0, {ROOT!r})\n{prelude}\nimport main; sys.exit(main.main({argv!r}))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    summary = json.load(open(tmp_path / "glyphs" / "r" / "summary.json"))
    assert proc.returncode == 128 + signal.Signals[name], proc.stderr[-1000:]
    assert summary["status"] == "failed" and summary["interrupted"] == name
    assert "Exception ignored" not in proc.stderr
