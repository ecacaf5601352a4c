"""A full feed marks products that vanished from it inactive (one UPDATE) and never deletes them."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.ingest import ingest_records
from catalog.models import Product, SyncRun
from tests.factories import make_provider
from tests.support.product_records import product_record


def test_products_missing_from_a_full_feed_become_inactive(db):
    provider = make_provider("feedco")
    ingest_records(provider, [product_record(n) for n in range(6)], trigger="operator", full_feed=True)
    other = make_provider("other")
    ingest_records(other, [product_record(1)], trigger="operator", full_feed=True)

    # sku-4 is still in the feed but invalid this time: it is kept as it was, not deactivated.
    feed = [product_record(0), product_record(1), product_record(2), product_record(4, price="bad")]
    with CaptureQueriesContext(connection) as ctx:
        run = ingest_records(provider, feed, trigger=SyncRun.Trigger.SCHEDULE, full_feed=True)

    assert (run.deactivated_count, run.unchanged_count, run.rejected_count) == (2, 3, 1)
    states = dict(Product.objects.filter(provider=provider).values_list("external_id", "is_active"))
    assert states == {"sku-0": True, "sku-1": True, "sku-2": True, "sku-3": False, "sku-4": True, "sku-5": False}
    assert Product.objects.get(provider=other).is_active
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "catalog_product"')]
    # One UPDATE for all of them ("false" on PostgreSQL, 0 on SQLite).
    assert len(updates) == 1 and re.search(r'SET "is_active" = (false|0)\b', updates[0])

    # Back in the feed: active again.
    back = ingest_records(provider, [product_record(n) for n in range(6)], trigger="schedule", full_feed=True)
    assert (back.updated_count, back.deactivated_count) == (2, 0)
    assert not Product.objects.filter(is_active=False).exists()


def test_push_is_never_a_full_feed(db):
    provider = make_provider("pushco")
    ingest_records(provider, [product_record(1), product_record(2)], trigger="push")
    run = ingest_records(provider, [product_record(3)], trigger="push")
    assert run.deactivated_count == 0
    assert Product.objects.filter(is_active=True).count() == 3


def test_feed_without_valid_records_deactivates_nothing(db):
    provider = make_provider("feedco")
    ingest_records(provider, [product_record(1)], trigger="operator", full_feed=True)

    empty = ingest_records(provider, [], trigger="schedule", full_feed=True)
    garbage = ingest_records(provider, [{"junk": True}], trigger="schedule", full_feed=True)

    for run in (empty, garbage):
        assert run.status == "failed" and run.deactivated_count == 0
        assert run.error == "The feed had no valid records; no product was deactivated."
    assert Product.objects.get().is_active
