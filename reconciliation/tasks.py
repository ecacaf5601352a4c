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
