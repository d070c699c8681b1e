"""Start the workers of a study: in this process, as local processes, or as SLURM jobs.

All through submitit (no hand-written scheduler or sbatch text): ``submitit.LocalExecutor`` for
``--workers N`` on this machine, ``submitit.SlurmExecutor`` for ``--launcher slurm`` (partition,
GPUs per job, CPUs, time limit and any extra ``#SBATCH`` option). One worker in this process
when ``--workers 1`` and the launcher is local: nothing to start.
"""
from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from studies import StudyError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class SlurmOptions:
    """The SLURM resources of one worker job; ``extra`` are ``KEY=VALUE`` sbatch options."""
    partition: str | None = None
    gpus: int = 1
    cpus: int = 8
    time_min: int = 24 * 60
    mem: str | None = None
    extra: list[str] = field(default_factory=list)

    def additional(self) -> dict[str, str]:
        out = {}
        for item in self.extra:
            key, sep, value = item.lstrip("-").partition("=")
            if not sep or not key:
                raise StudyError(f"--slurm_extra {item}: expected KEY=VALUE (an sbatch option, e.g. account=abc)")
            out[key.replace("-", "_")] = value
        return out


#: Seconds between two looks at the SLURM queue while the driver waits for its jobs.
POLL_S = 5.0
#: How many times a job that ended without a result (cancelled, killed, out of time) is submitted again.
MAX_RESUBMITS = 3


