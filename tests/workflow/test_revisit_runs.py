"""Revisit_Runs.sh: dry-run counts, the paper's facts, skip/resume logic, and failure reporting."""
from __future__ import annotations

import functools
import json
import os
import re
import shlex
import stat
import subprocess

import pytest

from tests.conftest import ROOT

SCRIPT = os.path.join(ROOT, "Revisit_Runs.sh")
STUB = """#!/usr/bin/env bash
# Stands in for "python main.py ...": writes a completed run folder, or fails for $FAIL_GROUP.
# For "python sweep_state.py FOLDER ...": the folder's .fake_state, else completed or stale.
if [ "${1##*/}" = sweep_state.py ]; then
  if [ -f "$2/.fake_state" ]; then cat "$2/.fake_state"
  elif grep -q completed "$2/summary.json"; then printf 'completed\\t\\n'
  else printf 'stale\\tit failed\\n'; fi
  exit 0
fi
shift
while [ $# -gt 0 ]; do
  case "$1" in --group) g=$2 ;; --seed) s=$2 ;; --save_path) p=$2 ;; --dataset) d=$2 ;; --resume) r=$2 ;; esac
  shift
done
echo "$g $s ${r:-fresh}" >> "$CALLS"
if [ "$g" = "${FAIL_GROUP:-}" ]; then echo "boom: $g failed" >&2; exit 3; fi
mkdir -p "$p/$d/${g}_s$s" && echo '{"status": "completed"}' > "$p/$d/${g}_s$s/summary.json"
"""


def run_script(*args: str, env: dict | None = None, cwd: str = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=60)


@functools.lru_cache(maxsize=None)
def _dry_run(section: str, extra: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    out = run_script(section, "--dry-run", "--save_path", "/nonexistent/save", *extra)
    assert out.returncode == 0, out.stderr
    return tuple(tuple(shlex.split(line)) for line in out.stdout.splitlines() if line.strip())


def commands(section: str, *extra: str) -> list[list[str]]:
    """The dry-run commands of a section (cached: each distinct call runs the script once)."""
    return [list(c) for c in _dry_run(section, extra)]


def flag(cmd: list[str], name: str, default: str | None = None) -> str | None:
    return cmd[cmd.index(name) + 1] if name in cmd else default


def test_dry_run_counts():
    paper = commands("paper")
    assert len(paper) == 335
    per_dataset = {d: sum(flag(c, "--dataset") == d for c in paper) for d in ("cub200", "cars196", "online_products")}
    assert per_dataset == {"cub200": 115, "cars196": 115, "online_products": 105}
    assert len(commands("cars196")) == 115
    assert len(commands("glyphs")) == 69


def test_paper_groups_seeds_and_names():
    cmds = commands("paper")
    groups = {flag(c, "--group") for c in cmds}
    assert len(groups) == 67
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", g) for g in groups)
    per_group = {g: sorted(flag(c, "--seed") for c in cmds if flag(c, "--group") == g) for g in groups}
    assert all(seeds == ["0", "1", "2", "3", "4"] for seeds in per_group.values())
    sop_losses = {flag(c, "--loss") for c in cmds if flag(c, "--dataset") == "online_products"}
    assert "proxynca" not in sop_losses and "softtriplet" not in sop_losses
    assert {flag(c, "--n_epochs") for c in cmds if flag(c, "--dataset") == "online_products"} == {"100"}
    assert {flag(c, "--n_epochs") for c in cmds if flag(c, "--dataset") != "online_products"} == {"150"}


def test_rho_cp_per_dataset():
    cps = {}
    for c in commands("paper"):
        if flag(c, "--batch_mining") == "rho_distance":
            key = (flag(c, "--loss"), flag(c, "--loss_margin_beta"))
            cps.setdefault(flag(c, "--dataset"), {})[key] = flag(c, "--miner_rho_distance_cp")
    assert cps["cub200"] == {("contrastive", None): "0.4", ("margin", "0.6"): "0.4",
                             ("margin", "1.2"): "0.35", ("triplet", None): "0.4", ("snr", None): "0.3"}
    assert set(cps["cars196"].values()) == {"0.35"} and len(cps["cars196"]) == 5
    assert set(cps["online_products"].values()) == {"0.15"} and len(cps["online_products"]) == 5


def test_glyphs_has_the_same_23_configurations():
    def config(c):
        return tuple(flag(c, k) for k in ("--loss", "--batch_mining", "--loss_margin_beta",
                                          "--miner_rho_distance_cp", "--loss_histogram_nbins"))
    glyphs = {config(c) for c in commands("glyphs", "--seeds", "0")}
    cub = {config(c) for c in commands("paper") if flag(c, "--dataset") == "cub200"}
    assert len(glyphs) == 23 and glyphs == cub


def test_seeds_option_and_extra_flags():
    cmds = commands("glyphs", "--seeds", "3,7", "--", "--log_online", "--project", "X")
    assert len(cmds) == 46 and {flag(c, "--seed") for c in cmds} == {"3", "7"}
    assert all(c[-3:] == ["--log_online", "--project", "X"] for c in cmds)


def test_bad_arguments_fail_with_one_line():
    for args in (["nosuch"], ["glyphs", "--jobs", "0"], ["glyphs", "--seeds", "a,b"]):
        out = run_script(*args, "--dry-run")
        assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)


