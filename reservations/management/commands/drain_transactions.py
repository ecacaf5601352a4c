"""Persist reservation streams to PostgreSQL once, or continuously with --follow (make demo, compose).

With --follow an outage of Redis or PostgreSQL (down, frozen, restarting, connections terminated)
is waited out: the pass is tried again, backing off up to ``OUTAGE_BACKOFF_MAX_SECONDS``, and
draining resumes where the stream's consumer group left off. A drainer that exited instead would
leave every later reservation unpersisted until someone restarted it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from flashsale import clock, heartbeat
from reservations import availability, drain, holds

log = logging.getLogger(__name__)

# What an outage of a store looks like to a pass (redis-py's BusyLoadingError, Redis replaying
# its AOF after a restart, is a ConnectionError).
OUTAGES = (RedisConnectionError, RedisTimeoutError, DatabaseError)
OUTAGE_BACKOFF_MAX_SECONDS = 5.0


class Command(BaseCommand):
    help = "Drain the reservation streams of loaded sessions into the Transaction table."

    def add_arguments(self, parser):
        parser.add_argument("--session", type=int, help="Only this session id.")
        parser.add_argument("--follow", action="store_true", help="Keep draining until interrupted.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between idle polls.")
        parser.add_argument("--expire", action="store_true", help="Also release due holds on each pass.")
        parser.add_argument(
            "--batch-size", type=int, default=None, help="Events per database transaction (FLASHSALE_DRAIN_BATCH_SIZE)."
        )
        parser.add_argument(
            "--heartbeat-file", default="", help="Touch this file after every pass (for a container healthcheck)."
        )

    def handle(
        self,
        *args,
        session=None,
        follow=False,
        interval=1.0,
        expire=False,
        batch_size=None,
        heartbeat_file="",
        **options,
    ):
        batch_size = batch_size or settings.FLASHSALE_DRAIN_BATCH_SIZE
        failures = 0
        try:
            while True:
                try:
                    handled = self._pass(session, expire=expire, batch_size=batch_size)
                except OUTAGES as exc:
                    if not follow:
                        raise
                    failures += 1
                    self._wait_out(exc, failures=failures, interval=interval)
                    continue
                if failures:
                    log.warning("drainer: stores answer again after %d failed passes; draining resumes", failures)
                    failures = 0
                if heartbeat_file:
                    heartbeat.touch(heartbeat_file)
                if not follow:
                    self.stdout.write(f"{handled} stream events persisted")
                    return
                if handled:
                    self.stdout.write(f"{handled} stream events persisted")
                else:
                    time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("stopped")

    @staticmethod
    def _wait_out(exc: Exception, *, failures: int, interval: float) -> None:
        if failures == 1:
            log.warning("drainer: a store is unavailable (%s: %s); retrying until it answers", type(exc).__name__, exc)
        # A broken database connection is not reused: the next pass opens a fresh one.
        connections.close_all()
        time.sleep(min(OUTAGE_BACKOFF_MAX_SECONDS, interval * 2 ** min(failures - 1, 6)))

    def _pass(self, session_id: int | None, *, expire: bool, batch_size: int) -> int:
        session_ids = [session_id] if session_id else availability.loaded_session_ids()
        handled = 0
        for sid in session_ids:
            if expire:
                holds.expire_holds(sid, now=clock.now_ts())
            handled += drain.drain_session(sid, batch_size=batch_size)
        return handled
