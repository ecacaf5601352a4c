"""A test run never empties a Redis database holding data it did not write, unless told to.

Runs pytest itself (one small test) against a private redis-server that holds a shop's key.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.processes import ROOT
from tests.support.redis_guard import ALLOW_ENV, MARKER

pytestmark = pytest.mark.slow

SMALL_TEST = "tests/packaging/test_heartbeat.py::test_the_probe_passes_a_fresh_file_and_fails_a_stale_or_missing_one"


def _pytest(redis_url: str, tmp_path, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != ALLOW_ENV}
    env.update(REDIS_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", **extra)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SMALL_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_database_with_someone_elses_keys_is_left_alone(processes, tmp_path):
    shop = processes.redis(aof=False).client()
    shop.set("orders:42", "paid")

    refused = _pytest(processes.started[-1].url, tmp_path)

    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "holds 1 key(s) no test run wrote" in refused.stdout
    assert f"{ALLOW_ENV}=1" in refused.stdout and "redis://127.0.0.1:6379/15" in refused.stdout
    assert shop.get("orders:42") == b"paid"

    allowed = _pytest(processes.started[-1].url, tmp_path, **{ALLOW_ENV: "1"})
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert shop.get("orders:42") is None
    assert shop.exists(MARKER)  # from now on the tests know this database as theirs


def test_a_database_the_tests_emptied_before_is_theirs(processes, tmp_path):
    server = processes.redis(aof=False)
    server.client().set(MARKER, "1")
    server.client().set("fs:left-by-a-crashed-run", "1")

    done = _pytest(server.url, tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