def test_unknown_section_lists_every_valid_one():
    out = run_script("nosuch", "--dry-run")
    assert "valid: cub200, cars196, online_products, paper, glyphs" in out.stderr


@pytest.mark.slow
def test_a_bad_source_is_refused_once_before_any_run(tmp_path):
    """A typo in --source used to fail every run of the sweep one by one."""
    out = run_script("cub200", "--source", str(tmp_path / "no_such_folder"), "--save_path", str(tmp_path / "out"))
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert lines[0].startswith(f"Revisit_Runs.sh: --source {tmp_path / 'no_such_folder'}: ")
    assert not (tmp_path / "out").exists()                     # no log, no run folder


def saved_run(folder, cmd: list[str], **summary) -> None:
    """A run folder as main.py leaves it for the dry-run command ``cmd`` (config.json of its
    flags), with ``summary``."""
    import parameters
    from training.run_folder import public_config
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"flags": public_config(parameters.parse_args(cmd[2:]))},
                                                   default=str))
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))


def command_of(group: str, seed: str) -> list[str]:
    [cmd] = [c for c in commands("glyphs") if flag(c, "--group") == group and flag(c, "--seed") == seed]
    return cmd


@pytest.mark.slow
def test_dry_run_skips_completed_and_resumes_running(tmp_path):
    save = tmp_path / "runs"
    saved_run(save / "glyphs" / "GLY_Npair_s0", command_of("GLY_Npair", "0"), status="completed", epochs_done=6)
    killed = save / "glyphs" / "GLY_MS_s1"
    saved_run(killed, command_of("GLY_MS", "1"), status="running")
    (killed / "checkpoint_last.pt").write_bytes(b"x")
    out = run_script("glyphs", "--dry-run", "--save_path", str(save))
    cmds = [shlex.split(line) for line in out.stdout.splitlines()]
    assert len(cmds) == 68
    assert not any(flag(c, "--group") == "GLY_Npair" and flag(c, "--seed") == "0" for c in cmds)
    resumed = [c for c in cmds if "--resume" in c]
    assert len(resumed) == 1 and flag(resumed[0], "--resume") == str(killed)
    assert "completed, skipped: GLY_Npair_s0" in out.stderr


def test_sweep_state_asks_the_saved_configuration(tmp_path):
    """The reported case: after a 2-epoch smoke sweep, the 6-epoch sweep kept the 2-epoch results
    ("completed, skipped"). A run satisfies an entry only with the configuration it asks for."""
    import sweep_state
    cmd = command_of("GLY_MS", "0")
    smoke = [*cmd[:cmd.index("--n_epochs") + 1], "2", *cmd[cmd.index("--n_epochs") + 2:]]
    folder = tmp_path / "glyphs" / "GLY_MS_s0"
    saved_run(folder, smoke, status="completed", epochs_done=2)
    assert sweep_state.state(str(folder), cmd[2:]) == ("extend", "2 of 6 epochs trained")
    assert sweep_state.state(str(folder), smoke[2:]) == ("completed", "")
    other_lr = [*cmd[2:], "--lr", "0.5"]
    state, reason = sweep_state.state(str(folder), other_lr)
    assert state == "differs" and "--lr saved 0.001, sweep 0.5" in reason, reason
    longer = tmp_path / "longer"
    saved_run(longer, cmd, status="completed", epochs_done=6)
    assert sweep_state.state(str(longer), smoke[2:])[0] == "differs"        # more epochs than asked
    assert sweep_state.state(str(tmp_path / "none"), cmd[2:]) == ("new", "")
    killed = tmp_path / "killed"
    saved_run(killed, smoke, status="running", epochs_done=1)
    assert sweep_state.state(str(killed), cmd[2:]) == ("resumable", "1 of 6 epochs trained")
    failed = tmp_path / "failed"
    saved_run(failed, cmd, status="failed", error="boom")
    assert sweep_state.state(str(failed), cmd[2:]) == ("stale", "it failed: boom")
    assert sweep_state.state(str(folder), [*cmd[2:], "--loss", "nosuch"])[0] == "error"


