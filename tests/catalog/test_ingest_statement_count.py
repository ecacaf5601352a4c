"""Syncing a large feed uses a bounded number of SQL statements, not one per row."""

import pytest

from bench.ingest import synthetic_records
from catalog.ingest import ingest_records
from catalog.models import Product, SyncRun
from tests.factories import make_provider

pytestmark = pytest.mark.postgres


def test_5000_record_sync_stays_under_50_statements(db, django_assert_max_num_queries, settings):
    settings.CATALOG_INGEST_CHUNK = 1000
    provider = make_provider("bigfeed")
    records = synthetic_records(5000)
    records[17] = {**records[17], "price": "-1"}

    with django_assert_max_num_queries(50):
        created = ingest_records(provider, records, trigger=SyncRun.Trigger.SCHEDULE, full_feed=True)
    assert (created.created_count, created.rejected_count) == (4999, 1)

    changed = synthetic_records(5000, version=1)[:4000]  # new prices, and 1000 products vanish
    with django_assert_max_num_queries(50):
        updated = ingest_records(provider, changed, trigger=SyncRun.Trigger.SCHEDULE, full_feed=True)
    # bench-0000017 was rejected the first time, so now it is new.
    assert (updated.updated_count, updated.created_count, updated.deactivated_count) == (3999, 1, 1000)
    assert Product.objects.filter(provider=provider, is_active=True).count() == 4000
    assert str(Product.objects.get(external_id="bench-0000001").list_price) == "10.02"

    with django_assert_max_num_queries(50):
        same = ingest_records(provider, changed, trigger=SyncRun.Trigger.SCHEDULE, full_feed=True)
    assert (same.unchanged_count, same.updated_count, same.deactivated_count) == (4000, 0, 0)
