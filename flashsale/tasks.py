"""Jobs of the project package: beat's heartbeat, and the second sweep of an ended account's tickets.

The heartbeat is a tiny periodic task whose stamp in Redis tells readiness that jobs still run: it is
written by a worker when beat's message reaches it, so an old stamp means beat, the broker or every
worker stopped (the expiry, drain and audit jobs are not running either).
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from flashsale.store import keys
from flashsale.store.client import default_redis

log = logging.getLogger(__name__)


def stamp_heartbeat(*, now: float | None = None) -> float:
    stamp = time.time() if now is None else now
    # The stamp outlives a few missed beats, then vanishes: "never" and "long ago" read the same.
    ttl = max(60, 10 * settings.FLASHSALE_BEAT_HEARTBEAT_SECONDS)
    default_redis().set(keys.beat_heartbeat(), repr(stamp), ex=ttl)
    return stamp


@shared_task(name="flashsale.tasks.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> float:
    """Stamp the heartbeat (beat: every FLASHSALE_BEAT_HEARTBEAT_SECONDS)."""
    return stamp_heartbeat()


@shared_task(name="flashsale.tasks.forget_tickets_of_sessions", ignore_result=True)
def forget_tickets_of_sessions(session_keys: list[str]) -> int:
    """Delete the reserve tickets of sessions already ended (``flashsale.accounts.end_access``); idempotent."""
    from reservations.tickets import forget_tickets

    forgotten = sum(forget_tickets(session_key) for session_key in session_keys)
    if forgotten:
        log.warning("%d reserve tickets written by requests in flight when their session ended", forgotten)
    return forgotten