def test_sweep_extends_shorter_runs_and_redoes_other_configurations(tmp_path):
    stub = tmp_path / "fake_python"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.txt"
    save = tmp_path / "runs"
    for name, fake in (("GLY_MS_s0", "extend\t2 of 6 epochs trained"), ("GLY_Softmax_s0", "differs\t--lr saved 0.5, sweep 0.001")):
        (save / "glyphs" / name).mkdir(parents=True)
        (save / "glyphs" / name / "summary.json").write_text('{"status": "completed"}')
        (save / "glyphs" / name / ".fake_state").write_text(fake + "\n")
    out = run_script("glyphs", "--seeds", "0", "--save_path", str(save), "--only", "^GLY_(MS|Softmax)$",
                     env={"PYTHON": str(stub), "CALLS": str(calls)})
    assert out.returncode == 0, out.stdout + out.stderr
    assert sorted(calls.read_text().splitlines()) == [
        f"GLY_MS 0 {save}/glyphs/GLY_MS_s0", "GLY_Softmax 0 fresh"]
    assert f"extending {save}/glyphs/GLY_MS_s0 (2 of 6 epochs trained)" in out.stdout
    assert "not the run this sweep asks for (--lr saved 0.5, sweep 0.001)" in out.stdout
    [aside] = os.listdir(save / "glyphs" / "_superseded")
    assert (save / "glyphs" / "_superseded" / aside / ".fake_state").exists()   # the old run is kept


def test_a_second_sweep_on_one_folder_is_refused(tmp_path):
    """The reported case: a second sweep on one --save_path truncated the first's live logs and
    both listed false failures. While one sweep holds the lock, another is refused in one line."""
    import fcntl
    logs = tmp_path / "runs" / "_logs" / "glyphs"
    logs.mkdir(parents=True)
    (logs / "GLY_MS_s0.log").write_text("epoch 1: ...\n")
    with open(logs / ".sweep.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)       # as the first sweep holds it
        out = run_script("glyphs", "--seeds", "0", "--only", "^GLY_MS$", "--save_path", str(tmp_path / "runs"),
                         env={"PYTHON": "false"})
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "another glyphs sweep is running on --save_path" in out.stderr and out.stdout == ""
    assert (logs / "GLY_MS_s0.log").read_text() == "epoch 1: ...\n"


def test_execution_reports_failures_and_reruns_only_what_is_left(tmp_path):
    stub = tmp_path / "fake_python"
    stub.write_text(STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.txt"
    env = {"PYTHON": str(stub), "CALLS": str(calls), "FAIL_GROUP": "GLY_SNR_Distance"}
    save = tmp_path / "runs"
    stale = save / "glyphs" / "GLY_Softmax_s0"
    stale.mkdir(parents=True)
    (stale / "summary.json").write_text('{"status": "failed", "error": "old"}')

    only = ("--only", "SNR|Softmax|MS")  # GLY_SNR_Distance, GLY_MS, GLY_Softmax, GLYreg_SNR_Distance
    out = run_script("glyphs", "--seeds", "0", "--jobs", "3", "--save_path", str(save), *only, env=env)
    assert out.returncode == 1
    assert "4 runs: 0 already completed, 4 run now, 1 failed" in out.stdout
    assert "GLY_SNR_Distance_s0" in out.stdout and "boom: GLY_SNR_Distance failed" in out.stdout
    assert len(calls.read_text().splitlines()) == 4
    assert (save / "glyphs" / "GLY_Softmax_s0" / "summary.json").read_text().count("completed")
    assert len(os.listdir(save / "glyphs" / "_superseded")) == 1
    assert (save / "_logs" / "glyphs" / "GLY_SNR_Distance_s0.log").exists()

    calls.write_text("")
    out = run_script("glyphs", "--seeds", "0", "--save_path", str(save), *only, env={**env, "FAIL_GROUP": ""})
    assert out.returncode == 0, out.stdout
    assert calls.read_text().split() == ["GLY_SNR_Distance", "0", "fresh"]
    assert "3 already completed, 1 run now, 0 failed" in out.stdout


KEY = "SECRETKEY123abc"


@pytest.mark.parametrize("args", [("--", "--log_online", "--wandb_key", KEY),
                                  ("--", "--log_online", f"--wandb_key={KEY}"),
                                  ("--wandb_key", KEY, "--", "--log_online")])
def test_dry_run_prints_no_wandb_key(args):
    out = run_script("glyphs", "--dry-run", "--save_path", "/nonexistent/save", "--seeds", "0", *args)
    assert out.returncode == 0, out.stderr
    assert KEY not in out.stdout + out.stderr
    cmds = [shlex.split(line) for line in out.stdout.splitlines()]
    assert len(cmds) == 23 and all(c[-1] == "--log_online" and "--wandb_key" not in c for c in cmds)
    assert "WANDB_API_KEY" in out.stderr


def test_runs_get_the_wandb_key_from_the_environment_only(tmp_path):
    stub = tmp_path / "fake_python"
    stub.write_text('#!/usr/bin/env bash\necho "env=${WANDB_API_KEY:-} args=$*" >> "$CALLS"\n')
    stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.txt"
    env = {"PYTHON": str(stub), "CALLS": str(calls), "WANDB_API_KEY": ""}
    out = run_script("glyphs", "--seeds", "0", "--only", "^GLY_MS$", "--save_path", str(tmp_path / "runs"),
                     "--", "--log_online", "--wandb_key", KEY, env=env)
    assert KEY not in out.stdout + out.stderr
    [call] = calls.read_text().splitlines()
    assert call.startswith(f"env={KEY} args=") and KEY not in call.split("args=")[1]
    assert call.endswith("--log_online")