def check_launcher(launcher: str, slurm: SlurmOptions | None = None) -> None:
    """``--launcher slurm`` needs ``sbatch`` on this machine, and SLURM must accept the worker job
    as written (``sbatch --test-only`` on its very script: GPUs the cluster lacks, an unknown
    partition or account are refused here, before anything is submitted)."""
    if launcher != "slurm":
        return
    if shutil.which("sbatch") is None:
        raise StudyError("--launcher slurm: no 'sbatch' command on this machine (run the study on a "
                         "SLURM login node, or use --launcher local)")
    with tempfile.TemporaryDirectory(prefix="dmlbench_sbatch_check_") as folder:
        executor = make_executor("slurm", folder, slurm)
        script = os.path.join(folder, "job.sh")
        with open(script, "w") as fh:
            fh.write(executor._make_submission_file_text("true", "check"))
        try:
            out = subprocess.run(["sbatch", "--test-only", script], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise StudyError(f"--launcher slurm: sbatch --test-only failed ({err})") from None
    if out.returncode != 0:
        raise StudyError(f"--launcher slurm: SLURM refuses the worker job: {_sbatch_message(out.stderr)}")


def _sbatch_message(stderr: str) -> str:
    """sbatch's own error, on one line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()] or lines or ["(no message)"]
    return " ".join(errors)


def make_executor(launcher: str, folder: str, slurm: SlurmOptions | None = None,
                  timeout_min: int = 7 * 24 * 60) -> Any:
    """A submitit executor writing its logs into ``folder``."""
    import submitit
    if launcher == "slurm":
        slurm = slurm or SlurmOptions()
        executor = submitit.SlurmExecutor(folder=folder)
        executor.update_parameters(
            partition=slurm.partition, gpus_per_node=slurm.gpus or None, cpus_per_task=slurm.cpus,
            time=slurm.time_min, mem=slurm.mem, ntasks_per_node=1, job_name="dmlbench-study",
            setup=[f"export PYTHONPATH={shlex.quote(ROOT)}${{PYTHONPATH:+:$PYTHONPATH}}", f"cd {shlex.quote(ROOT)}"],
            additional_parameters=slurm.additional())
        return executor
    os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    executor = submitit.LocalExecutor(folder=folder)
    executor.update_parameters(timeout_min=timeout_min)
    return executor


def run_jobs(calls: list[tuple[Callable[..., Any], tuple]], launcher: str, folder: str,
             slurm: SlurmOptions | None = None, in_process: bool = False) -> list[Any]:
    """Run ``fn(*args)`` for each call: one after the other in this process (``in_process``),
    else as submitit jobs; waits for all (:func:`wait_jobs`), returns their results in order.
    Ctrl-C stops every job still running and raises :class:`KeyboardInterrupt` again."""
    if in_process:
        return [fn(*args) for fn, args in calls]
    executor = make_executor(launcher, folder, slurm)
    jobs = [_submit(executor, fn, args) for fn, args in calls]
    if launcher == "slurm":
        print("submitted SLURM jobs " + " ".join(str(j.job_id) for j in jobs) + f" (logs in {folder})", flush=True)
    try:
        return wait_jobs(executor, calls, jobs, launcher)
    except KeyboardInterrupt:
        for job in jobs:
            if not job.paths.result_pickle.exists():
                with contextlib.suppress(Exception):
                    job.cancel(check=False)
        raise


def _submit(executor: Any, fn: Callable[..., Any], args: tuple) -> Any:
    """One job; sbatch's refusal as a :class:`StudyError` (submitit would print it too)."""
    import submitit
    from submitit.core.utils import FailedJobError
    if isinstance(executor, submitit.LocalExecutor):
        with _output_to(os.path.join(str(executor.folder), "local_controllers.log")):
            return executor.submit(fn, *args)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return executor.submit(fn, *args)
    except FailedJobError as err:
        raise StudyError(f"--launcher slurm: sbatch refused a job: {_sbatch_message(str(err))}") from None


@contextlib.contextmanager
def _output_to(path: str) -> Iterator[None]:
    """Processes started inside write their stdout and stderr to ``path``: submitit's local job
    controller would otherwise print on the study's terminal (a traceback on Ctrl-C). The workers'
    own output goes to their log files either way."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + [target]:
            os.close(fd)


def queued_job_ids() -> set[str] | None:
    """The ids of this user's jobs that SLURM still has (pending, running, completing), from
    ``squeue`` (job accounting, ``sacct``, is not needed); ``None`` if squeue cannot answer now."""
    try:
        out = subprocess.run(["squeue", "--me", "-h", "-o", "%i"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(out.stdout.split()) if out.returncode == 0 else None


def _ended(job: Any, launcher: str, queued: set[str] | None) -> bool:
    """Whether a job without a result file has stopped (``queued``: :func:`queued_job_ids`)."""
    if launcher == "slurm":
        return queued is not None and str(job.job_id) not in queued
    return job.done()


def wait_jobs(executor: Any, calls: list[tuple[Callable[..., Any], tuple]], jobs: list[Any],
              launcher: str) -> list[Any]:
    """Wait for each job's result file; a job that ends without one (a SLURM job that leaves the
    queue: cancelled while pending or running, killed, out of time; a local worker killed) is
    submitted again, up to :data:`MAX_RESUBMITS` times in all, so the driver never waits for a job
    that will not come back. SLURM job states come from ``squeue``, never ``sacct``."""
    results: list[Any] = [None] * len(jobs)
    pending, resubmits = dict(enumerate(jobs)), 0
    while pending:
        queued = queued_job_ids() if launcher == "slurm" else None   # before the result files: a job
        for i, job in list(pending.items()):                        # ending in between has one
            if job.paths.result_pickle.exists():
                results[i] = job.result()
                del pending[i]
            elif _ended(job, launcher, queued):
                if resubmits >= MAX_RESUBMITS:
                    raise StudyError(f"job {job.job_id} ended without a result, and {MAX_RESUBMITS} jobs "
                                     f"were already submitted again; see its log in {job.paths.folder}")
                resubmits += 1
                pending[i] = _submit(executor, *calls[i])
                print(f"job {job.job_id} ended without a result (cancelled, killed or out of time); "
                      f"submitted it again as job {pending[i].job_id}", file=sys.stderr, flush=True)
        if pending:
            time.sleep(POLL_S if launcher == "slurm" else min(POLL_S, 1.0))
    return results
