"""Periodic jobs of the reservation side; thin wrappers that log counts."""

from __future__ import annotations

import logging

from celery import shared_task

from flashsale import clock
from reservations import availability, drain, holds
from reservations.audit_tasks import audit_live_sessions, audit_session_now  # noqa: F401  (beat finds them here)

log = logging.getLogger(__name__)


@shared_task(name="reservations.tasks.expire_holds", ignore_result=True)
def expire_holds() -> int:
    """Release every due hold of every loaded session (beat: every 15 s)."""
    now = clock.now_ts()
    released = 0
    for session_id in availability.loaded_session_ids():
        count = holds.expire_holds(session_id, now=now)
        if count:
            log.info("session %s: %d holds expired", session_id, count)
        released += count
    return released


@shared_task(name="reservations.tasks.drain_transactions", ignore_result=True)
def drain_transactions() -> int:
    """Persist the reservation streams of loaded sessions to PostgreSQL (beat: every 2 s)."""
    handled = drain.drain_loaded_sessions()
    for session_id, count in handled.items():
        if count:
            log.info("session %s: %d stream events persisted", session_id, count)
    return sum(handled.values())
