"""A completed run on a read-only file system can be read whole: evaluated, aggregated, and a
``--resume`` of it refused in one line. The file system is a real read-only bind mount (root
only; skipped where ``mount`` is not allowed)."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess

import pytest

import main
import Result_Evaluations
from evaluation_cli import main as evaluate


@contextlib.contextmanager
def read_only_view(folder):
    """``folder`` seen through a read-only bind mount (writes fail with EROFS, even for root)."""
    view = f"{folder}_ro"
    os.makedirs(view)
    if subprocess.run(["mount", "--bind", str(folder), view], capture_output=True).returncode != 0:
        pytest.skip("a read-only bind mount needs root and mount(8)")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", view], capture_output=True).returncode != 0:
            pytest.skip("cannot remount the bind mount read-only")
        yield view
    finally:
        subprocess.run(["umount", view], capture_output=True)


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.slow
def test_a_read_only_run_is_evaluated_aggregated_and_refuses_resume_in_one_line(tiny_argv, tmp_path, capsys):
    assert main.main(tiny_argv + ["--n_epochs", "1"]) == 0
    results = tmp_path / "runs"
    out = tmp_path / "out"
    with read_only_view(results) as view:
        run = os.path.join(view, "glyphs", "tiny")
        before = {name: open(os.path.join(run, name), "rb").read() for name in sorted(os.listdir(run))
                  if os.path.isfile(os.path.join(run, name))}
        capsys.readouterr()
        # evaluation: the default output beside the checkpoint cannot be written: one line, exit 2 ...
        with pytest.raises(SystemExit) as exc:
            evaluate(["--checkpoint", os.path.join(run, "checkpoint_best.pt"), "--device", "cpu"])
        assert exc.value.code == 2 and "--out" in error_line(capsys)
        # ... and with --out it evaluates the run
        assert evaluate(["--checkpoint", os.path.join(run, "checkpoint_best.pt"), "--device", "cpu",
                         "--out", str(out)]) == 0
        assert json.loads((out / "eval_test.json").read_text())
        # aggregation: reading needs no write access; outputs go where --latex / --plots say
        assert Result_Evaluations.main(["--root", view, "--latex", os.path.join(view, "t.tex")]) == 2
        assert "--latex" in error_line(capsys)
        assert Result_Evaluations.main(["--root", view, "--latex", str(out / "t.tex"),
                                        "--plots", str(out / "plots")]) == 0
        assert (out / "t.tex").exists() and "1 runs found, 1 used" in capsys.readouterr().out
        # resume: a completed run with nothing left is "nothing to do"; continuing it is refused
        assert main.main(["--resume", run]) == 0
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            main.main(["--resume", run, "--n_epochs", "2"])
        assert exc.value.code == 2 and "not writable" in error_line(capsys)
        after = {name: open(os.path.join(run, name), "rb").read() for name in before}
        assert after == before
    shutil.rmtree(out)
