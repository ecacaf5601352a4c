"""Heartbeat files: beat's scheduler and the drainer touch them; the healthcheck command reads their age."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def _probe(path: Path, max_age: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flashsale.heartbeat", str(path), "--max-age", max_age],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_probe_passes_a_fresh_file_and_fails_a_stale_or_missing_one(tmp_path):
    beat = tmp_path / "beat.heartbeat"
    missing = _probe(beat, "60")
    assert missing.returncode == 1 and "no heartbeat yet" in missing.stderr
    beat.touch()
    assert _probe(beat, "60").returncode == 0
    an_hour_ago = time.time() - 3600
    os.utime(beat, (an_hour_ago, an_hour_ago))
    stale = _probe(beat, "60")
    assert stale.returncode == 1 and "more than 60s" in stale.stderr


@pytest.mark.django_db
def test_a_drain_pass_touches_its_heartbeat_file(tmp_path):
    beat = tmp_path / "drainer.heartbeat"
    call_command("drain_transactions", "--heartbeat-file", str(beat), stdout=StringIO())
    assert beat.exists()


# The database scheduler closes stale connections on its own, as beat does: not inside a test's transaction.
@pytest.mark.django_db(transaction=True)
def test_beats_scheduler_touches_its_heartbeat_file_on_every_tick(tmp_path, settings):
    from flashsale.beat import HeartbeatScheduler
    from flashsale.celery import app

    settings.FLASHSALE_BEAT_HEARTBEAT_FILE = str(tmp_path / "beat.heartbeat")
    scheduler = HeartbeatScheduler(app=app, lazy=True)
    scheduler.setup_schedule()
    scheduler.tick()
    assert (tmp_path / "beat.heartbeat").exists()
    assert app.conf.beat_scheduler == "flashsale.beat:HeartbeatScheduler"


@pytest.mark.django_db(transaction=True)
def test_beat_sends_a_heartbeat_as_it_starts(eager_celery, redis_conn):
    from flashsale.beat import HeartbeatScheduler
    from flashsale.readiness import heartbeat_age
    from flashsale.store import keys

    redis_conn.delete(keys.beat_heartbeat())
    assert heartbeat_age() is None
    HeartbeatScheduler(app=eager_celery, lazy=True).setup_schedule()
    # Run by a worker (here at once, eagerly) before the schedule's first interval is over.
    assert heartbeat_age() is not None
