"""Persist reservation streams to PostgreSQL once, or continuously with --follow (make demo, compose)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from flashsale import clock, heartbeat
from reservations import availability, drain, holds


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
        try:
            while True:
                handled = self._pass(session, expire=expire, batch_size=batch_size)
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

    def _pass(self, session_id: int | None, *, expire: bool, batch_size: int) -> int:
        session_ids = [session_id] if session_id else availability.loaded_session_ids()
        handled = 0
        for sid in session_ids:
            if expire:
                holds.expire_holds(sid, now=clock.now_ts())
            handled += drain.drain_session(sid, batch_size=batch_size)
        return handled
