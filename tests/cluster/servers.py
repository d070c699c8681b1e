"""Throw-away servers for the cluster tests: a single-node SLURM cluster and a PostgreSQL server.

Each lives in its own temporary folder (configuration, keys, sockets, logs, state) and listens on
free loopback ports, so it never touches a system installation; :meth:`stop` ends its processes
and removes the folder. As root, PostgreSQL runs as the unprivileged ``postgres`` user.

The pytest fixtures at the end are session-scoped. Where a server cannot start, its tests are
skipped with the reason, except in CI (``CI`` set), where that is a failure: CI installs both
(``.ci/run``).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import pytest

MUNGED = "/usr/sbin/munged"
SLURMCTLD = "/usr/sbin/slurmctld"
SLURMD = "/usr/sbin/slurmd"
#: The newest PostgreSQL server installed by the distribution (Debian: /usr/lib/postgresql/<major>/bin).
PG_BIN = max(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit()
             else 0, default="/usr/lib/postgresql/15/bin")
PARTITION = "tests"


class ServerUnavailable(RuntimeError):
    """A server could not start on this machine (missing program, refused start)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _program(path: str) -> str:
    found = path if os.path.exists(path) else shutil.which(os.path.basename(path))
    if not found:
        raise ServerUnavailable(f"{os.path.basename(path)} is not installed")
    return found


def _wait(check, what: str, log: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = open(log, errors="replace").read()[-600:] if os.path.exists(log) else "(no log)"
    raise ServerUnavailable(f"{what} did not start within {timeout_s:.0f} s; log tail: {tail}")


def _kill_pidfile(path: str) -> None:
    try:
        pid = int(open(path).read().split()[0])
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, IndexError):
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


@dataclass
class SlurmCluster:
    """munged, slurmctld and slurmd on this host; ``env`` points the SLURM commands at it."""
    folder: str
    env: dict[str, str] = field(default_factory=dict)
    partition: str = PARTITION

    def stop(self) -> None:
        for name in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            _kill_pidfile(os.path.join(self.folder, name))
        shutil.rmtree(self.folder, ignore_errors=True)


def _slurm_conf(folder: str, host: str, munge_socket: str) -> str:
    cpus = os.cpu_count() or 1
    mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    user = pwd.getpwuid(os.getuid()).pw_name
    return "\n".join([
        "ClusterName=dmlbenchtests", f"SlurmctldHost={host}", f"SlurmctldPort={free_port()}",
        f"SlurmdPort={free_port()}", f"SlurmUser={user}", f"SlurmdUser={user}",
        "AuthType=auth/munge", "CredType=cred/munge", f"AuthInfo=socket={munge_socket}",
        f"StateSaveLocation={folder}/state", f"SlurmdSpoolDir={folder}/spool",
        f"SlurmctldPidFile={folder}/slurmctld.pid", f"SlurmdPidFile={folder}/slurmd.pid",
        f"SlurmctldLogFile={folder}/slurmctld.log", f"SlurmdLogFile={folder}/slurmd.log",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "MpiDefault=none",
        "SchedulerType=sched/backfill", "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core",
        "AccountingStorageType=accounting_storage/none", "JobAcctGatherType=jobacct_gather/none",
        "JobCompType=jobcomp/none", "ReturnToService=2", "SchedulerParameters=sched_interval=1",
        "MessageTimeout=10", "KillWait=2", "MinJobAge=2",
        f"NodeName={host} CPUs={cpus} RealMemory={max(1, mem_mb - 512)} State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes={host} Default=YES MaxTime=INFINITE State=UP", ""])


