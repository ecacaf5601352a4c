"""Throughput of the ingest path, for the benchmark suite and `manage.py ingest_benchmark`."""

from __future__ import annotations

import secrets
import time
from decimal import Decimal

from catalog.ingest import ingest_records
from catalog.models import Product, Provider, SyncRun


def synthetic_records(count: int, *, version: int = 0) -> list[dict]:
    """``count`` valid records spread over Europe; ``version`` changes every price."""
    return [
        {
            "external_id": f"bench-{n:07d}",
            "name": f"Benchmark product {n}",
            "description": "A product generated to measure ingest throughput.",
            "category": ("hotel", "restaurant", "spa", "concert")[n % 4],
            "price": str(Decimal(1000 + n % 9000 + version) / 100),
            "currency": "EUR",
            "latitude": f"{40 + (n % 1300) / 100:.6f}",
            "longitude": f"{-5 + (n % 2000) / 100:.6f}",
            "place": ("Paris", "Berlin", "Madrid", "Rome", "Amsterdam", "Vienna")[n % 6],
            "image_url": f"https://picsum.photos/seed/bench-{n}/400/300",
        }
        for n in range(count)
    ]


def measure_ingest(count: int) -> float:
    """Ingest ``count`` new products as one full feed; return products per second.

    Creates its own provider and removes it, its products and its runs afterwards.
    """
    records = synthetic_records(count)
    provider = Provider.objects.create(
        name="Ingest benchmark", slug=f"bench-ingest-{secrets.token_hex(4)}", delivery=Provider.Delivery.PUSH
    )
    try:
        started = time.perf_counter()
        run = ingest_records(provider, records, trigger=SyncRun.Trigger.OPERATOR, full_feed=True)
        elapsed = time.perf_counter() - started
        if run.created_count != count:
            raise RuntimeError(f"expected {count} products created, run {run.pk} says {run.created_count}")
        return count / elapsed
    finally:
        Product.objects.filter(provider=provider).delete()
        provider.delete()
