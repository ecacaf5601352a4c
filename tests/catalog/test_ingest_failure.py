"""A delivery whose write fails lands nothing at all and leaves a failed run saying why."""

from decimal import Decimal

import pytest
from django.db import connection

from catalog.models import Product, SyncRun
from tests.support.product_records import product_record


@pytest.mark.postgres  # PostgreSQL DDL for the failing constraint
def test_database_failure_mid_delivery_rolls_back_every_chunk(push_provider, push, settings):
    settings.CATALOG_INGEST_CHUNK = 2
    with connection.cursor() as cursor:
        # A real constraint the serializer knows nothing about; the test's transaction drops it.
        cursor.execute("ALTER TABLE catalog_product ADD CONSTRAINT test_forbidden CHECK (name <> 'forbidden')")
    push(push_provider.slug, [product_record(1)], key=push_provider.key)

    batch = [product_record(1, price="1.00"), product_record(2), product_record(3), product_record(4, name="forbidden")]
    response = push(push_provider.slug, batch, key=push_provider.key)

    assert response.status_code == 503
    run = SyncRun.objects.latest("pk")
    assert response.json()["detail"] == f"The batch could not be stored (run {run.pk}); nothing landed."
    assert run.status == "failed" and "IntegrityError" in run.error and "test_forbidden" in run.error
    assert list(Product.objects.values_list("external_id", "list_price")) == [("sku-1", Decimal("89.00"))]
    push_provider.refresh_from_db()
    assert push_provider.last_sync_state == "failed"
