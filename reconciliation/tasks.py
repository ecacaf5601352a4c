"""Thin Celery tasks around the daily reconciliation."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from celery import shared_task

from flashsale import clock
from reconciliation.matching import reconcile_day
from reconciliation.models import ReconciliationRun

log = logging.getLogger(__name__)


@shared_task(name="reconciliation.tasks.reconcile_previous_day")
def reconcile_previous_day() -> int:
    """Beat, daily at FLASHSALE_RECONCILE_AT: reconcile yesterday (UTC). Returns the run id."""
    day = clock.now().date() - timedelta(days=1)
    run = reconcile_day(day, trigger=ReconciliationRun.Trigger.SCHEDULE)
    log.info("reconciliation run %s of %s: %s", run.pk, day, run.status)
    return run.pk


@shared_task(name="reconciliation.tasks.reconcile_date")
def reconcile_date(day: str, user_id: int | None = None) -> int:
    """Reconcile a given day now (admin's "run now"); ``day`` is YYYY-MM-DD."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = reconcile_day(date.fromisoformat(day), trigger=ReconciliationRun.Trigger.ADMIN, user=user)
    return run.pk


@shared_task(name="reconciliation.tasks.retry_refunds")
def retry_refunds() -> int:
    """Beat, every FLASHSALE_REFUND_RETRY_EVERY_SECONDS: ask the gateway again for failed refunds that are due.

    Returns how many were done this time.
    """
    from reconciliation.compensation import retry_due_refunds

    results = retry_due_refunds()
    if results:
        log.info("retried %d refund(s): %d done", len(results), sum(r.done for r in results))
    return sum(r.done for r in results)
