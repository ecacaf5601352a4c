"""Load the bundled demo catalog through the same paths real deliveries take.

Push providers' files go through ``ingest_records`` exactly as the push API calls it (in
batches of CATALOG_MAX_BATCH); pull providers' feeds go through ``parse_feed`` and a full-feed
ingest, as a pull does after downloading. No network is needed. Running it again creates
nothing: every record comes back unchanged.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings

from catalog.demo import DEMO_DIR, MANIFEST, with_site_url
from catalog.feeds import parse_feed
from catalog.ingest import ingest_records
from catalog.models import Product, Provider, SyncRun


def seed_demo_catalog() -> list[str]:
    """Create the demo providers and deliver their products; return summary lines to print."""
    lines = []
    for entry in json.loads(MANIFEST.read_text()):
        provider, created = _demo_provider(entry)
        content = with_site_url((DEMO_DIR / entry["file"]).read_bytes())
        if provider.delivery == Provider.Delivery.PULL:
            records = parse_feed(content, fmt=provider.feed_format)
            runs = [ingest_records(provider, records, trigger=SyncRun.Trigger.OPERATOR, full_feed=True)]
        else:
            records = json.loads(content)
            size = settings.CATALOG_MAX_BATCH
            runs = [
                ingest_records(provider, records[start : start + size], trigger=SyncRun.Trigger.PUSH)
                for start in range(0, len(records), size)
            ]
        lines.append(
            f"{provider.slug} ({provider.delivery}{', new' if created else ''}): {len(records)} records, "
            f"{sum(r.created_count for r in runs)} created, {sum(r.updated_count for r in runs)} updated, "
            f"{sum(r.unchanged_count for r in runs)} unchanged, {sum(r.rejected_count for r in runs)} rejected"
        )
    active = Product.objects.filter(is_active=True)
    lines.append(
        f"catalog: {active.count()} active products from {active.values('provider').distinct().count()} providers "
        f"in {active.values('place').distinct().count()} cities"
    )
    return lines


def _demo_provider(entry: dict) -> tuple[Provider, bool]:
    defaults = {"name": entry["name"], "delivery": entry["delivery"]}
    if entry["delivery"] == Provider.Delivery.PULL:
        # The site serves the bundled feeds itself (CATALOG_DEMO_FEEDS), so the scheduled pull
        # of a running demo fetches them over real HTTP.
        defaults.update(
            feed_url=f"{settings.FLASHSALE_SITE_URL}/demo/feeds/{entry['file'].rsplit('/', 1)[-1]}",
            feed_format=entry["feed_format"],
            sync_interval=timedelta(minutes=entry["sync_interval_minutes"]),
        )
    return Provider.objects.get_or_create(slug=entry["slug"], defaults=defaults)
