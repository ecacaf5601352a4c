"""Queuing a task while the Redis broker is frozen fails in seconds instead of holding the caller.

The drainer and the payment webhook queue mails once their transaction commits. Without a socket
timeout on the broker connection, a Redis frozen by SIGSTOP held them for as long as the freeze
lasted (found by ``make soak``: the drainer's pass stalled). The caller now gets the broker error,
logs the mail it could not queue and goes on.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.support.processes import site_environment

pytestmark = [pytest.mark.slow]

QUEUE_ONE_MAIL = """
import django, sys
django.setup()
from reservations import mails
mails._queue("send_payment_mail", "01JTESTTXN")
print("returned")
"""
# Far beyond the configured timeout and Celery's publish retries: only a caller that waits for the
# freeze to end (forever, here) reaches it.
GIVE_UP_AFTER = 90


def test_a_task_queued_while_the_broker_is_frozen_fails_and_the_caller_goes_on(processes):
    broker = processes.redis(aof=False, name="broker")
    env = site_environment(redis_url=broker.url)
    os.kill(broker.process.pid, signal.SIGSTOP)
    try:
        done = subprocess.run(
            [sys.executable, "-c", QUEUE_ONE_MAIL],
            env=env,
            capture_output=True,
            text=True,
            timeout=GIVE_UP_AFTER,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"queuing a task waited out the frozen broker ({GIVE_UP_AFTER} s)") from exc
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "returned"
    assert "could not queue send_payment_mail" in done.stderr