def start_slurm() -> SlurmCluster:
    """A single-node SLURM cluster without GPUs or job accounting, ready for ``sbatch``."""
    munged, ctld, slurmd = _program(MUNGED), _program(SLURMCTLD), _program(SLURMD)
    folder = tempfile.mkdtemp(prefix="dmlbench_slurm_")
    cluster = SlurmCluster(folder)
    try:
        for sub in ("state", "spool", "munge"):
            os.makedirs(os.path.join(folder, sub))
        os.chmod(os.path.join(folder, "munge"), 0o700)
        key = os.path.join(folder, "munge", "munge.key")
        with open(key, "wb") as fh:
            fh.write(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = os.path.join(folder, "munge", "munge.socket")
        subprocess.run([munged, "--force", f"--key-file={key}", f"--socket={sock}",
                        f"--pid-file={folder}/munged.pid", f"--log-file={folder}/munged.log",
                        f"--seed-file={folder}/munge/seed"], check=True, capture_output=True, timeout=30)
        host = socket.gethostname().split(".")[0]
        conf = os.path.join(folder, "slurm.conf")
        with open(conf, "w") as fh:
            fh.write(_slurm_conf(folder, host, sock))
        cluster.env = {"SLURM_CONF": conf}
        env = dict(os.environ, SLURM_CONF=conf)
        subprocess.run([ctld, "-c", "-f", conf], check=True, capture_output=True, env=env, timeout=30)
        subprocess.run([slurmd, "-f", conf], check=True, capture_output=True, env=env, timeout=30)

        def idle() -> bool:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=env)
            return out.returncode == 0 and out.stdout.strip() in ("idle", "mixed")
        _wait(idle, "the SLURM node", os.path.join(folder, "slurmd.log"))
    except (OSError, subprocess.SubprocessError, ServerUnavailable) as err:
        cluster.stop()
        detail = getattr(err, "stderr", b"") or b""
        raise ServerUnavailable(f"SLURM: {err} {detail.decode(errors='replace')[-300:]}".strip()) from None
    return cluster


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster; ``url`` is an SQLAlchemy URL of its ``postgres`` database."""
    folder: str
    url: str = ""
    runas: list[str] = field(default_factory=list)

    def stop(self) -> None:
        subprocess.run(self.runas + [os.path.join(PG_BIN, "pg_ctl"), "-D", os.path.join(self.folder, "data"),
                                     "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb a cluster in a temporary folder and start it on a free loopback port (unix socket
    in the folder, trust authentication for the loopback only)."""
    initdb, pg_ctl = _program(os.path.join(PG_BIN, "initdb")), _program(os.path.join(PG_BIN, "pg_ctl"))
    folder = tempfile.mkdtemp(prefix="dmlbench_pg_")
    runas: list[str] = []
    if os.getuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            raise ServerUnavailable("PostgreSQL: running as root and no 'postgres' user to run it") from None
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        os.chmod(folder, 0o755)
        runas = ["runuser", "-u", "postgres", "--"]
    server = Postgres(folder, runas=runas)
    port, data, log = free_port(), os.path.join(folder, "data"), os.path.join(folder, "server.log")
    try:
        subprocess.run(runas + [initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(runas + [pg_ctl, "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"],
                       check=True, capture_output=True, timeout=90)
    except (OSError, subprocess.SubprocessError) as err:
        server.stop()
        detail = getattr(err, "stderr", b"") or b""
        raise ServerUnavailable(f"PostgreSQL: {err} {detail.decode(errors='replace')[-300:]}".strip()) from None
    server.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    return server


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm_server():
    try:
        cluster = start_slurm()
    except ServerUnavailable as err:
        _unavailable(str(err))
    yield cluster
    cluster.stop()


@pytest.fixture
def slurm(slurm_server, monkeypatch):
    """The SLURM cluster, with ``SLURM_CONF`` pointing at it for this test; its jobs are
    cancelled afterwards."""
    for key, value in slurm_server.env.items():
        monkeypatch.setenv(key, value)
    yield slurm_server
    subprocess.run(["scancel", "--me"], capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def postgres_server():
    if not os.environ.get("CI"):
        pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed (requirements-cluster.txt)")
    try:
        server = start_postgres()
    except ServerUnavailable as err:
        _unavailable(str(err))
    yield server
    server.stop()
