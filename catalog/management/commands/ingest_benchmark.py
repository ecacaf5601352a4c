"""Measure ingest throughput: new products, then the same feed again (unchanged), then every price changed."""

from __future__ import annotations

import secrets
import time

from django.core.management.base import BaseCommand

from catalog.benchmarks import synthetic_records
from catalog.ingest import ingest_records
from catalog.models import Product, Provider, SyncRun


class Command(BaseCommand):
    help = "Time the ingest of COUNT synthetic products (create, unchanged, update) and clean up."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=50_000)

    def handle(self, *args, count: int, **options):
        provider = Provider.objects.create(name="Ingest benchmark", slug=f"bench-ingest-{secrets.token_hex(4)}")
        try:
            for label, records in (
                ("create", synthetic_records(count)),
                ("unchanged", synthetic_records(count)),
                ("update", synthetic_records(count, version=1)),
            ):
                started = time.perf_counter()
                run = ingest_records(provider, records, trigger=SyncRun.Trigger.OPERATOR, full_feed=True)
                elapsed = time.perf_counter() - started
                self.stdout.write(
                    f"{label:>9}: {count} records in {elapsed:.2f}s = {count / elapsed:,.0f} products/s "
                    f"(created {run.created_count}, updated {run.updated_count}, unchanged {run.unchanged_count})"
                )
        finally:
            Product.objects.filter(provider=provider).delete()
            provider.delete()
