"""Throughput of the catalog's ingest path: ``measure_ingest`` for ``make bench``, ``ingest_passes``
for ``python -m bench ingest`` (new products, the same feed again unchanged, every price changed)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class IngestPass:
    """One full feed of ``count`` records and what the sync run counted."""

    label: str
    count: int
    seconds: float
    created: int
    updated: int
    unchanged: int

    def line(self) -> str:
        return (
            f"{self.label:>9}: {self.count} records in {self.seconds:.2f}s = {self.count / self.seconds:,.0f} "
            f"products/s (created {self.created}, updated {self.updated}, unchanged {self.unchanged})"
        )


def ingest_passes(count: int) -> list[IngestPass]:
    """Ingest ``count`` new products, the same feed again (unchanged), then every price changed.

    Creates its own provider and removes it and its products afterwards.
    """
    provider = Provider.objects.create(name="Ingest benchmark", slug=f"bench-ingest-{secrets.token_hex(4)}")
    passes = []
    try:
        for label, records in (
            ("create", synthetic_records(count)),
            ("unchanged", synthetic_records(count)),
            ("update", synthetic_records(count, version=1)),
        ):
            started = time.perf_counter()
            run = ingest_records(provider, records, trigger=SyncRun.Trigger.OPERATOR, full_feed=True)
            passes.append(
                IngestPass(
                    label=label,
                    count=count,
                    seconds=time.perf_counter() - started,
                    created=run.created_count,
                    updated=run.updated_count,
                    unchanged=run.unchanged_count,
                )
            )
    finally:
        Product.objects.filter(provider=provider).delete()
        provider.delete()
    return passes
