"""Session fixtures of the cluster tests: a real single-node SLURM cluster and a PostgreSQL server.

Where a server cannot start, its tests are skipped with the reason, except in CI (``CI`` set),
where that is a failure: CI installs both (``.ci/run``).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import ServerUnavailable, start_postgres, start_slurm  # noqa: E402


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
    try:
        server = start_postgres()
    except ServerUnavailable as err:
        _unavailable(str(err))
    yield server
    server.stop()
