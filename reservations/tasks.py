"""Periodic jobs of the reservation side; thin wrappers that log counts."""

from __future__ import annotations

import logging

from celery import shared_task

from flashsale import clock
from reservations import availability, drain, holds, mails, waiting_room
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


# Mails (reservations/mails.py): queued after the commit of what they tell; each is sent once however often
# a task runs. A mail server that does not answer is asked again, with growing pauses.
MAIL_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 15 * 60,
    "max_retries": 8,
    "ignore_result": True,
}


@shared_task(name="reservations.tasks.send_reservation_mails", **MAIL_RETRY)
def send_reservation_mails(txn_ids: list[str]) -> int:
    """Queued by the drainer once a batch of new reservations is committed: pay link and deadline."""
    return mails.send_reservation_mails(txn_ids)


@shared_task(name="reservations.tasks.send_payment_mail", **MAIL_RETRY)
def send_payment_mail(txn_id: str) -> bool:
    """Queued by the payment webhook once the payment is committed: the receipt."""
    return mails.send_payment_mail(txn_id)


@shared_task(name="reservations.tasks.send_refund_mail", **MAIL_RETRY)
def send_refund_mail(txn_id: str, amount: str, currency: str) -> bool:
    """Queued by reconciliation once a refund is recorded; ``amount`` is what the gateway gave back."""
    return mails.send_refund_mail(txn_id, amount, currency)


@shared_task(name="reservations.tasks.send_turn_mails", **MAIL_RETRY)
def send_turn_mails(session_id: int, turns: list[list[float]]) -> int:
    """Shoppers the waiting room admitted while they were not looking: "it is your turn"."""
    return mails.send_turn_mails(session_id, ((int(user), float(at)) for user, at in turns))


@shared_task(name="reservations.tasks.mail_turns", ignore_result=True)
def mail_turns() -> int:
    """Beat: hand the admissions the waiting rooms recorded to ``send_turn_mails``, one task per session."""
    queued = 0
    for session_id in availability.loaded_session_ids():
        turns = waiting_room.pending_turns(session_id)
        if not turns:
            continue
        send_turn_mails.delay(session_id, [[turn.user_id, turn.admitted_at] for turn in turns])
        waiting_room.forget_turns(session_id, len(turns))
        queued += len(turns)
    return queued
