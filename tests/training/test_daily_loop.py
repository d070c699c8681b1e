"""What a user meets after a run: --resume restores the run's flags, the console's final table is
the selected epoch's, run files keep the umask's permissions, and --kernels fits the machine."""
from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys

import pytest

import main
import parameters
from conftest import ROOT, TINY_GLYPHS


def run_folder(tmp_path, name: str) -> str:
    return os.path.join(str(tmp_path), "glyphs", name)


def test_resume_restores_every_saved_flag(tmp_path, capsys):
    argv = TINY_GLYPHS + ["--save_path", str(tmp_path), "--loss_margin_beta", "0.6", "--seed", "3",
                          "--group", "Margin_b06", "--n_epochs", "1", "--no_train_metrics"]
    assert main.main(argv) == 0
    folder = run_folder(tmp_path, "Margin_b06_s3")
    opt = parameters.parse_args(["--resume", folder, "--n_epochs", "2"])
    assert (opt.seed, opt.group, opt.loss_margin_beta, opt.n_epochs, opt.glyphs_n_classes) == (3, "Margin_b06", 0.6, 2, 16)
    assert opt.batch_mining == "distance" and opt.no_train_metrics
    assert main.main(["--resume", folder, "--n_epochs", "2"]) == 0
    assert json.load(open(os.path.join(folder, "summary.json")))["epochs_done"] == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--resume", folder, "--seed", "4", "--loss_margin_beta", "1.2"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0
    assert "--seed saved 3, typed 4" in err and "--loss_margin_beta saved 0.6, typed 1.2" in err


def test_final_table_is_the_selected_epoch_as_in_summary(tmp_path, capsys):
    argv = TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", "v", "--n_epochs", "3", "--use_tv_split",
                          "--selection", "val", "--no_train_metrics", "--glyphs_n_classes", "20"]
    assert main.main(argv) == 0
    out = capsys.readouterr().out
    summary = json.load(open(os.path.join(run_folder(tmp_path, "v"), "summary.json")))
    match = re.search(r"metrics at the selected epoch (\d+) \(--selection val", out)
    assert match and int(match.group(1)) == summary["best_epoch"]
    table = out[match.end():].split("\n\n")[0]
    test_row = next(line.split() for line in table.splitlines() if line.strip().startswith("test"))
    header = next(line.split() for line in table.splitlines() if line.strip().startswith("split"))
    for name, cell in zip(header[1:], test_row[1:]):
        assert cell == f"{summary['metrics'][name]:.4f}", name


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o002, 0o664)])
def test_run_files_keep_the_umask_permissions(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert main.main(TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", "p", "--n_epochs", "1",
                                        "--no_train_metrics"]) == 0
    finally:
        os.umask(old)
    folder = run_folder(tmp_path, "p")
    modes = {name: stat.S_IMODE(os.stat(os.path.join(folder, name)).st_mode) for name in os.listdir(folder)
             if not os.path.isdir(os.path.join(folder, name))}
    assert modes and all(m == mode for m in modes.values()), modes


def test_kernels_default_fits_the_machine():
    cores = len(os.sched_getaffinity(0))
    default = parameters.build_parser().get_default("kernels")
    assert default == parameters.default_workers() == max(1, min(cores, parameters.MAX_DEFAULT_WORKERS))
    assert 1 <= default <= cores


@pytest.mark.slow
def test_the_readme_resume_line_runs_verbatim(tmp_path):
    """The quick start's two lines: a run with --group, then the README's --resume line as written."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    first = next(line for line in readme.splitlines() if line.startswith("python main.py --loss margin --loss_margin_beta 0.6"))
    resume = next(line for line in readme.splitlines() if line.startswith("python main.py --resume "))
    i = TINY_GLYPHS.index("--seed")
    tiny = TINY_GLYPHS[:i] + TINY_GLYPHS[i + 2:] + ["--n_epochs", "1"]       # the README's own --seed 3
    env = dict(os.environ, PYTHONPATH=ROOT)
    for command in (shlex.split(first.split("#")[0])[2:] + tiny, shlex.split(resume.split("#")[0])[2:]):
        done = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *command], cwd=str(tmp_path),
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-800:]
    folder = tmp_path / "Training_Results" / "glyphs" / "Margin_b06_s3"
    summary = json.load(open(folder / "summary.json"))
    assert summary["status"] == "completed" and summary["epochs_done"] == int(shlex.split(resume)[-1])


def test_summary_wall_time_is_the_run_duration(tmp_path):
    import time
    start = time.time()
    assert main.main(TINY_GLYPHS + ["--save_path", str(tmp_path), "--savename", "w", "--n_epochs", "1",
                                    "--no_train_metrics"]) == 0
    wall = json.load(open(os.path.join(run_folder(tmp_path, "w"), "summary.json")))["wall_time_s"]
    assert 0 < wall <= time.time() - start + 1


def test_default_source_is_inside_the_checkout():
    default = parameters.build_parser().get_default("source_path")
    assert os.path.commonpath([default, ROOT]) == ROOT and os.path.basename(default) == "Datasets"
