"""Long commands show a progress bar on a terminal, plain lines in a pipe, nothing with --quiet.

The commands run as real processes (``manage.py load_session``) with their stderr on a
pseudo-terminal (the ``pty`` module) or on a pipe, against this run's database and Redis.
"""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from datetime import timedelta

import pytest
from django.conf import settings

from flashsale.progress import LineProgress, progress_for
from tests.factories import make_item, make_session
from tests.support.processes import ROOT, run_database_url

UNITS = 60_000  # two items of 30,000: the loader reports every 50,000 units it pushes


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_at_most_once_per_interval_with_rate_and_eta():
    out, clock = io.StringIO(), FakeClock()
    progress = LineProgress(out, interval=10, clock=clock)
    progress.start("session 3: units", 1000, unit="units")
    for _ in range(4):
        clock.now += 4
        progress.advance(100)
    progress.finish()
    assert out.getvalue().splitlines() == [
        "session 3: units: 0/1000 units (0%)",
        # 12 s after the start: the first line past the 10 s interval; 300 units in 12 s.
        "session 3: units: 300/1000 units (30%), 25 units/s, ETA 0:28",
        "session 3: units: done, 400 units in 0:16, 25 units/s",
    ]


def test_an_unknown_total_shows_count_and_rate_without_eta():
    out, clock = io.StringIO(), FakeClock()
    progress = LineProgress(out, interval=0, clock=clock)
    progress.start("2026-11-29: gateway orders", None, unit="orders")
    clock.now += 2
    progress.advance(50)
    assert out.getvalue().splitlines()[-1] == "2026-11-29: gateway orders: 50 orders, 25 orders/s"


def test_quiet_and_the_stream_decide_the_kind(settings):
    from flashsale.progress import NO_PROGRESS, BarProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_for(Tty(), quiet=True) is NO_PROGRESS
    assert isinstance(progress_for(Tty()), BarProgress)
    assert isinstance(progress_for(io.StringIO()), LineProgress)


@pytest.fixture
def big_session(transactional_db, redis_conn):
    session = make_session(opens_in=timedelta(hours=1), name="Big load")
    make_item(session, quantity=UNITS // 2, display_order=0)
    make_item(session, quantity=UNITS // 2, display_order=1)
    return session


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="flashsale.settings",
        DATABASE_URL=run_database_url(),
        REDIS_URL=settings.REDIS_URL,
        FLASHSALE_PROGRESS_LINE_SECONDS="0",
        LOG_LEVEL="WARNING",
        COLUMNS="100",
    )
    return env


def _load_command(session_id: int, *extra: str) -> list[str]:
    return [sys.executable, "manage.py", "load_session", str(session_id), *extra]


@pytest.mark.postgres
def test_in_a_pipe_the_command_prints_plain_lines(big_session):
    done = subprocess.run(
        _load_command(big_session.pk), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    prefix = f"session {big_session.pk}: units"
    assert lines[0] == f"{prefix}: 0/{UNITS} units (0%)"
    assert lines[1].startswith(f"{prefix}: 50000/{UNITS} units (83%), ") and "units/s, ETA " in lines[1]
    assert lines[2].startswith(f"{prefix}: {UNITS}/{UNITS} units (100%), ")
    assert lines[3].startswith(f"{prefix}: done, {UNITS} units in ")
    assert "\r" not in done.stderr
    assert done.stdout.startswith(f"Loaded session {big_session.pk}")


@pytest.mark.postgres
def test_on_a_terminal_the_command_draws_a_bar(big_session):
    leader, follower = pty.openpty()
    # A terminal window of 24 rows and 120 columns (a fresh pty has none, and tqdm sizes its bar to it).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    process = subprocess.Popen(
        _load_command(big_session.pk), cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=follower
    )
    os.close(follower)
    screen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the command closed the terminal: it has exited
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0, screen.decode(errors="replace")
    text = screen.decode(errors="replace")
    # tqdm redraws the line in place: carriage returns, a bar, the count, the rate and the time left.
    assert "\r" in text
    assert f"session {big_session.pk}: units: 100%|" in text
    assert f"{UNITS}/{UNITS}" in text and "units/s]" in text and "<" in text
    assert stdout.decode().startswith(f"Loaded session {big_session.pk}")


@pytest.mark.postgres
def test_quiet_prints_only_the_result(big_session):
    done = subprocess.run(
        _load_command(big_session.pk, "--quiet"), cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"Loaded session {big_session.pk}")


def _run(command: str, *args: str) -> tuple[str, str]:
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_prune_sync_runs_and_seed_demo_report_progress_unless_quiet(settings):
    settings.FLASHSALE_PROGRESS_LINE_SECONDS = 0
    settings.CATALOG_SYNC_RUN_RETENTION_DAYS = 30
    _, err = _run("prune_sync_runs")
    assert err.splitlines()[0] == "sync runs: 0 runs"
    assert err.splitlines()[-1].startswith("sync runs: done, 0 runs in ")
    _, err = _run("seed_demo")
    steps = len(settings.FLASHSALE_DEMO_SEEDERS)
    assert err.splitlines()[0] == f"demo data: 0/{steps} steps (0%)"
    assert f"demo data: {steps}/{steps} steps (100%)" in err
    for command in ("prune_sync_runs", "seed_demo"):
        assert _run(command, "--quiet")[1] == ""
