"""A pull fetches the provider's feed over real HTTP (JSON or CSV) and ingests it as a full feed."""

from decimal import Decimal

import pytest

from catalog.models import Product, Provider, SyncRun
from catalog.sync import NotPullProvider, pull_provider
from tests.factories import make_provider
from tests.support.product_records import as_csv, as_json, product_record


def _pull_provider(url: str, fmt: str) -> Provider:
    return make_provider("feedco", delivery=Provider.Delivery.PULL, feed_url=url, feed_format=fmt)


def test_json_feed_is_fetched_and_ingested(db, feed_server):
    records = [product_record(n) for n in range(3)] + [product_record(9, price="0")]
    provider = _pull_provider(feed_server.put("/products.json", as_json(records)), "json")

    run = pull_provider(provider, trigger=SyncRun.Trigger.OPERATOR)

    assert feed_server.requests == ["/products.json"]
    assert (run.status, run.trigger, run.created_count, run.rejected_count) == ("partial", "operator", 3, 1)
    assert run.rejections.get().external_id == "sku-9"
    assert set(Product.objects.values_list("external_id", flat=True)) == {"sku-0", "sku-1", "sku-2"}
    provider.refresh_from_db()
    assert provider.last_sync_state == "partial" and provider.last_attempt_at is not None


def test_csv_feed_is_fetched_and_ingested_with_blank_cells_as_defaults(db, feed_server):
    records = [product_record(1, currency="", category=""), product_record(2, price="12.5")]
    provider = _pull_provider(feed_server.put("/feed.csv", as_csv(records), "text/csv"), "csv")

    run = pull_provider(provider, trigger=SyncRun.Trigger.SCHEDULE)

    assert (run.status, run.created_count) == ("ok", 2)
    one = Product.objects.get(external_id="sku-1")
    assert (one.currency, one.category, one.latitude) == ("EUR", "", Decimal("48.851900"))
    assert one.raw["name"] == "Dinner for two #1" and "currency" not in one.raw
    assert Product.objects.get(external_id="sku-2").list_price == Decimal("12.50")

    again = pull_provider(provider, trigger=SyncRun.Trigger.SCHEDULE)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)


def test_wrapped_json_feed_is_accepted(db, feed_server):
    provider = _pull_provider(
        feed_server.put("/w.json", b'{"products": [' + as_json([product_record(1)])[1:-1] + b"]}"), "json"
    )
    assert pull_provider(provider, trigger=SyncRun.Trigger.OPERATOR).created_count == 1


@pytest.mark.parametrize(
    ("path", "body", "fmt", "message"),
    [
        ("/missing.json", None, "json", "The feed answered HTTP 404"),
        ("/broken.json", b"[{", "json", "The feed is not valid JSON"),
        ("/object.json", b'{"a": 1}', "json", "The JSON feed must be an array"),
        ("/latin1.csv", "name\ncaf\xe9\n".encode("latin-1"), "csv", "The CSV feed is not UTF-8"),
    ],
)
def test_unusable_feed_is_a_failed_run_that_touches_nothing(db, feed_server, fast_feeds, path, body, fmt, message):
    provider = _pull_provider(feed_server.url(path), fmt)
    existing = Product.objects.create(
        provider=provider, external_id="old", name="Old", list_price=1, latitude=1, longitude=1
    )
    if body is not None:
        feed_server.put(path, body)

    run = pull_provider(provider, trigger=SyncRun.Trigger.OPERATOR)

    assert run.status == "failed"
    assert run.error.startswith(message) and feed_server.url(path) in run.error
    existing.refresh_from_db()
    assert existing.is_active
    provider.refresh_from_db()
    assert provider.last_sync_state == "failed" and provider.last_synced_at is None


def test_push_provider_has_no_feed(db):
    with pytest.raises(NotPullProvider):
        pull_provider(make_provider("pushy"), trigger=SyncRun.Trigger.OPERATOR)
