"""Pull providers' feeds: which providers are due, and one pull (fetch, then ingest as a full feed)."""

from __future__ import annotations

import logging
from datetime import datetime

from catalog.feeds import FeedError, fetch_feed
from catalog.ingest import IngestFailed, fail_run, ingest_records, start_run
from catalog.models import Provider, SyncRun
from flashsale import clock
from flashsale.progress import NO_PROGRESS, Progress

logger = logging.getLogger(__name__)


class NotPullProvider(Exception):
    """Only pull providers have a feed to fetch; push providers deliver through the API."""

    def __init__(self, provider: Provider):
        super().__init__(f"{provider.slug} is a {provider.delivery} provider; it has no feed to fetch.")
        self.provider = provider


def pull_provider(provider: Provider, *, trigger: str, progress: Progress = NO_PROGRESS) -> SyncRun:
    """Fetch the provider's feed and ingest it as its whole catalog; always returns the SyncRun.

    A feed that cannot be fetched or parsed leaves a failed run with the reason and touches no
    product.
    """
    if provider.delivery != Provider.Delivery.PULL or not provider.feed_url:
        raise NotPullProvider(provider)
    now = clock.now()
    Provider.objects.filter(pk=provider.pk).update(last_attempt_at=now)
    provider.last_attempt_at = now
    run = start_run(provider, trigger=trigger)
    try:
        records = fetch_feed(provider.feed_url, fmt=provider.feed_format)
    except FeedError as exc:
        logger.warning("catalog pull %s failed: %s (%s)", provider.slug, exc, exc.url)
        return fail_run(run, error=f"{exc} Feed: {exc.url}")
    try:
        return ingest_records(provider, records, trigger=trigger, full_feed=True, run=run, progress=progress)
    except IngestFailed as exc:
        return exc.run


def due_providers(now: datetime | None = None) -> list[Provider]:
    """Active pull providers whose sync interval has elapsed since their last attempt."""
    now = now or clock.now()
    candidates = Provider.objects.filter(
        is_active=True, delivery=Provider.Delivery.PULL, sync_interval__isnull=False
    ).exclude(feed_url="")
    return [
        p
        for p in candidates
        if p.sync_interval is not None and (p.last_attempt_at is None or p.last_attempt_at + p.sync_interval <= now)
    ]


def claim(provider: Provider, now: datetime | None = None) -> bool:
    """Mark the provider as being pulled now, unless someone else claimed it first.

    The conditional UPDATE makes the claim safe when two schedulers overlap: only one of them
    sees its row change.
    """
    now = now or clock.now()
    claimed = Provider.objects.filter(pk=provider.pk, last_attempt_at=provider.last_attempt_at).update(
        last_attempt_at=now
    )
    if claimed:
        provider.last_attempt_at = now
    return bool(claimed)
