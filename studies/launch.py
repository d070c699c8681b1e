"""Start the workers of a study: in this process, as local processes, or as SLURM jobs.

All through submitit (no hand-written scheduler or sbatch text): ``submitit.LocalExecutor`` for
``--workers N`` on this machine, ``submitit.SlurmExecutor`` for ``--launcher slurm`` (partition,
GPUs per job, CPUs, time limit and any extra ``#SBATCH`` option). One worker in this process
when ``--workers 1`` and the launcher is local: nothing to start.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any, Callable

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


def check_launcher(launcher: str) -> None:
    """``--launcher slurm`` needs ``sbatch`` on this machine."""
    if launcher == "slurm" and shutil.which("sbatch") is None:
        raise StudyError("--launcher slurm: no 'sbatch' command on this machine (run the study on a "
                         "SLURM login node, or use --launcher local)")


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
            setup=[f"export PYTHONPATH={ROOT}:$PYTHONPATH", f"cd {ROOT}"],
            additional_parameters=slurm.additional())
        return executor
    os.environ["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    executor = submitit.LocalExecutor(folder=folder)
    executor.update_parameters(timeout_min=timeout_min)
    return executor


def run_jobs(calls: list[tuple[Callable[..., Any], tuple]], launcher: str, folder: str,
             slurm: SlurmOptions | None = None, in_process: bool = False) -> list[Any]:
    """Run ``fn(*args)`` for each call: one after the other in this process (``in_process``),
    else as submitit jobs; waits for all, returns their results in order."""
    if in_process:
        return [fn(*args) for fn, args in calls]
    executor = make_executor(launcher, folder, slurm)
    jobs = [executor.submit(fn, *args) for fn, args in calls]
    if launcher == "slurm":
        print("submitted SLURM jobs " + " ".join(str(j.job_id) for j in jobs) + f" (logs in {folder})", flush=True)
    return [job.result() for job in jobs]
