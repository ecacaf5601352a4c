"""Celery tasks of the catalog: thin wrappers over catalog.sync."""

from __future__ import annotations

import logging

from celery import shared_task

from catalog.models import Provider, SyncRun
from catalog.retention import prune_sync_runs as prune
from catalog.sync import claim, due_providers, pull_provider

logger = logging.getLogger(__name__)


@shared_task(name="catalog.tasks.sync_provider", ignore_result=True)
def sync_provider(provider_id: int, trigger: str = SyncRun.Trigger.SCHEDULE) -> dict | None:
    """Pull one provider's feed now."""
    provider = Provider.objects.filter(pk=provider_id, delivery=Provider.Delivery.PULL).first()
    if provider is None:
        logger.warning("catalog sync_provider: no pull provider with id %s", provider_id)
        return None
    run = pull_provider(provider, trigger=trigger)
    logger.info("catalog: pull of %s finished: run %s %s", provider.slug, run.pk, run.status)
    return {"provider": provider.slug, "run": run.pk, "status": run.status}


@shared_task(name="catalog.tasks.sync_due_providers", ignore_result=True)
def sync_due_providers() -> list[str]:
    """Run by beat every minute: enqueue a pull for each provider whose interval has elapsed."""
    queued = []
    for provider in due_providers():
        if claim(provider):
            sync_provider.delay(provider.pk, SyncRun.Trigger.SCHEDULE)
            queued.append(provider.slug)
    if queued:
        logger.info("catalog: queued pulls for %s", ", ".join(queued))
    return queued


@shared_task(name="catalog.tasks.prune_sync_runs", ignore_result=True)
def prune_sync_runs() -> dict:
    """Run by beat daily: delete sync runs older than CATALOG_SYNC_RUN_RETENTION_DAYS."""
    pruned = prune()
    if pruned.runs:
        logger.info("catalog: pruned %s sync runs and %s rejections", pruned.runs, pruned.rejections)
    return {"runs": pruned.runs, "rejections": pruned.rejections}
