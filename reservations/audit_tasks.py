"""Celery tasks of the stock audit: thin wrappers over ``reservations.audit`` that log counts.

Registered by name, so beat's entry (``reservations.audit_live_sessions``, every minute) and an
admin action (``audit_session_now.delay(session_id)``) work once the worker imports this module.
"""

from __future__ import annotations

import logging

from celery import shared_task

from plans.models import SaleSession
from reservations import audit

log = logging.getLogger(__name__)

AUDITED_STATES = (SaleSession.State.LOADED, SaleSession.State.LIVE)


@shared_task(name="reservations.audit_live_sessions", ignore_result=True)
def audit_live_sessions() -> dict[int, bool]:
    """Audit every session in Redis (loaded or live); returns session id -> balanced."""
    results = {}
    for session_id in SaleSession.objects.filter(state__in=AUDITED_STATES).values_list("pk", flat=True):
        try:
            results[session_id] = audit.audit_session(session_id).ok
        except Exception:
            # One broken session must not stop the others' audit.
            log.exception("stock audit of session %s failed", session_id)
            results[session_id] = False
    drifting = [session_id for session_id, ok in results.items() if not ok]
    log.info("stock audit: %d sessions checked, %d with drift %s", len(results), len(drifting), drifting or "")
    return results


@shared_task(name="reservations.audit_session_now", ignore_result=True)
def audit_session_now(session_id: int) -> bool:
    """Audit one session on demand (admin action); True when it balances."""
    return audit.audit_session(session_id).ok
